// Reaping threads whose stacks are on swap, with memory for only a few of
// them at once: joined in the reverse of the order they come back in, every
// one must still finish, each stack read back exactly once.
//
// Before the reaper freed a joinable thread's stack at its exit, an exited
// thread kept its stack until join(): with the joiner waiting for the last
// thread while the others came in and exited, their stacks took all the
// memory, the swapper waited for pages for the last one and nothing moved
// (the fixed-stack capacity benchmark stopped this way with ~120,000 threads
// left to reap).
#include "test/kernel/ktest.h"
#include "test/kernel/kswap_test.h"
#include "kern/sched/thread.h"
#include "kstack/kstack.h"
#include "vm/pageout.h"

#include <atomic>

using kstack::StackState;
using namespace ktest::kswap;

namespace {

constexpr unsigned N = 96;
std::atomic<bool> g_release;

void reap_body(void*)
{
    while (!g_release.load(std::memory_order_acquire))
        kern::sched::sleep_us(60000000);
}

} // namespace

KTEST(kswap_reap_in_reverse_at_low_memory)
{
    if (no_swap_device("kswap_reap_in_reverse_at_low_memory"))
        return;
    // Fully mapped stacks: four pages each to read back.
    struct InitialPages {
        size_t saved = kstack::initial_pages();
        InitialPages() { kstack::set_initial_pages(kstack::STACK_PAGES); }
        ~InitialPages() { kstack::set_initial_pages(saved); }
    } pages;
    g_release.store(false);
    kern::Thread* th[N];
    for (unsigned i = 0; i < N; i++) {
        auto r = kern::thread::spawn({.name = "reapee", .entry = reap_body, .joinable = true});
        KEXPECT(r.ok());
        th[i] = r.value();
    }
    for (unsigned i = 0; i < N; i++)
        while (th[i]->state != kern::ThreadState::Sleeping || th[i]->on_cpu.load())
            kern::sched::sleep_us(1000);
    // Every one of them out (no idle threshold).
    for (unsigned round = 0; round < 8; round++) {
        unsigned out = 0;
        for (unsigned i = 0; i < N; i++)
            out += kstack::state(th[i]->stack) == StackState::Swapped;
        if (out == N)
            break;
        (void)kstack::swap::swap_out(kstack::swap::scratch(2), 1u << 20, 0);
    }
    unsigned swapped = 0;
    for (unsigned i = 0; i < N; i++)
        swapped += kstack::state(th[i]->stack) == StackState::Swapped;

    kstack::swap::Stats s0 = kstack::swap::stats();
    unsigned finished = 0, stack_kept = 0;
    uint64_t waited_us = 0;
    {
        // Memory for about eight stacks above where the swapper's
        // allocations stop, beyond the swap-in pool: far less than the N * 4
        // pages all of them need. Taken with the pagedaemon paused (running,
        // it would swap out what the hog takes from), which then runs as
        // always: it trims the stack caches the exited stacks go to.
        Hog hog;
        vm::pageout::pause();
        hog.take_all();
        for (uint64_t i = 0; i < vm::kmem::phys().watermarks().interrupt_min + 8 * kstack::STACK_PAGES; i++)
            vm::kmem::free_page(hog.pop());
        vm::pageout::resume();
        g_release.store(true, std::memory_order_release);
        for (unsigned i = 0; i < N; i++)
            (void)kern::sched::wake(th[i]);
        // Joined last first; a bound instead of join() so a stuck reap fails
        // the test instead of hanging the boot.
        uint64_t t0 = kern::timer::now_us();
        for (unsigned k = N; k-- > 0;) {
            while (!th[k]->exited.load(std::memory_order_acquire) && kern::timer::now_us() - t0 < 20000000)
                kern::sched::sleep_us(1000);
            if (!th[k]->exited.load(std::memory_order_acquire))
                break;
            finished++;
        }
        waited_us = kern::timer::now_us() - t0;
        // Exited and not yet joined: none may still hold its stack.
        for (unsigned i = 0; i < N; i++)
            if (th[i]->exited.load(std::memory_order_acquire) && th[i]->stack)
                stack_kept++;
    } // the hog's pages back: a stuck reap can finish now
    for (unsigned i = 0; i < N; i++)
        (void)kern::thread::join(th[i]);
    kstack::swap::Stats s1 = kstack::swap::stats();
    kprintf("ktest: kswap_reap_in_reverse_at_low_memory: %u of %u stacks swapped, %u of %u finished at low memory "
            "in %lu ms, %lu swapped in, %lu swapped out meanwhile, %u exited holding a stack\n",
            swapped, N, finished, N, waited_us / 1000, s1.swap_ins - s0.swap_ins, s1.swap_outs - s0.swap_outs,
            stack_kept);
    KEXPECT_EQ(swapped, N);
    KEXPECT_EQ(finished, N);
    KEXPECT_EQ(stack_kept, 0u);
    // Each stack read back once: none went out again before its thread ran.
    KEXPECT_EQ(s1.swap_ins - s0.swap_ins, uint64_t(N));
    KEXPECT(wait_settled(1000000));
}
