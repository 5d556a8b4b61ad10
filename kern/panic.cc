// panic(): print the message and a backtrace on the hart that panicked, stop
// every other hart with an IPI, then power off with a failure status (so a
// test run under QEMU ends at once) or, without a way to power off, halt.
#include "kern/panic.h"

#include "kern/backtrace.h"
#include "kern/console.h"
#include "kern/cpu.h"
#include "kern/hart.h"
#include "kern/ipi.h"
#include "kern/power.h"
#include "kern/printf.h"
#include "kern/timer.h"

#include <atomic>

namespace {
std::atomic<int> g_panicking {-1};
std::atomic<int> g_reporting {0};
std::atomic<unsigned> g_report_lock {0};
} // namespace

namespace kern {
// A bare lock, not a SpinLock: it must work in any state, interrupts on or off.
FatalReport::FatalReport()
{
    g_reporting.fetch_add(1);
    while (g_report_lock.exchange(1, std::memory_order_acquire)) {
    }
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
    for (;;)
        asm volatile("wfi");
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

    kprintf("\npanic: hart %d (hartid %u): ", me, kern::this_hart().hartid);
    va_list ap;
    va_start(ap, fmt);
    kvprintf(fmt, ap);
    va_end(ap);
    kprintf("\n");
    kern::backtrace_here();
    kprintf("panic: system halted\n");
    // Another hart may be faulting at this very moment (two stacks overflowing
    // at once): give it a moment to start its report, then let every report
    // being printed finish. Bounded: a hart that died mid-report must not keep
    // us from powering off.
    uint64_t start = kern::timer::now_us();
    for (;;) {
        uint64_t waited = kern::timer::now_us() - start;
        if ((waited > 50000 && g_reporting.load() == 0) || waited > 3000000)
            break;
    }
    kern::power::poweroff_failure(2);
}
