// Kernel tests of the lock checker (kern/sync/lockcheck.h) and the spin watchdog
// (kern/sync/spinwatch.h): wrong orders and the other rules reported (under
// ReportOnly, or as the panic an expected-panic boot checks), the cost of a
// lock/unlock pair, and two harts deadlocked on purpose.
#include "kern/seam/cpu.h"
#include "kern/arch/riscv/csr.h"
#include "test/kernel/ktest.h"
#include "kern/sync/lockcheck.h"
#include "kern/console/printf.h"
#include "kern/sync/spinlock.h"
#include "kern/sched/thread.h"
#include "kern/sync/wait.h"

#include <atomic>

using namespace kern;

namespace {
ksync::SpinLock g_outer {"lockcheck-outer"};
ksync::SpinLock g_inner {"lockcheck-inner"};
ksync::Mutex g_mutex {"lockcheck-mutex"};

// The right order, so the wrong one has another chain to show.
[[gnu::noinline]] void right_order()
{
    ksync::SpinGuard a(g_outer);
    ksync::SpinGuard b(g_inner);
}

[[gnu::noinline]] void wrong_order()
{
    ksync::SpinGuard b(g_inner);
    ksync::SpinGuard a(g_outer);
}
} // namespace

KTEST(lockcheck_reports_each_rule)
{
    KEXPECT(ksync::lockcheck::enabled());
    cpu::IrqGuard irqs; // ReportOnly is this hart's
    ksync::lockcheck::ReportOnly report;
    unsigned before = ksync::lockcheck::expected_violations();
    right_order();
    KEXPECT_EQ(ksync::lockcheck::expected_violations(), before);
    wrong_order();
    KEXPECT_EQ(ksync::lockcheck::expected_violations(), before + 1);
    // try_lock cannot deadlock: not order-checked.
    {
        ksync::SpinGuard b(g_inner);
        bool got = g_outer.try_lock();
        KEXPECT(got);
        if (got)
            g_outer.unlock();
    }
    KEXPECT_EQ(ksync::lockcheck::expected_violations(), before + 1);
    // A sleeping lock under a spinlock (uncontended: it does not sleep here).
    {
        ksync::SpinGuard a(g_outer);
        g_mutex.lock();
        g_mutex.unlock();
    }
    KEXPECT_EQ(ksync::lockcheck::expected_violations(), before + 2);
    // A switch with a spinlock other than the run-queue lock held: the hook
    // the scheduler calls before switch_context.
    {
        ksync::SpinGuard a(g_outer);
        ksync::lockcheck::before_switch();
    }
    KEXPECT_EQ(ksync::lockcheck::expected_violations(), before + 3);
    // A sleeping lock in an interrupt handler.
    ksync::lockcheck::irq_enter();
    g_mutex.lock();
    g_mutex.unlock();
    ksync::lockcheck::irq_exit();
    KEXPECT_EQ(ksync::lockcheck::expected_violations(), before + 4);
    KEXPECT_EQ(ksync::lockcheck::violations(), 0u);
}

// An expected-panic boot (test/run_all.py): the report shows both chains.
KTEST_EXPLICIT(lockcheck_panics_on_wrong_order)
{
    right_order();
    wrong_order();
    t.failf("the wrong order was not caught");
}

// Instructions per lock/unlock pair (exact under QEMU -icount), with the
// checker on (every ktest boot) or off (bootarg lockcheck=off).
namespace {
uint64_t pair_instructions(ksync::SpinLock& l)
{
    constexpr unsigned N = 1000;
    uint64_t best = ~0ull, empty = ~0ull;
    for (unsigned i = 0; i < N; i++) {
        uint64_t t0 = csr::rdinstret();
        uint64_t t1 = csr::rdinstret();
        l.lock();
        l.unlock();
        uint64_t t2 = csr::rdinstret();
        if (t1 - t0 < empty)
            empty = t1 - t0;
        if (t2 - t1 < best)
            best = t2 - t1;
    }
    return best - empty;
}
} // namespace

KTEST_EXPLICIT(lockcheck_cost)
{
    ksync::SpinLock l {"lockcheck-bench"};
    uint64_t alone = pair_instructions(l);
    uint64_t nested;
    {
        ksync::SpinGuard g(g_outer); // one lock held: one order check, one pair looked up
        nested = pair_instructions(l);
    }
    kprintf("lockcheck: lock+unlock pair: %lu instructions with checking %s (%lu with a lock held)\n", alone,
            ksync::lockcheck::enabled() ? "on" : "off", nested);
}

// ---- the spin watchdog -----------------------------------------------------------

namespace {
ksync::SpinLock g_spin_a {"spinwatch-a"};
ksync::SpinLock g_spin_b {"spinwatch-b"};
std::atomic<unsigned> g_holding;

[[gnu::noinline]] void take_second(ksync::SpinLock& first, ksync::SpinLock& second)
{
    first.lock();
    g_holding.fetch_add(1);
    while (g_holding.load() < 2) {
    }
    second.lock(); // never returns: the other hart holds it and spins on ours
    second.unlock();
    first.unlock();
}

[[gnu::noinline]] void deadlocker_a(void*) { take_second(g_spin_a, g_spin_b); }
[[gnu::noinline]] void deadlocker_b(void*) { take_second(g_spin_b, g_spin_a); }
} // namespace

// An expected-panic boot: each of two harts holds one lock and spins on the
// other's, with interrupts off; the watchdog must report both and panic.
KTEST_EXPLICIT(spinwatch_deadlock)
{
    if (cpu::count() < 3) {
        t.failf("needs 3 harts");
        return;
    }
    g_holding = 0;
    auto a = thread::spawn({.name = "deadlocker-a", .entry = deadlocker_a, .flags = TF_BOUND, .hart = 1,
                            .joinable = true});
    auto b = thread::spawn({.name = "deadlocker-b", .entry = deadlocker_b, .flags = TF_BOUND, .hart = 2,
                            .joinable = true});
    KEXPECT(a.ok() && b.ok());
    thread::join(a.value());
    t.failf("the deadlock was not reported");
}
