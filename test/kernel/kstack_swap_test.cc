// Kernel stacks swapped out and back in: integrity, holds, wakeups racing the
// swap-out, memory driven to zero, and (explicit boots with a faulty or tiny
// swap disk) what happens when the device misbehaves.
#include "kern/ktest.h"
#include "kern/printf.h"
#include "kern/sched.h"
#include "kern/thread.h"
#include "kern/timer.h"
#include "kern/wait.h"
#include "kstack/kstack.h"
#include "kstack/swap.h"
#include "lib/random.h"
#include "test/kernel/sleepers.h"
#include "vm/kmem.h"
#include "vm/pageout.h"
#include "vm/swap.h"

using kstack::StackState;

namespace {

ktest::Sleepers g_sl;

bool no_swap_device(const char* test)
{
    if (vm::swap::enabled())
        return false;
    kprintf("ktest: %s: no swap device in this boot, nothing to check\n", test);
    return true;
}

// Wait until no stack is on its way anywhere and no woken thread waits for one.
bool wait_settled(uint64_t timeout_us)
{
    uint64_t end = kern::timer::now_us() + timeout_us;
    while (kstack::swap::swapin_queue_length() != 0) {
        if (kern::timer::now_us() > end)
            return false;
        kern::sched::sleep_us(2000);
    }
    return true;
}

// Take every free page (the interrupt class may take the last one) and keep
// them chained through themselves; give them back with release().
struct Hog {
    uint64_t head = 0;
    uint64_t pages = 0;
    uint64_t take(vm::kmem::Class c)
    {
        uint64_t n = 0;
        for (;;) {
            lib::Result<uint64_t> pa = vm::kmem::alloc_page(c, false);
            if (!pa.ok())
                return n;
            *static_cast<uint64_t*>(vm::kmem::phys_to_virt(pa.value())) = head;
            head = pa.value();
            pages++;
            n++;
        }
    }
    uint64_t release(uint64_t max = ~0ull)
    {
        uint64_t n = 0;
        while (head && n < max) {
            uint64_t next = *static_cast<uint64_t*>(vm::kmem::phys_to_virt(head));
            vm::kmem::free_page(head);
            head = next;
            pages--;
            n++;
        }
        return n;
    }
};

} // namespace

// Stacks written out, their pages freed, then every thread woken: each comes
// back through the swapper and finds every byte of its stack as it left it.
KTEST(kswap_round_trip)
{
    if (no_swap_device("kswap_round_trip"))
        return;
    constexpr unsigned N = 24;
    uint64_t pages0 = kstack::stats().object_pages;
    kstack::swap::Stats s0 = kstack::swap::stats();
    KEXPECT_EQ(g_sl.start(N, 20, 7), N);
    KEXPECT(g_sl.wait_asleep());
    kstack::swap::OutResult r = kstack::swap::swap_out(kstack::swap::scratch(2), N * kstack::STACK_PAGES, 0);
    KEXPECT(!r.full && !r.io_error);
    KEXPECT_EQ(g_sl.in_state(StackState::Swapped), N);
    KEXPECT(r.pages_freed >= N * kstack::STACK_PAGES);
    KEXPECT(kstack::stats().object_pages + N * kstack::STACK_PAGES <= pages0 + N * kstack::STACK_PAGES);
    g_sl.wake_all();
    KEXPECT_EQ(g_sl.join_all(), N);
    kstack::swap::Stats s1 = kstack::swap::stats();
    KEXPECT(s1.swap_ins - s0.swap_ins >= N);
    KEXPECT_EQ(s1.checksum_errors, s0.checksum_errors);
    KEXPECT_EQ(s1.killed, s0.killed);
}

// A thread asleep with a wait entry on its stack linked into a queue others
// walk holds its stack: never swapped, however long it sleeps. One asleep in
// a timed sleep next to it is swapped.
namespace {
struct HeldSleep {
    kern::WaitQueue q {"kswap-held"};
    std::atomic<bool> asleep {false};
    lib::Status result;
};
void held_sleeper(void* arg)
{
    auto* h = static_cast<HeldSleep*>(arg);
    h->asleep.store(true);
    h->result = h->q.wait(nullptr, 30000000);
}
} // namespace

KTEST(kswap_never_takes_a_held_stack)
{
    if (no_swap_device("kswap_never_takes_a_held_stack"))
        return;
    static HeldSleep h;
    auto held = kern::thread::spawn({.name = "held-sleeper", .entry = held_sleeper, .arg = &h, .joinable = true});
    KEXPECT(held.ok());
    KEXPECT_EQ(g_sl.start(1, 8, 11), 1u);
    KEXPECT(g_sl.wait_asleep());
    while (!h.asleep.load() || held.value()->state != kern::ThreadState::Sleeping || held.value()->on_cpu.load())
        kern::sched::sleep_us(1000);
    KEXPECT(held.value()->stack_holds.held());
    // Ask for far more than there is: every eligible stack goes.
    (void)kstack::swap::swap_out(kstack::swap::scratch(2), 1u << 20, 0);
    StackState held_state = kstack::state(held.value()->stack);
    StackState free_state = kstack::state(g_sl.thread(0)->stack);
    (void)h.q.wake_all();
    kern::thread::join(held.value());
    g_sl.wake_all();
    KEXPECT_EQ(g_sl.join_all(), 1u);
    KEXPECT(h.result.ok());
    KEXPECT(held_state == StackState::Resident);
    KEXPECT(free_state == StackState::Swapped);
}

