// panic(): report and stop every hart. In host tests it throws HostPanic instead,
// so a test can check that a double free or a corrupt structure is detected.
#pragma once

[[noreturn]] void panic(const char* fmt, ...) __attribute__((format(printf, 1, 2)));

namespace kern {
// Stop this hart for good: interrupts off, wfi forever (panic, stop IPIs).
[[noreturn]] void halt_this_hart();

// Held while a hart prints a fatal report (a trap, an overflow) before it
// panics: reports from two harts come out whole, one after the other, and
// panic() waits a moment for a report still being printed elsewhere before it
// powers off.
class [[nodiscard]] FatalReport {
public:
    FatalReport();
    ~FatalReport();
    FatalReport(const FatalReport&) = delete;
    FatalReport& operator=(const FatalReport&) = delete;
};
} // namespace kern

#define ZEST_STR2(x) #x
#define ZEST_STR(x) ZEST_STR2(x)

// assert that stays on in every build: kernel invariants are cheap to check
// and expensive to debug.
#define kassert(cond)                                                                   \
    do {                                                                                \
        if (!(cond)) [[unlikely]]                                                       \
            panic("assertion failed: %s at %s:%d", #cond, __FILE__, __LINE__);         \
    } while (0)
