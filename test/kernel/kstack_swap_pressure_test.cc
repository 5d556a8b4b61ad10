// Kernel stacks swapped out with free memory driven to zero: the pagedaemon
// recovers within a bound, swap metadata comes from held-back items on every
// hart, the swapper brings stacks back early, the emergency pager takes over
// from a stuck pagedaemon, and the stress workload verifies every wake.
#include "test/kernel/ktest.h"
#include "test/kernel/kswap_test.h"
#include "kern/stress/stress.h"
#include "kern/sched/thread.h"
#include "kstack/kstack.h"
#include "kstack/swap_internal.h"
#include "lib/random.h"
#include "lib/string.h"
#include "vm/pageout.h"
#include "zalloc/registry.h"
#include "zalloc/stats.h"

#include <atomic>
#include <new>

using kstack::StackState;
using namespace ktest::kswap;

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
    // Stacks of one to four pages each, and the pagedaemon takes what it
    // needs to reach free_target with nothing else to free: room for twice that.
    if (2 * w.free_target + 512 > vm::swap::stats().blocks) {
        kprintf("ktest: kswap_exhaustion_recovers: free_target %lu pages needs a bigger swap device than %lu "
                "pages; skipped\n", w.free_target, vm::swap::stats().blocks);
        return;
    }
    struct IdleThreshold {
        uint64_t saved = kstack::swap::idle_us();
        IdleThreshold() { kstack::swap::set_idle_us(50000); }
        ~IdleThreshold() { kstack::swap::set_idle_us(saved); }
    } idle;
    uint64_t worst_us = 0;
    for (uint64_t seed = 1; seed <= 20; seed++) {
        lib::Random rng(seed);
        unsigned frames = 4 + unsigned(rng.below(18));
        kstack::swap::Stats s0 = kstack::swap::stats();
        ktest::Sleepers::Cleanup reap {g_sl};
        // Stacks grow on demand, and the pagedaemon first takes back what
        // lies below each sleeper's sp: count on one page per thread.
        unsigned n = unsigned(w.free_target + 128 + rng.below(64));
        if (n > ktest::Sleepers::MAX) {
            kprintf("ktest: kswap_exhaustion_recovers: would need %u threads; skipped\n", n);
            return;
        }
        KEXPECT(sleepers_asleep(n, frames, seed));
        kern::sched::sleep_us(100000); // past the idle threshold
        // Take every page with the pagedaemon paused: running, it would
        // free stacks while the hog still takes, and the hog would eat what
        // it frees until nothing is left to swap (free stays at zero).
        Hog hog;
        vm::pageout::pause();
        hog.take_all();
        uint64_t at_zero = vm::kmem::free_pages();
        vm::pageout::resume();
        uint64_t t0 = kern::timer::now_us();
        vm::pageout::wake();
        while (vm::kmem::free_pages() < w.free_target && kern::timer::now_us() - t0 < BOUND_US)
            kern::sched::sleep_us(1000);
        uint64_t took = kern::timer::now_us() - t0;
        uint64_t free_after = vm::kmem::free_pages();
        if (free_after < w.free_target) {
            kstack::Stats ks = kstack::stats();
            vm::swap::Stats sd = vm::swap::stats();
            kstack::swap::Stats sw = kstack::swap::stats();
            kprintf("ktest: kswap_exhaustion_recovers: stuck: hog %lu pages, stack pages %lu (grown %lu, given back "
                    "%lu), swap %lu/%lu used, %lu full, %lu meta failures, %lu stacks swapped\n",
                    hog.count, ks.object_pages, ks.pages_grown, ks.pages_given_back, sd.used, sd.blocks, sw.full,
                    sw.meta_failures, sw.stacks_swapped);
            vm::pageout::Stats po = vm::pageout::stats();
            kprintf("ktest: kswap_exhaustion_recovers: pagedaemon %lu wakeups, %lu swap passes, %lu emergency; "
                    "%u sleepers resident\n",
                    po.wakeups, po.swap_passes, po.emergency_passes, g_sl.in_state(StackState::Resident));
            kern::thread::for_each([](kern::Thread& t) {
                if (t.flags & kern::TF_SYSTEM)
                    kprintf("ktest:   %s: state %u, waiting on %s\n", t.name, unsigned(t.state),
                            t.wait_reason ? t.wait_reason : "-");
            });
        }
        hog.free_all();
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
    kprintf("ktest: kswap_exhaustion_recovers: 20 seeds, worst recovery to free_target %lu ms\n", worst_us / 1000);
}

