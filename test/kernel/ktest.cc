#include "test/kernel/ktest.h"

#include "boot/bootargs.h"
#include "kern/sync/lockcheck.h"
#include "kern/arch/riscv/power.h"
#include "kern/console/printf.h"
#include "kern/sched/sched.h"
#include "kern/sched/thread.h"
#include "vm/pageout.h"
#include "zalloc/registry.h"
#include "kern/arch/riscv/timer.h"
#include "lib/format.h"
#include "lib/name_pattern.h"

extern "C" const ktest::Test _ktests_start[], _ktests_end[];

namespace ktest {

void Context::fail(const char* file, int line, const char* what)
{
    if (!failed_)
        ksnprintf(reason_, sizeof reason_, "%s:%d: %s", file, line, what);
    failed_ = true;
}

void Context::failf(const char* fmt, ...)
{
    if (!failed_) {
        va_list ap;
        va_start(ap, fmt);
        lib::vformat_buf(reason_, sizeof reason_, fmt, ap);
        va_end(ap);
    }
    failed_ = true;
}

Quiet::Quiet()
{
    // Exited threads first: their stacks and objects go back as they are reaped.
    uint64_t last = ~0ull;
    for (int stable = 0, i = 0; stable < 3 && i < 500; i++) {
        kern::sched::sleep_us(5000);
        uint64_t pending = kern::thread::created_total() - kern::thread::reaped_total();
        stable = pending == last ? stable + 1 : 0;
        last = pending;
    }
    vm::pageout::pause();
    for (int i = 0; i < 4; i++)
        zalloc::poll_all();
}

Quiet::~Quiet() { vm::pageout::resume(); }

namespace {

// The test now running, for the watchdog.
const Test* volatile g_running;
volatile uint64_t g_started_us;
uint64_t g_limit_us = 120ull * 1000000; // per test; bootarg ktest_timeout=SECONDS

} // namespace

unsigned run(const char* pattern)
{
    unsigned passed = 0, failed = 0;
    kern::timer::set_tick_hook(watchdog_tick);
    for (const Test* t = _ktests_start; t < _ktests_end; t++) {
        if (!lib::name_matches(t->name, pattern, t->explicit_only))
            continue;
        Context ctx;
        uint64_t start = kern::timer::now_us();
        g_started_us = start;
        g_running = t;
        t->fn(ctx);
        g_running = nullptr;
        uint64_t ms = (kern::timer::now_us() - start) / 1000;
        if (ctx.failed()) {
            kprintf("ktest: FAIL %s: %s\n", t->name, ctx.reason());
            failed++;
        } else {
            kprintf("ktest: PASS %s (%lu ms)\n", t->name, ms);
            passed++;
        }
    }
    if (passed + failed == 0)
        kprintf("ktest: no test matches '%s'\n", pattern);
    // Before the summary line: the runner reads the boot as done at that line.
    ksync::lockcheck::print_summary();
    kprintf("ktest: %u passed, %u failed\n", passed, failed);
    return passed + failed == 0 ? 1 : failed;
}

// From the timer interrupt on hart 0: a test that runs past its limit is
// reported with a dump of every thread, and the run ends as a failure.
void watchdog_tick()
{
    const Test* t = g_running;
    if (!t || kern::timer::now_us() - g_started_us < g_limit_us)
        return;
    g_running = nullptr;
    kprintf("ktest: FAIL %s: still running after %lu s; threads:\n", t->name, g_limit_us / 1000000);
    kern::sched::dump();
    kprintf("ktest: watchdog ends the run\n");
    kern::power::poweroff_failure(4);
}

void run_from_bootargs(const char* pattern)
{
    uint64_t v;
    if (kern::bootargs::get_number("ktest_timeout", v) && v)
        g_limit_us = v * 1000000;
    unsigned failures = run(pattern);
    if (failures == 0)
        kern::power::poweroff_or_halt();
    kern::power::poweroff_failure(1);
}

} // namespace ktest