// Wakeups racing the swap-out at every point: threads woken one by one while
// another thread keeps swapping them out. Whatever the interleaving, each
// wakes once, runs, and finds its data.
namespace {
std::atomic<bool> g_race_stop;
void swap_out_loop(void*)
{
    while (!g_race_stop.load())
        (void)kstack::swap::swap_out(kstack::swap::scratch(2), 64, 0);
}
} // namespace

KTEST(kswap_wakeups_race_swap_out)
{
    if (no_swap_device("kswap_wakeups_race_swap_out"))
        return;
    constexpr unsigned N = 64;
    kstack::swap::Stats s0 = kstack::swap::stats();
    KEXPECT_EQ(g_sl.start(N, 12, 23), N);
    KEXPECT(g_sl.wait_asleep());
    g_race_stop.store(false);
    auto pager = kern::thread::spawn({.name = "race-pager", .entry = swap_out_loop, .joinable = true});
    KEXPECT(pager.ok());
    lib::Random rng(99);
    for (unsigned i = 0; i < N; i++) {
        kern::sched::sleep_us(rng.below(3000));
        g_sl.wake(i);
    }
    g_race_stop.store(true);
    kern::thread::join(pager.value());
    KEXPECT_EQ(g_sl.join_all(), N);
    kstack::swap::Stats s1 = kstack::swap::stats();
    kprintf("ktest: kswap_wakeups_race_swap_out: %lu out, %lu in, %lu cancelled by the wakeup\n",
            s1.swap_outs - s0.swap_outs, s1.swap_ins - s0.swap_ins, s1.cancelled - s0.cancelled);
    KEXPECT(s1.swap_outs - s0.swap_outs > 0);
    KEXPECT_EQ(s1.stacks_swapped, s0.stacks_swapped);
}

// Free memory driven to zero with threads to swap: the pagedaemon must bring
// free pages back to free_target within a bound, with nothing from the
// allocator on its path able to wait. Then every thread is woken and checks
// its stack. Twenty seeds vary the thread count, stack depth and wake order.
KTEST(kswap_exhaustion_recovers)
{
    if (no_swap_device("kswap_exhaustion_recovers"))
        return;
    const vm::Watermarks& w = vm::kmem::phys().watermarks();
    constexpr uint64_t BOUND_US = 20000000;
    uint64_t base_threads = w.free_target / kstack::STACK_PAGES + 32;
    if (base_threads + 32 > ktest::Sleepers::MAX) {
        kprintf("ktest: kswap_exhaustion_recovers: free_target %lu pages needs more than %u threads; skipped\n",
                w.free_target, ktest::Sleepers::MAX);
        return;
    }
    uint64_t idle0 = kstack::swap::idle_us();
    kstack::swap::set_idle_us(50000);
    uint64_t worst_us = 0;
    for (uint64_t seed = 1; seed <= 20; seed++) {
        lib::Random rng(seed);
        unsigned n = unsigned(base_threads + rng.below(32));
        unsigned frames = 4 + unsigned(rng.below(18));
        kstack::swap::Stats s0 = kstack::swap::stats();
        KEXPECT_EQ(g_sl.start(n, frames, seed), n);
        KEXPECT(g_sl.wait_asleep());
        kern::sched::sleep_us(100000); // past the idle threshold
        Hog hog;
        (void)hog.take(vm::kmem::Class::Interrupt);
        uint64_t at_zero = vm::kmem::free_pages();
        uint64_t t0 = kern::timer::now_us();
        vm::pageout::wake();
        while (vm::kmem::free_pages() < w.free_target && kern::timer::now_us() - t0 < BOUND_US)
            kern::sched::sleep_us(1000);
        uint64_t took = kern::timer::now_us() - t0;
        uint64_t free_after = vm::kmem::free_pages();
        hog.release();
        // Wake in a random order.
        for (unsigned i = n; i > 1; i--) {
            unsigned j = unsigned(rng.below(i));
            g_sl.wake(j);
            g_sl.wake(i - 1);
        }
        g_sl.wake(0);
        unsigned ok = g_sl.join_all();
        kstack::swap::Stats s1 = kstack::swap::stats();
        kprintf("ktest: kswap_exhaustion_recovers: seed %lu: %u threads %u frames deep; free %lu at the floor, "
                "%lu (target %lu) after %lu ms; %lu stacks out, %lu in\n",
                seed, n, frames, at_zero, free_after, w.free_target, took / 1000, s1.swap_outs - s0.swap_outs,
                s1.swap_ins - s0.swap_ins);
        if (took > worst_us)
            worst_us = took;
        KEXPECT(at_zero == 0);
        KEXPECT(free_after >= w.free_target);
        KEXPECT_EQ(ok, n);
        KEXPECT(wait_settled(BOUND_US));
        KEXPECT_EQ(s1.checksum_errors, s0.checksum_errors);
        KEXPECT_EQ(s1.killed, s0.killed);
    }
    kstack::swap::set_idle_us(idle0);
    kprintf("ktest: kswap_exhaustion_recovers: 20 seeds, worst recovery to free_target %lu ms\n", worst_us / 1000);
}