namespace {

size_t swapmeta_held_back()
{
    static zalloc::ZoneStats zs[64];
    size_t n = zalloc::snapshot_zones(zs, 64);
    for (size_t i = 0; i < n && i < 64; i++)
        if (!strcmp(zs[i].name, "swapmeta"))
            return zs[i].reserve_present;
    return 0;
}

struct WaveOut {
    std::atomic<bool> go {false};
    kstack::swap::OutResult r;
};

void wave_out_main(void* arg)
{
    auto* w = static_cast<WaveOut*>(arg);
    while (!w->go.load(std::memory_order_acquire))
        kern::sched::sleep_us(1000);
    w->r = kstack::swap::swap_out(kstack::swap::scratch(2), 1u << 20, 0);
}

// A wave from wave_out_main went out whole at zero memory with no metadata
// refused; then every sleeper wakes and finds its stack.
void check_wave_and_wake(ktest::Context& t, const WaveOut& w, const kstack::swap::Stats& s0,
                         const kstack::swap::Stats& s1, unsigned n)
{
    KEXPECT(!w.r.full && !w.r.io_error);
    KEXPECT_EQ(s1.meta_failures, s0.meta_failures);
    KEXPECT_EQ(g_sl.in_state(StackState::Swapped), n);
    g_sl.wake_all();
    KEXPECT_EQ(g_sl.join_all(), n);
    KEXPECT(wait_settled(20000000));
}

} // namespace

// The progress guarantee for swap metadata: with every page taken, a whole
// swap-out wave gets its metadata from the zone's held-back items, on every
// hart. (They were once all in the boot hart's cache, where a pagedaemon on
// another hart could not reach them: it swapped nothing at zero memory.)
KTEST(kswap_a_wave_goes_out_at_zero_memory_from_every_hart)
{
    if (no_swap_device("kswap_a_wave_goes_out_at_zero_memory_from_every_hart"))
        return;
    constexpr unsigned N = kstack::swap::detail::WAVE_STACKS;
    vm::pageout::pause(); // this test is the only one swapping
    struct Resume {
        ~Resume() { vm::pageout::resume(); }
    } resume;
    for (unsigned h = 0; h < cpu::count(); h++) {
        KEXPECT(zalloc::replenish_all());
        KEXPECT_EQ(swapmeta_held_back(), kstack::swap::detail::META_RESERVE);
        ktest::Sleepers::Cleanup reap {g_sl};
        KEXPECT(sleepers_asleep(N, 4, 40 + h));
        WaveOut w;
        auto worker = kern::thread::spawn({.name = "wave-out", .entry = wave_out_main, .arg = &w,
                                           .flags = kern::TF_BOUND | kern::TF_NO_SWAP, .hart = int(h),
                                           .joinable = true});
        KEXPECT(worker.ok());
        if (!worker.ok())
            return;
        kstack::swap::Stats s0 = kstack::swap::stats();
        uint64_t at_zero;
        {
            Hog hog;
            hog.take_all();
            at_zero = vm::kmem::free_pages();
            w.go.store(true, std::memory_order_release);
            (void)kern::thread::join(worker.value());
        }
        kstack::swap::Stats s1 = kstack::swap::stats();
        kprintf("ktest: kswap_a_wave_goes_out_at_zero_memory_from_every_hart: hart %u: free %lu, %lu of %u stacks "
                "out, %lu metadata failures\n",
                h, at_zero, s1.swap_outs - s0.swap_outs, N, s1.meta_failures - s0.meta_failures);
        KEXPECT_EQ(at_zero, 0u);
        check_wave_and_wake(t, w, s0, s1, N);
        if (t.failed())
            return;
    }
    KEXPECT(zalloc::replenish_all());
    KEXPECT_EQ(swapmeta_held_back(), kstack::swap::detail::META_RESERVE);
}

