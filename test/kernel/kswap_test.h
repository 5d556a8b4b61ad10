// Helpers shared by the kernel-stack swapping ktests (kstack_swap_test.cc,
// kstack_swap_pressure_test.cc, kstack_swap_fault_test.cc): one set of sleepers
// (defined in kstack_swap_test.cc: MAX threads of bookkeeping is too large to
// keep a copy per file), the start of most tests, and a page hog.
#pragma once

#include "kern/arch/riscv/timer.h"
#include "kern/console/printf.h"
#include "kern/sched/sched.h"
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
