// Kernel stacks swapped out and back in: integrity, holds, which sleepers the
// scan picks, and wakeups racing the swap-out. Memory driven to zero is in
// kstack_swap_pressure_test.cc, a misbehaving swap device in
// kstack_swap_fault_test.cc; their shared helpers in kswap_test.h.
#include "test/kernel/ktest.h"
#include "test/kernel/kswap_test.h"
#include "kern/sched/thread.h"
#include "kern/sync/wait.h"
#include "kstack/kstack.h"
#include "kstack/swap_internal.h"
#include "lib/random.h"
#include "vm/pageout.h"

#include <atomic>

using kstack::StackState;
using namespace ktest::kswap;

ktest::Sleepers ktest::kswap::g_sl;

// Stacks written out, their pages freed, then every thread woken: each comes
// back through the swapper and finds every byte of its stack as it left it.
KTEST(kswap_round_trip)
{
    if (no_swap_device("kswap_round_trip"))
        return;
    constexpr unsigned N = 24;
    kstack::swap::Stats s0 = kstack::swap::stats();
    ktest::Sleepers::Cleanup reap {g_sl};
    KEXPECT(sleepers_asleep(N, 20, 7));
    uint64_t pages_asleep = kstack::stats().object_pages;
    uint64_t ours = g_sl.mapped_pages();
    kstack::swap::OutResult r = kstack::swap::swap_out(kstack::swap::scratch(2), 2 * N * kstack::STACK_PAGES, 0);
    KEXPECT(!r.full && !r.io_error);
    if (report_left_behind("kswap_round_trip", N)) {
        kstack::swap::Stats s = kstack::swap::stats();
        kprintf("ktest: kswap_round_trip: the pass wrote %u stacks, freed %lu pages (%lu ours), %u cancelled; "
                "%lu metadata failures\n",
                r.stacks, r.pages_freed, ours, r.cancelled, s.meta_failures - s0.meta_failures);
    }
    KEXPECT_EQ(g_sl.in_state(StackState::Swapped), N);
    KEXPECT(r.pages_freed >= ours);
    KEXPECT(kstack::stats().object_pages + ours <= pages_asleep);
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
    ksync::WaitQueue q {"kswap-held"};
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
    ktest::Sleepers::Cleanup reap {g_sl};
    KEXPECT(sleepers_asleep(1, 8, 11));
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

// The scan reads each hart's swap candidates, oldest first, and stops at the
// first sleep too recent: its cost follows the candidates it needs, not the
// threads there are. Here 600 threads sleep holding their stacks (on a wait
// queue: never candidates, not on the lists at all) and 300 sleep too
// briefly; 24 old sleepers are what a pass may take. Each hart's walk looks
// at its old sleepers and one more.
namespace {
struct HeldCrowd {
    ksync::WaitQueue q {"kswap-crowd"};
    std::atomic<unsigned> asleep {0};
};
void crowd_sleeper(void* arg)
{
    auto* c = static_cast<HeldCrowd*>(arg);
    c->asleep.fetch_add(1);
    (void)c->q.wait(nullptr, 60000000);
}
} // namespace

KTEST(kswap_scan_looks_at_candidates_not_threads)
{
    if (no_swap_device("kswap_scan_looks_at_candidates_not_threads"))
        return;
    constexpr unsigned HELD = 600, OLD = 24, RECENT = 300;
    vm::pageout::pause();
    struct Resume {
        ~Resume() { vm::pageout::resume(); }
    } resume;
    static HeldCrowd crowd;
    static kern::Thread* held[HELD];
    unsigned nheld = 0;
    for (; nheld < HELD; nheld++) {
        auto r = kern::thread::spawn({.name = "crowd", .entry = crowd_sleeper, .arg = &crowd, .joinable = true});
        if (!r.ok())
            break;
        held[nheld] = r.value();
    }
    KEXPECT_EQ(nheld, HELD);
    ktest::Sleepers::Cleanup reap {g_sl};
    KEXPECT(sleepers_asleep(OLD, 4, 21));
    kern::sched::sleep_us(300000); // the old ones: asleep for 300 ms more than the others
    uint64_t mark = kern::timer::now_us();
    KEXPECT_EQ(g_sl.add(RECENT, 4, 22), OLD + RECENT);
    KEXPECT(g_sl.wait_asleep());
    while (crowd.asleep.load() < nheld)
        kern::sched::sleep_us(1000);
    kern::sched::sleep_us(20000);
    // An idle threshold 5 ms longer than the recent ones have slept (however
    // long starting them took), and 295 ms shorter than the old ones have.
    uint64_t idle = kern::timer::now_us() - mark + 5000;
    kstack::swap::Stats s0 = kstack::swap::stats();
    kstack::swap::Timing t0 = kstack::swap::timing();
    kstack::swap::OutResult r = kstack::swap::swap_out(kstack::swap::scratch(2), 1u << 20, idle);
    kstack::swap::Timing t1 = kstack::swap::timing();
    uint64_t visits = t1.scan_visits - t0.scan_visits;
    unsigned old_out = 0, recent_out = 0;
    for (unsigned i = 0; i < OLD + RECENT; i++)
        if (kstack::state(g_sl.thread(i)->stack) == StackState::Swapped)
            (i < OLD ? old_out : recent_out)++;
    kstack::swap::Stats s1 = kstack::swap::stats();
    kprintf("ktest: kswap_scan_looks_at_candidates_not_threads: %u held and %u recent sleepers, %u old: %lu "
            "looked at, %u old and %u recent swapped out (%lu metadata failures, %lu cancelled, %lu early "
            "swap-ins)\n",
            nheld, RECENT, OLD, visits, old_out, recent_out, s1.meta_failures - s0.meta_failures,
            s1.cancelled - s0.cancelled, s1.early_swap_ins - s0.early_swap_ins);
    // An old one left behind says why (the old ones are sleepers 0..OLD-1).
    (void)report_left_behind("kswap_scan_looks_at_candidates_not_threads", OLD);
    (void)crowd.q.wake_all();
    for (unsigned i = 0; i < nheld; i++)
        kern::thread::join(held[i]);
    g_sl.wake_all();
    KEXPECT_EQ(g_sl.join_all(), OLD + RECENT);
    KEXPECT(wait_settled(20000000));
    KEXPECT(!r.full && !r.io_error);
    KEXPECT_EQ(old_out, OLD);
    KEXPECT_EQ(recent_out, 0u);
    // The old sleepers, a first too-recent one per hart, and a few other
    // kernel threads in timed sleeps: far from the 924 asleep.
    KEXPECT(visits <= OLD + cpu::count() + 16);
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
    ktest::Sleepers::Cleanup reap {g_sl};
    KEXPECT(sleepers_asleep(N, 12, 23));
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
    // A slow device (an SD card over SPI) may see every wakeup beat its write.
    KEXPECT(s1.swap_outs - s0.swap_outs + s1.cancelled - s0.cancelled > 0);
    KEXPECT_EQ(s1.stacks_swapped, s0.stacks_swapped);
}