namespace {

// Swap metadata taken and given back on one hart at zero free memory, by a
// worker started before the memory went (starting a thread needs memory).
struct MetaChurn {
    std::atomic<bool> go {false};
    size_t until_held = 0;  // take until the zone holds back only this many
    bool free_last = false; // give back only the last one taken (the dip), else all
    kstack::SwapMeta* held[1024] = {};
    size_t n = 0, kept = 0;
};

void meta_churn_main(void* arg)
{
    auto* c = static_cast<MetaChurn*>(arg);
    while (!c->go.load(std::memory_order_acquire))
        kern::sched::sleep_us(1000);
    while (c->n < 1024 && swapmeta_held_back() > c->until_held) {
        kstack::SwapMeta* m = kstack::swap::detail::alloc_meta();
        if (!m)
            break;
        c->held[c->n++] = m;
    }
    size_t from = c->free_last && c->n ? c->n - 1 : 0;
    for (size_t i = from; i < c->n; i++)
        kstack::swap::detail::free_meta(c->held[i]);
    c->kept = from;
}

[[nodiscard]] kern::Thread* on_hart(unsigned h, const char* name, void (*fn)(void*), void* arg)
{
    auto r = kern::thread::spawn({.name = name, .entry = fn, .arg = arg, .flags = kern::TF_BOUND | kern::TF_NO_SWAP,
                                  .hart = int(h), .joinable = true});
    return r.ok() ? r.value() : nullptr;
}

} // namespace

// The held-back swap metadata stays reachable from every hart after use: at
// zero free pages a pager on hart 0 dips into it and frees what it took
// there, and a whole wave then goes out from hart 1. (What was dipped once
// went into the freeing hart's cache and stayed there: the next pager, on
// another hart, found no metadata and swapped nothing.) Hart 1 first empties
// its own cache, so only the zone's list can serve it.
KTEST(kswap_metadata_dipped_on_one_hart_serves_a_wave_on_another)
{
    if (no_swap_device("kswap_metadata_dipped_on_one_hart_serves_a_wave_on_another"))
        return;
    if (cpu::count() < 2) {
        kprintf("ktest: kswap_metadata_dipped_on_one_hart_serves_a_wave_on_another: one hart; skipped\n");
        return;
    }
    constexpr unsigned N = kstack::swap::detail::WAVE_STACKS;
    constexpr size_t RESERVE = kstack::swap::detail::META_RESERVE;
    vm::pageout::pause();
    struct Resume {
        ~Resume() { vm::pageout::resume(); }
    } resume;
    KEXPECT(zalloc::replenish_all());
    KEXPECT_EQ(swapmeta_held_back(), RESERVE);
    ktest::Sleepers::Cleanup reap {g_sl};
    KEXPECT(sleepers_asleep(N, 4, 90));
    static MetaChurn drain, dip;
    drain.~MetaChurn();
    new (&drain) MetaChurn();
    dip.~MetaChurn();
    new (&dip) MetaChurn();
    drain.until_held = RESERVE - 1; // hart 1's cache, the items above the mark, one dip given back
    drain.free_last = true;
    dip.until_held = 0; // the rest of the held-back items, all given back on hart 0
    WaveOut w;
    kern::Thread* t_drain = on_hart(1, "meta-drain", meta_churn_main, &drain);
    kern::Thread* t_dip = on_hart(0, "meta-dip", meta_churn_main, &dip);
    kern::Thread* t_wave = on_hart(1, "wave-out", wave_out_main, &w);
    bool started = t_drain && t_dip && t_wave;
    kstack::swap::Stats s0 = kstack::swap::stats();
    uint64_t at_zero;
    size_t held_after_dip;
    {
        Hog hog;
        hog.take_all();
        at_zero = vm::kmem::free_pages();
        drain.go.store(true, std::memory_order_release);
        if (t_drain)
            (void)kern::thread::join(t_drain);
        dip.go.store(true, std::memory_order_release);
        if (t_dip)
            (void)kern::thread::join(t_dip);
        held_after_dip = swapmeta_held_back();
        w.go.store(true, std::memory_order_release);
        if (t_wave)
            (void)kern::thread::join(t_wave);
        for (size_t i = 0; i < drain.kept; i++)
            kstack::swap::detail::free_meta(drain.held[i]);
    }
    kstack::swap::Stats s1 = kstack::swap::stats();
    kprintf("ktest: kswap_metadata_dipped_on_one_hart_serves_a_wave_on_another: free %lu; hart 1 took %zu, hart 0 "
            "took and gave back %zu; %zu of %zu held back after; hart 1's wave: %lu of %u stacks out, %lu metadata "
            "failures\n",
            at_zero, drain.n, dip.n, held_after_dip, RESERVE, s1.swap_outs - s0.swap_outs, N,
            s1.meta_failures - s0.meta_failures);
    KEXPECT(started);
    KEXPECT_EQ(at_zero, 0u);
    KEXPECT(dip.n >= RESERVE - 1);
    KEXPECT_EQ(held_after_dip, RESERVE);
    check_wave_and_wake(t, w, s0, s1, N);
    if (t.failed())
        return;
    KEXPECT(zalloc::replenish_all());
    KEXPECT_EQ(swapmeta_held_back(), RESERVE);
}

