// Helpers shared by the kernel-stack swapping ktests (kstack_swap_test.cc,
// kstack_swap_pressure_test.cc, kstack_swap_fault_test.cc): one set of sleepers
// (defined in kstack_swap_test.cc: MAX threads of bookkeeping is too large to
// keep a copy per file), the start of most tests, and a page hog.
#pragma once

#include "kern/arch/riscv/timer.h"
#include "kern/console/printf.h"
#include "kern/sched/sched.h"
#include "kstack/kstack.h"
#include "kstack/swap.h"
#include "test/kernel/sleepers.h"
#include "vm/kmem.h"
#include "vm/page_chain.h"
#include "vm/swap.h"

namespace ktest::kswap {

extern Sleepers g_sl;

// Most tests start this way: n sleepers, `frames` deep, all asleep.
[[nodiscard]] inline bool sleepers_asleep(unsigned n, unsigned frames, uint64_t seed)
{
    return g_sl.start(n, frames, seed) == n && g_sl.wait_asleep();
}

// Sleepers [0, n) whose stacks should be out and are not, each with why it
// may have been passed over: its state and wait, its phase, its stack's
// state, whether it was a candidate (on its hart's sleeper list) and held,
// and how long it has slept. Returns how many.
inline unsigned report_left_behind(const char* test, unsigned n)
{
    unsigned left = 0;
    for (unsigned i = 0; i < n; i++) {
        kern::Thread* t = g_sl.thread(i);
        if (kstack::state(t->stack) == kstack::StackState::Swapped)
            continue;
        left++;
        kprintf("ktest: %s: sleeper %u (thread %lu, hart %u) %s (%s, phase %d), stack %s, %s, %s, slept %lu us\n",
                test, i, t->id, t->hart, kern::state_name(t->state), t->wait_reason ? t->wait_reason : "-",
                g_sl.phase(i), kstack::state_name(kstack::state(t->stack)),
                t->sleep_node.linked() ? "a candidate" : "not a candidate",
                t->stack_holds.held() ? "held" : "not held",
                (kern::timer::now_ticks() - t->sleep_since) * 1000000 / kern::timer::timebase_hz());
    }
    return left;
}

inline bool no_swap_device(const char* test)
{
    if (vm::swap::enabled())
        return false;
    kprintf("ktest: %s: no swap device in this boot, nothing to check\n", test);
    return true;
}

// Wait until no stack is on its way anywhere and no woken thread waits for one.
inline bool wait_settled(uint64_t timeout_us)
{
    uint64_t end = kern::timer::now_us() + timeout_us;
    while (kstack::swap::swapin_queue_length() != 0) {
        if (kern::timer::now_us() > end)
            return false;
        kern::sched::sleep_us(2000);
    }
    return true;
}

// Every free page (the interrupt class takes the last one), given back when
// the test ends however it ends.
struct Hog : vm::PageChain {
    Hog() = default;
    Hog(const Hog&) = delete;
    Hog& operator=(const Hog&) = delete;
    ~Hog() { free_all(); }
    void take_all() { (void)take_until_failure(vm::kmem::Class::Interrupt); }
};

} // namespace ktest::kswap
