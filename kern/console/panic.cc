// panic(): print the message and a backtrace on the hart that panicked, stop
// every other hart with an IPI, then power off with a failure status (so a
// test run under QEMU ends at once) or, without a way to power off, halt.
// Just before powering off it calls kern::debug_stop(), where gdb stops
// (tools/gdbinit).
#include "kern/console/panic.h"

#include "kern/console/backtrace.h"
#include "kern/console/console.h"
#include "kern/debug/debug_stop.h"
#include "kern/arch/riscv/csr.h"
#include "kern/arch/riscv/hart.h"
#include "kern/arch/riscv/ipi.h"
#include "kern/arch/riscv/power.h"
#include "kern/console/printf.h"
#include "kern/arch/riscv/timer.h"

#include <atomic>

namespace {
std::atomic<int> g_panicking {-1};
std::atomic<int> g_reporting {0};
std::atomic<unsigned> g_report_lock {0};
std::atomic<unsigned> g_halted {0}; // harts stopped for good (stop IPI, second panic)
} // namespace

namespace kern {
// A bare lock, not a SpinLock: it must work in any state, interrupts on or
// off. It holds the owner's hart index + 1, so that panic() on a hart already
// inside a report does not wait for itself.
FatalReport::FatalReport()
{
    g_reporting.fetch_add(1);
    unsigned mine = cpu::id() + 1, free = 0;
    while (!g_report_lock.compare_exchange_weak(free, mine, std::memory_order_acquire))
        free = 0;
}

FatalReport::~FatalReport()
{
    g_report_lock.store(0, std::memory_order_release);
    g_reporting.fetch_sub(1);
}
} // namespace kern

namespace kern {
bool panicking() { return g_panicking.load(std::memory_order_relaxed) >= 0; }

[[noreturn]] void halt_this_hart()
{
    cpu::irq_save();
    g_halted.fetch_add(1);
    for (;;)
        csr::wfi();
}
} // namespace kern

void panic(const char* fmt, ...)
{
    cpu::irq_save();
    int me = static_cast<int>(cpu::id());
    int expected = -1;
    if (!g_panicking.compare_exchange_strong(expected, me)) {
        // Another hart is already panicking (or this one panicked again inside
        // the panic path): stop here and let the first report finish.
        if (expected != me)
            kern::halt_this_hart();
        console::enter_panic_mode();
        kprintf("\npanic: recursive panic on hart %d\n", me);
        kern::power::poweroff_failure(3);
    }
    kern::ipi::broadcast_stop();
    console::enter_panic_mode();
    // A report another hart is printing right now comes out whole before this
    // message (the console is lock-free from here on, so lines would
    // interleave). Bounded, as below.
    uint64_t start = kern::timer::now_us();
    unsigned mine = static_cast<unsigned>(me) + 1, free = 0;
    bool locked = g_report_lock.load() == mine; // panicked inside its own report
    int own_reports = locked ? 1 : 0;
    while (!locked && kern::timer::now_us() - start < 3000000) {
        free = 0;
        locked = g_report_lock.compare_exchange_weak(free, mine, std::memory_order_acquire);
    }

    kprintf("\npanic: hart %d (hartid %u): ", me, kern::this_hart().hartid);
    va_list ap;
    va_start(ap, fmt);
    kvprintf(fmt, ap);
    va_end(ap);
    kprintf("\n");
    kern::backtrace_here();
    kprintf("panic: system halted\n");
    if (locked)
        g_report_lock.store(0, std::memory_order_release);
    // Another hart may be faulting at this very moment (two stacks overflowing
    // at once, with interrupts off, so it does not take the stop IPI): wait
    // until every other hart has stopped and no report is being printed. A
    // hart with interrupts on stops within microseconds; one faulting finishes
    // its report and stops in its own panic(). Bounded: a hart spinning with
    // interrupts off, or one that died mid-report, must not keep us from
    // powering off.
    unsigned others = 0;
    for (unsigned i = 0; i < cpu::MAX_HARTS; i++)
        if (static_cast<int>(i) != me && kern::hart(i).online.load())
            others++;
    start = kern::timer::now_us();
    for (;;) {
        uint64_t waited = kern::timer::now_us() - start;
        if ((g_halted.load() >= others && g_reporting.load() <= own_reports) || waited > 3000000)
            break;
    }
    // Every hart is stopped and the report is out: the moment for a debugger
    // (tools/gdbinit breaks here). Without one this returns at once.
    kern::debug_stop("panic");
    kern::power::poweroff_failure(2);
}