// Memory is plentiful again: the swapper brings swapped stacks back before
// anyone wakes their threads (FreeBSD left them out until the wakeup, and
// every wakeup paid for a read).
KTEST(kswap_early_swap_in_after_recovery)
{
    if (no_swap_device("kswap_early_swap_in_after_recovery"))
        return;
    constexpr unsigned N = 16;
    kstack::swap::Stats s0 = kstack::swap::stats();
    ktest::Sleepers::Cleanup reap {g_sl};
    KEXPECT(sleepers_asleep(N, 10, 31));
    // Ask for more than ours: a sleeper left by an earlier test may go first.
    kstack::swap::OutResult r = kstack::swap::swap_out(kstack::swap::scratch(2), 2 * N * kstack::STACK_PAGES, 0);
    if (g_sl.in_state(StackState::Swapped) != N)
        t.failf("%u of %u swapped: %u stacks out, %u cancelled, full %d, io error %d, swap %lu/%lu used",
                g_sl.in_state(StackState::Swapped), N, r.stacks, r.cancelled, r.full, r.io_error,
                vm::swap::stats().used, vm::swap::stats().blocks);
    KEXPECT_EQ(g_sl.in_state(StackState::Swapped), N);
    uint64_t t0 = kern::timer::now_us();
    while (g_sl.in_state(StackState::Resident) != N && kern::timer::now_us() - t0 < 10000000)
        kern::sched::sleep_us(10000);
    uint64_t took = kern::timer::now_us() - t0;
    unsigned back = g_sl.in_state(StackState::Resident);
    bool still_asleep = true;
    for (unsigned i = 0; i < N; i++)
        still_asleep = still_asleep && g_sl.thread(i)->state == kern::ThreadState::Sleeping;
    g_sl.wake_all();
    KEXPECT_EQ(g_sl.join_all(), N);
    kstack::swap::Stats s1 = kstack::swap::stats();
    kprintf("ktest: kswap_early_swap_in_after_recovery: %u stacks back %lu ms after their swap-out, none woken\n",
            back, took / 1000);
    KEXPECT_EQ(back, N);
    KEXPECT(still_asleep);
    KEXPECT(s1.early_swap_ins - s0.early_swap_ins >= N);
}

