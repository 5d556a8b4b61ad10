// What a thread whose stack is on swap keeps resident, measured from free
// pages (not from sizeof): its Thread, its stack record, its swap record,
// its share of the stack region's page tables and of the zones' slabs.
// Shared by the kbench (swap_capacity_bench.cc: capacity_bytes_per_swapped_thread)
// and the ktest that holds it under a limit (kstack_swap_resident_test.cc).
#pragma once

#include "kern/sched/sched.h"
#include "kern/sched/thread.h"
#include "kstack/kstack.h"
#include "kstack/swap.h"
#include "vm/kmem.h"

#include <atomic>
#include <cstdint>

namespace ktest::swapres {

struct Cost {
    unsigned threads = 0;  // created
    unsigned swapped = 0;  // of them, with the stack on swap when measured
    uint64_t pages = 0;    // free pages gone between before and after
    uint64_t bytes_per_thread = 0;
    const char* why = "";  // empty: measured
};

inline std::atomic<bool> g_release;

inline void body(void*)
{
    while (!g_release.load())
        kern::sched::sleep_us(3600ull * 1000000);
}

// Swap out everything that can go until a pass frees nothing.
inline void swap_out_all()
{
    for (int i = 0; i < 1000; i++) {
        kstack::swap::OutResult r = kstack::swap::swap_out(kstack::swap::scratch(2), 1u << 20, 0);
        if (r.stacks == 0 || r.full || r.io_error)
            return;
    }
}

// n threads asleep with their stacks swapped out: free pages before they are
// created minus free pages then, per thread. Everything else swappable is
// swapped out first, so only these threads' stacks go in between. The
// threads are then woken and joined (their stacks come back). th[] holds n.
inline Cost measure(kern::Thread** th, unsigned n)
{
    Cost c;
    uint64_t saved_idle = kstack::swap::idle_us();
    kstack::swap::set_idle_us(3600ull * 1000000); // no pagedaemon swap-outs meanwhile
    g_release.store(false);
    (void)kstack::drop_caches();
    swap_out_all();
    uint64_t free0 = vm::kmem::free_pages();
    for (; c.threads < n; c.threads++) {
        auto r = kern::thread::spawn({.name = "swapres", .entry = body, .joinable = true, .may_block = false});
        if (!r.ok())
            break;
        th[c.threads] = r.value();
    }
    if (c.threads < n)
        c.why = "creation failed";
    for (uint64_t end = kern::timer::now_us() + 10000000; kern::timer::now_us() < end;) {
        unsigned asleep = 0;
        for (unsigned i = 0; i < c.threads; i++)
            asleep += th[i]->state == kern::ThreadState::Sleeping && !th[i]->on_cpu.load();
        if (asleep == c.threads)
            break;
        kern::sched::sleep_us(2000);
    }
    swap_out_all();
    for (unsigned i = 0; i < c.threads; i++)
        c.swapped += kstack::state(th[i]->stack) == kstack::StackState::Swapped;
    (void)kstack::drop_caches(); // as before free0: cached stacks are not what a thread keeps
    uint64_t free1 = vm::kmem::free_pages();
    c.pages = free0 > free1 ? free0 - free1 : 0;
    if (!*c.why && c.swapped != c.threads)
        c.why = "not every stack went to swap";
    if (c.threads)
        c.bytes_per_thread = c.pages * PAGE_SIZE / c.threads;
    g_release.store(true);
    for (unsigned i = 0; i < c.threads; i++)
        (void)kern::sched::wake(th[i]);
    for (unsigned i = 0; i < c.threads; i++)
        (void)kern::thread::join(th[i]);
    kstack::swap::set_idle_us(saved_idle);
    return c;
}

} // namespace ktest::swapres
