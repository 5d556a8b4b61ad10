// Explicit boots with a swap disk that misbehaves (run_all.py gives them a
// faulty or a tiny disk): write errors, a read retried, a read that fails for
// good, a device that fills up.
#include "test/kernel/ktest.h"
#include "test/kernel/kswap_test.h"
#include "kstack/kstack.h"
#include "kstack/swap_internal.h"
#include "vm/pageout.h"

using kstack::StackState;
using namespace ktest::kswap;

// Every write fails: nothing is freed, every stack stays resident and intact,
// the errors are counted.
KTEST_EXPLICIT(kswap_fault_write_errors)
{
    KEXPECT(vm::swap::enabled());
    constexpr unsigned N = 12;
    kstack::swap::Stats s0 = kstack::swap::stats();
    vm::swap::Stats d0 = vm::swap::stats();
    ktest::Sleepers::Cleanup reap {g_sl};
    KEXPECT(sleepers_asleep(N, 12, 51));
    kstack::swap::OutResult r = kstack::swap::swap_out(kstack::swap::scratch(2), N * kstack::STACK_PAGES, 0);
    KEXPECT(r.io_error);
    KEXPECT_EQ(r.pages_freed, uint64_t(0));
    KEXPECT_EQ(g_sl.in_state(StackState::Resident), N);
    KEXPECT_EQ(vm::swap::stats().used, d0.used);
    g_sl.wake_all();
    KEXPECT_EQ(g_sl.join_all(), N);
    kstack::swap::Stats s1 = kstack::swap::stats();
    KEXPECT(s1.write_errors > s0.write_errors);
    KEXPECT(vm::swap::stats().write_errors > d0.write_errors);
    KEXPECT_EQ(s1.swap_outs, s0.swap_outs);
}

// One read fails: the swapper tries again and the thread never notices.
KTEST_EXPLICIT(kswap_fault_read_retry)
{
    KEXPECT(vm::swap::enabled());
    kstack::swap::Stats s0 = kstack::swap::stats();
    ktest::Sleepers::Cleanup reap {g_sl};
    KEXPECT(sleepers_asleep(1, 16, 61));
    (void)kstack::swap::swap_out(kstack::swap::scratch(2), kstack::STACK_PAGES, 0);
    KEXPECT_EQ(g_sl.in_state(StackState::Swapped), 1u);
    g_sl.wake_all();
    KEXPECT_EQ(g_sl.join_all(), 1u);
    kstack::swap::Stats s1 = kstack::swap::stats();
    KEXPECT_EQ(s1.read_errors - s0.read_errors, uint64_t(1));
    KEXPECT_EQ(s1.killed, s0.killed);
}

// Every read fails: the thread whose stack is on swap is killed (and named);
// the one next to it, whose stack stayed, runs on unharmed.
KTEST_EXPLICIT(kswap_fault_read_kill)
{
    KEXPECT(vm::swap::enabled());
    kstack::swap::Stats s0 = kstack::swap::stats();
    ktest::Sleepers::Cleanup reap {g_sl};
    KEXPECT(sleepers_asleep(2, 16, 71));
    // One page asked for: only one stack goes out. Which one is the swap-out's
    // choice (the longest asleep of its hart's candidates), and on two harts the
    // second sleeper may well have fallen asleep first.
    (void)kstack::swap::swap_out(kstack::swap::scratch(2), 1, 0);
    KEXPECT_EQ(g_sl.in_state(StackState::Swapped), 1u);
    KEXPECT_EQ(g_sl.in_state(StackState::Resident), 1u);
    unsigned lost = kstack::state(g_sl.thread(0)->stack) == StackState::Swapped ? 0 : 1;
    g_sl.wake_all();
    KEXPECT_EQ(g_sl.join_all(), 1u);
    KEXPECT_EQ(g_sl.exit_code(lost), kern::EXIT_STACK_LOST);
    KEXPECT_EQ(g_sl.phase(lost), int(ktest::Sleepers::Asleep)); // it never ran again
    KEXPECT_EQ(g_sl.phase(1 - lost), int(ktest::Sleepers::Verified));
    kstack::swap::Stats s1 = kstack::swap::stats();
    KEXPECT_EQ(s1.killed - s0.killed, uint64_t(1));
    KEXPECT(s1.read_errors - s0.read_errors >= 3);
    KEXPECT_EQ(s1.stacks_swapped, s0.stacks_swapped);
    KEXPECT_EQ(vm::swap::stats().used, uint64_t(0));
}

// A device of 16 blocks: the stacks that fit go out (how many depends on
// how far they grew), swapping stops with the device full and counted, the
// rest stay resident; everything comes back.
KTEST_EXPLICIT(kswap_fault_tiny_device)
{
    KEXPECT(vm::swap::enabled());
    uint64_t blocks = vm::swap::stats().blocks;
    KEXPECT_EQ(blocks, uint64_t(16));
    constexpr unsigned N = 10;
    kstack::swap::Stats s0 = kstack::swap::stats();
    ktest::Sleepers::Cleanup reap {g_sl};
    KEXPECT(sleepers_asleep(N, 20, 81));
    uint64_t per = g_sl.mapped_pages() / N; // the same depth each
    unsigned fits = unsigned(blocks / per);
    KEXPECT(fits < N);
    kstack::swap::OutResult r = kstack::swap::swap_out(kstack::swap::scratch(2), 1u << 20, 0);
    KEXPECT(r.full);
    KEXPECT_EQ(r.stacks, fits);
    KEXPECT_EQ(g_sl.in_state(StackState::Swapped), fits);
    KEXPECT_EQ(g_sl.in_state(StackState::Resident), N - fits);
    KEXPECT_EQ(vm::swap::stats().used, fits * per);
    kstack::swap::OutResult again = kstack::swap::swap_out(kstack::swap::scratch(2), 1u << 20, 0);
    KEXPECT(again.full);
    KEXPECT_EQ(again.stacks, 0u);
    g_sl.wake_all();
    KEXPECT_EQ(g_sl.join_all(), N);
    kstack::swap::Stats s1 = kstack::swap::stats();
    KEXPECT(s1.full - s0.full >= 2);
    KEXPECT_EQ(vm::swap::stats().used, uint64_t(0));
}