// The pagedaemon makes no progress (held still here, as if stuck in I/O):
// after EMERGENCY_STALL_US the emergency pager swaps out in its place.
KTEST(kswap_emergency_pager_takes_over)
{
    if (no_swap_device("kswap_emergency_pager_takes_over"))
        return;
    const vm::Watermarks& w = vm::kmem::phys().watermarks();
    vm::pageout::Stats p0 = vm::pageout::stats();
    ktest::Sleepers::Cleanup reap {g_sl};
    unsigned n = unsigned(w.free_target + 128); // at least a page each
    if (n > ktest::Sleepers::MAX || 2 * w.free_target + 512 > vm::swap::stats().blocks) {
        kprintf("ktest: kswap_emergency_pager_takes_over: needs %u threads; skipped\n", n);
        return;
    }
    KEXPECT(sleepers_asleep(n, 6, 41));
    vm::pageout::pause();
    struct Resume {
        ~Resume() { vm::pageout::resume(); }
    } resume;
    Hog hog;
    hog.take_all();
    uint64_t t0 = kern::timer::now_us();
    while (vm::kmem::free_pages() < w.free_target && kern::timer::now_us() - t0 < 4 * vm::pageout::EMERGENCY_STALL_US)
        kern::sched::sleep_us(5000);
    uint64_t took = kern::timer::now_us() - t0;
    uint64_t free_after = vm::kmem::free_pages();
    unsigned long daemon_progress = vm::pageout::stats().progress; // still paused here
    hog.free_all();
    g_sl.wake_all();
    KEXPECT_EQ(g_sl.join_all(), n);
    vm::pageout::Stats p1 = vm::pageout::stats();
    kprintf("ktest: kswap_emergency_pager_takes_over: free_target reached after %lu ms, %lu emergency passes\n",
            took / 1000, p1.emergency_passes - p0.emergency_passes);
    KEXPECT(free_after >= w.free_target);
    KEXPECT(p1.emergency_passes > p0.emergency_passes);
    KEXPECT_EQ(daemon_progress, p0.progress); // all of it was the emergency pager's
}

// The stress workload with swapping on: sleepers with deep checksummed stacks,
// a hog that takes free memory to zero while they sleep, the pagedaemon
// swapping them out and the swapper bringing them back. Every wake verifies.
KTEST(kswap_stress_integrity)
{
    if (no_swap_device("kswap_stress_integrity"))
        return;
    struct IdleThreshold {
        uint64_t saved = kstack::swap::idle_us();
        IdleThreshold() { kstack::swap::set_idle_us(150000); }
        ~IdleThreshold() { kstack::swap::set_idle_us(saved); }
    } idle;
    kern::stress::Params p;
    // The hog starts 200 ms into each sleep; filling memory takes a second or
    // more at 512 MiB (several when the host is busy), and the sleepers must
    // still be asleep when it is full.
    p.threads = 96;
    p.depth_bytes = 10 * 1024;
    p.rounds = 3;
    p.sleep_us = 4000000;
    p.hog_hold_us = 3800000;
    p.seed = 5;
    p.progress = false;
    lib::Result<kern::stress::Result> r = kern::stress::run(p);
    KEXPECT(r.ok());
    const kern::stress::Result& res = r.value();
    kprintf("ktest: kswap_stress_integrity: %u/%u wakes verified, %u mismatches, %lu stacks out, %lu in\n",
            res.wakes_verified, res.wakes_expected, res.mismatches, res.swap_outs, res.swap_ins);
    KEXPECT(res.ok());
    KEXPECT_EQ(res.mismatches, 0u);
    KEXPECT(res.swap_outs > 0);
    KEXPECT(wait_settled(10000000));
}
