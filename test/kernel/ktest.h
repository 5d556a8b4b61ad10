// In-kernel tests. KTEST(name) { ... } registers a test in the .ktests
// section; bootarg ktest=PATTERN runs the matching ones after boot, prints
// "ktest: PASS name" or "ktest: FAIL name: reason" for each, then
// "ktest: N passed, N failed", and powers off (QEMU exit status 0 only if all
// passed). PATTERN: "all", a name, a prefix ending in '*', or a comma list; "-ENTRY" leaves ENTRY out.
// Tests registered with KTEST_EXPLICIT (for instance ones that panic on
// purpose) run only when named exactly.
#pragma once

#include <cstdint>

namespace ktest {

class Context {
public:
    // Record a failure (the first one is reported) and keep going.
    void fail(const char* file, int line, const char* what);
    void failf(const char* fmt, ...) __attribute__((format(printf, 2, 3)));
    [[nodiscard]] bool failed() const { return failed_; }
    [[nodiscard]] const char* reason() const { return reason_; }

private:
    bool failed_ = false;
    char reason_[160] = {};
};

struct Test {
    const char* name;
    void (*fn)(Context&);
    bool explicit_only;
};

// For tests that count pages or objects exactly: waits until exited threads
// are reaped and zones have given back what they will, then holds background
// memory work (the pagedaemon) still until the Quiet goes out of scope.
class [[nodiscard]] Quiet {
public:
    Quiet();
    ~Quiet();
    Quiet(const Quiet&) = delete;
    Quiet& operator=(const Quiet&) = delete;
};

// Run the tests matching `pattern`; returns the number of failures.
unsigned run(const char* pattern);
// The timer interrupt calls this on hart 0: ends a hung test run with a report.
void watchdog_tick();
// Called from kmain when bootarg ktest= is present: run, report, power off.
[[noreturn]] void run_from_bootargs(const char* pattern);

} // namespace ktest

#define KTEST_REGISTER_(name, explicit_only)                                                   \
    static void ktest_fn_##name(ktest::Context& t);                                            \
    [[gnu::used, gnu::section(".ktests")]] static const ktest::Test ktest_desc_##name = {      \
        #name, ktest_fn_##name, explicit_only};                                                \
    static void ktest_fn_##name([[maybe_unused]] ktest::Context& t)

#define KTEST(name) KTEST_REGISTER_(name, false)
#define KTEST_EXPLICIT(name) KTEST_REGISTER_(name, true)

// Check a condition; on failure record it and leave the test.
#define KEXPECT(cond)                                   \
    do {                                                \
        if (!(cond)) {                                  \
            t.fail(__FILE__, __LINE__, #cond);          \
            return;                                     \
        }                                               \
    } while (0)

// Check two integers for equality, showing both values on failure.
#define KEXPECT_EQ(a, b)                                                                          \
    do {                                                                                          \
        auto va_ = (a);                                                                           \
        auto vb_ = (b);                                                                           \
        if (!(va_ == vb_)) {                                                                      \
            t.failf("%s:%d: %s == %s (%ld vs %ld)", __FILE__, __LINE__, #a, #b, long(va_), long(vb_)); \
            return;                                                                               \
        }                                                                                         \
    } while (0)
