// Kernel-stack swapping benchmarks, the I/O paths: swap-out throughput
// against the raw device, and swap-in latency of one stack against one raw
// read. How many blocked threads fit is in swap_capacity_bench.cc; the
// helpers both use in swap_bench.h.
//
// Times, not instructions: these are I/O paths (virtio-blk under QEMU, the
// disk a sparse file on the host), so the figures are wall time from rdtime
// (kern::timer, 10 MHz on virt), and each is compared with the raw device
// measured in the same boot. test/bench.py boots these without -icount.
//
// Every benchmark runs in a driver thread with TF_NO_SWAP (it sleeps while
// waiting, and must not be taken for a sleeper itself). Without a swap device
// each prints an error line and returns.
#include "test/kernel/swap_bench.h"
#include "dev/block.h"
#include "kern/seam/cpu.h"
#include "kern/arch/riscv/ipi.h"
#include "test/kernel/kbench.h"
#include "kern/console/printf.h"
#include "kern/sched/sched.h"
#include "kern/sched/thread.h"
#include "kern/sync/wait.h"
#include "kern/sync/spinlock.h"
#include "kern/arch/riscv/timer.h"
#include "kstack/checksum.h"
#include "kstack/kstack.h"
#include "test/kernel/stack_use.h"
#include "kstack/swap.h"
#include "test/kernel/sleepers.h"
#include "vm/kmem.h"
#include "vm/swap.h"
#include "vm/tlb.h"

#include <atomic>
#include <new>

using namespace kern;
using namespace kbench::swapbench;
using kstack::StackState;

namespace {

// ---- swap-out throughput ------------------------------------------------------

constexpr unsigned TP_STACKS = 1024;
constexpr uint64_t TP_BYTES = uint64_t(TP_STACKS) * kstack::STACK_SIZE; // 16 MiB
constexpr uint64_t TP_BLOCKS = TP_BYTES / PAGE_SIZE;
constexpr uint32_t TP_REQ_BYTES = 8 * kstack::STACK_SIZE; // swap-out cluster: 8 stacks, 128 KiB
constexpr unsigned TP_FRAMES = 24; // ~13 KiB in use: all four pages of each stack mapped
constexpr unsigned TP_REPS = 3;

// Raw: TP_BYTES written sequentially in TP_REQ_BYTES requests to a run taken
// from the swap allocator (so no swapped stack is overwritten) and given back
// after, `depth` requests in flight at a time: swap-out keeps
// kstack::swap's IO_DEPTH (4) clusters in flight, so the fair comparison has
// the same request size and queue depth. Returns MB/s x 1000, 0 on error.
struct RawIo {
    ksync::SpinLock lock {"bench-raw"};
    dev::BlockRequest reqs[8];
    bool busy[8] = {};
    unsigned in_flight = 0;
    bool failed = false;
};
RawIo g_raw;

void raw_done(dev::BlockRequest* r, lib::Status st, void*)
{
    RawIo& io = g_raw;
    ksync::SpinGuard g(io.lock);
    io.busy[r - io.reqs] = false;
    io.in_flight--;
    io.failed = io.failed || !st.ok();
    ksync::wakeup(&io);
}

uint64_t raw_write_once(const KBuf& buf, unsigned depth)
{
    dev::BlockDevice* d = vm::swap::device();
    auto run = vm::swap::space().alloc(uint32_t(TP_BLOCKS));
    if (!run.ok()) {
        kprintf("kbench: error swap_throughput: no %lu-block run on swap\n", TP_BLOCKS);
        return 0;
    }
    uint64_t sector = run.value() * SECTORS_PER_PAGE;
    uint32_t per = TP_REQ_BYTES / dev::SECTOR_SIZE;
    RawIo& io = g_raw;
    io.in_flight = 0;
    io.failed = false;
    uint64_t t0 = timer::now_ticks();
    for (uint64_t off = 0; off < TP_BYTES && !io.failed; off += TP_REQ_BYTES, sector += per) {
        unsigned slot = 0;
        {
            ksync::SpinGuard g(io.lock);
            while (io.in_flight >= depth)
                (void)ksync::sleep_on(&io, &io.lock, 0, "bench raw");
            while (io.busy[slot])
                slot++; // fewer than depth are busy: one of the first depth slots is free
            io.busy[slot] = true;
            io.in_flight++;
        }
        dev::BlockRequest& r = io.reqs[slot];
        new (&r) dev::BlockRequest();
        r.op = dev::BlockOp::Write;
        r.sector = sector;
        r.nsectors = per;
        r.buf = buf.as<void>();
        r.done = raw_done;
        r.ctx = &io;
        if (!d->submit(r).ok()) {
            ksync::SpinGuard g(io.lock);
            io.busy[slot] = false;
            io.in_flight--;
            io.failed = true;
        }
    }
    {
        ksync::SpinGuard g(io.lock);
        while (io.in_flight)
            (void)ksync::sleep_on(&io, &io.lock, 0, "bench raw");
    }
    uint64_t ns = ticks_to_ns(timer::now_ticks() - t0);
    vm::swap::space().free(run.value(), uint32_t(TP_BLOCKS));
    if (io.failed) {
        kprintf("kbench: error swap_throughput: raw write failed\n");
        return 0;
    }
    return ns ? TP_BYTES * 1000000ull / ns : 0; // bytes/ns * 1e3 = MB/s; x1000
}

constexpr unsigned OUT_PHASES = 7;
const char* const OUT_PHASE_NAMES[OUT_PHASES] = {"scan", "prepare", "submit", "io_wait", "unmap", "shootdown",
                                                 "free"};

struct TpResult {
    uint64_t mbps_x1000 = 0;
    unsigned stacks = 0, calls = 0, verified = 0, swapped = 0;
    uint64_t us = 0;
    uint64_t phase_ns[OUT_PHASES] = {};
    uint64_t total_ns = 0;
};

TpResult swap_out_once(ktest::Sleepers& sl, uint64_t seed)
{
    TpResult res;
    unsigned n = sl.start(TP_STACKS, TP_FRAMES, seed);
    if (n != TP_STACKS || !sl.wait_asleep(30000000)) {
        kprintf("kbench: error swap_throughput: %u of %u sleepers started/asleep\n", n, TP_STACKS);
        sl.wake_all();
        (void)sl.join_all();
        return res;
    }
    // swap_out() looks at its 256 longest sleepers per call: call until all
    // 1024 are out (the calls, thread-list walks included, are timed).
    uint64_t pages0 = kstack::swap::stats().pages_out;
    kstack::swap::Timing tm0 = kstack::swap::timing();
    uint64_t t0 = timer::now_ticks();
    while (res.stacks < n && res.calls < 64) {
        kstack::swap::OutResult r =
            kstack::swap::swap_out(kstack::swap::scratch(2), uint64_t(n - res.stacks) * kstack::STACK_PAGES, 0);
        res.calls++;
        res.stacks += r.stacks;
        if (r.no_candidates || r.full || r.io_error)
            break;
    }
    uint64_t ns = ticks_to_ns(timer::now_ticks() - t0);
    kstack::swap::Timing tm1 = kstack::swap::timing();
    res.phase_ns[0] = ticks_to_ns(tm1.out_scan - tm0.out_scan);
    res.phase_ns[1] = ticks_to_ns(tm1.out_prepare - tm0.out_prepare);
    res.phase_ns[2] = ticks_to_ns(tm1.out_submit - tm0.out_submit);
    res.phase_ns[3] = ticks_to_ns(tm1.out_io_wait - tm0.out_io_wait);
    res.phase_ns[4] = ticks_to_ns(tm1.out_unmap - tm0.out_unmap);
    res.phase_ns[5] = ticks_to_ns(tm1.out_shootdown - tm0.out_shootdown);
    res.phase_ns[6] = ticks_to_ns(tm1.out_free - tm0.out_free);
    res.total_ns = ns;
    uint64_t bytes = (kstack::swap::stats().pages_out - pages0) * PAGE_SIZE; // what was really written
    res.us = ns / 1000;
    unsigned swapped = res.swapped = sl.in_state(StackState::Swapped);
    sl.wake_all();
    res.verified = sl.join_all();
    if (res.stacks != n || res.verified != n) {
        kprintf("kbench: error swap_throughput: %u stacks swapped out (%u Swapped), %u of %u verified\n",
                res.stacks, swapped, res.verified, n);
        return res;
    }
    res.mbps_x1000 = ns ? bytes * 1000000ull / ns : 0;
    return res;
}

void throughput_driver(void*)
{
    if (!have_swap("swap_throughput"))
        return;
    KBuf buf, slbuf;
    if (!buf.make(TP_REQ_BYTES) || !slbuf.make(sizeof(ktest::Sleepers))) {
        kprintf("kbench: error swap_throughput: no memory for buffers\n");
        return;
    }
    for (uint64_t i = 0; i < TP_REQ_BYTES / 8; i++)
        buf.as<uint64_t>()[i] = 0x9e3779b97f4a7c15ull * (i + 1);
    auto* sl = new (slbuf.as<void>()) ktest::Sleepers();

    uint64_t raw[TP_REPS], raw1[TP_REPS], out[TP_REPS];
    unsigned calls = 0;
    uint64_t out_us[TP_REPS];
    uint64_t phase_ns[OUT_PHASES] = {}, total_ns = 0;
    kstack::swap::Stats s0 = kstack::swap::stats();
    for (unsigned rep = 0; rep < TP_REPS; rep++) {
        raw[rep] = raw_write_once(buf, 4);
        raw1[rep] = raw_write_once(buf, 1);
        TpResult r = swap_out_once(*sl, 1000 + rep);
        out[rep] = r.mbps_x1000;
        out_us[rep] = r.us;
        for (unsigned q = 0; q < OUT_PHASES; q++)
            phase_ns[q] += r.phase_ns[q];
        total_ns += r.total_ns;
        calls = r.calls;
        kprintf("kbench-swap: rep %u: %u of them still Swapped after the loop (the rest swapped in early)\n", rep,
                r.swapped);
        kprintf("kbench-swap: rep %u: raw %lu.%03lu MB/s, swap-out %lu.%03lu MB/s (%u stacks in %lu us, %u calls)\n",
                rep, raw[rep] / 1000, raw[rep] % 1000, out[rep] / 1000, out[rep] % 1000, r.stacks, r.us, r.calls);
        if (!raw[rep] || !out[rep])
            return;
    }
    kstack::swap::Stats s1 = kstack::swap::stats();
    sl->~Sleepers();
    uint64_t mraw = kbench::median(raw, TP_REPS), mout = kbench::median(out, TP_REPS);
    kbench::info("swap_throughput", "%u stacks of %lu KiB, %u frames of 512 B deep; %u swap_out calls",
                 TP_STACKS, kstack::STACK_SIZE / 1024, TP_FRAMES, calls);
    kbench::info("swap_throughput_runs", "median of %u alternating runs; swap-out of 16 MiB: median %lu ms; "
                 "%lu swapped back in (%lu early), %lu cancelled",
                 TP_REPS, kbench::median(out_us, TP_REPS) / 1000, s1.swap_ins - s0.swap_ins,
                 s1.early_swap_ins - s0.early_swap_ins, s1.cancelled - s0.cancelled);
    // Parts of the swap-out path timed alone: the per-page checksums of 16 MiB,
    // and one TLB shootdown of 32 pages per 128 KiB cluster.
    uint64_t t0 = timer::now_ticks();
    uint64_t sink = 0;
    for (uint64_t off = 0; off < TP_BYTES; off += TP_REQ_BYTES)
        for (uint64_t p = 0; p < TP_REQ_BYTES; p += PAGE_SIZE)
            sink += kstack::page_checksum(reinterpret_cast<const void*>(buf.va + p), PAGE_SIZE);
    uint64_t sum_ns = ticks_to_ns(timer::now_ticks() - t0);
    t0 = timer::now_ticks();
    for (uint64_t off = 0; off < TP_BYTES; off += TP_REQ_BYTES)
        vm::tlb::shootdown(buf.va, TP_REQ_BYTES / PAGE_SIZE);
    uint64_t sd_ns = ticks_to_ns(timer::now_ticks() - t0);
    kbench::info("swap_throughput_parts", "Alone: checksums of 16 MiB %lu ms; %lu shootdowns of 32 pages (one per "
                 "cluster, which swap-out avoids: it shoots down once per pass) would take %lu ms (sum %lx)",
                 sum_ns / 1000000, TP_BYTES / TP_REQ_BYTES, sd_ns / 1000000, sink & 0xf);
    uint64_t mraw1 = kbench::median(raw1, TP_REPS);
    kbench::info("swap_throughput_raw", "raw writes of 128 KiB: 4 in flight (the swap-out's depth) %lu.%02lu MB/s, "
                 "one at a time %lu.%02lu MB/s", mraw / 1000, mraw % 1000 / 10, mraw1 / 1000, mraw1 % 1000 / 10);
    kbench::report("swap_raw_write", mraw, 1000, "MB/s");
    // Where a 16 MiB swap-out's time goes, the mean of the runs (kstack::swap::Timing).
    uint64_t accounted = 0;
    for (unsigned q = 0; q < OUT_PHASES; q++) {
        char key[48];
        ksnprintf(key, sizeof key, "swap_out_ms_%s", OUT_PHASE_NAMES[q]);
        kbench::report(key, phase_ns[q], 1000000ull * TP_REPS, "ms");
        accounted += phase_ns[q];
    }
    kbench::report("swap_out_ms_total", total_ns, 1000000ull * TP_REPS, "ms");
    kbench::report_net("swap_out_ms_other", total_ns, accounted, 1000000ull * TP_REPS, "ms");
    kbench::report("swap_out", mout, 1000, "MB/s");
    kbench::report("swap_out_ratio", mout, mraw, "ratio");
}

// ---- swap-in latency ------------------------------------------------------------

constexpr unsigned LAT_N = 64;

struct LatState {
    std::atomic<unsigned> ready {~0u}; // sample index the thread is asleep for
    std::atomic<unsigned> done {0};    // samples it has woken from
    std::atomic<bool> stop {false};
    uint64_t resumed[2 * LAT_N];       // rdtime right after sleep_us returned
    // After each wakeup the sleeper also times one raw read of 16 KiB, so the
    // reference is measured side by side with the swap-ins, under the same
    // host conditions (a raw phase before them drifted from run to run).
    dev::BlockDevice* d;
    void* buf;
    uint64_t sector0;
    uint32_t per;
    uint64_t raw[2 * LAT_N];
    std::atomic<bool> raw_ok {true};
};
LatState* g_lat;

void lat_sleeper(void*)
{
    LatState& s = *g_lat;
    // The whole stack mapped: a swap-in then reads 16 KiB, the size of the
    // raw read it is compared with.
    ktest::use_stack(kstack::STACK_SIZE - 3072);
    for (unsigned k = 0;; k++) {
        s.ready.store(k);
        sched::sleep_us(LONG_SLEEP_US);
        uint64_t r0 = s.resumed[k % (2 * LAT_N)] = timer::now_ticks();
        if (!s.d->read(s.sector0 + uint64_t(k % LAT_N) * s.per, s.buf, s.per).ok())
            s.raw_ok.store(false);
        s.raw[k % (2 * LAT_N)] = timer::now_ticks() - r0;
        s.done.store(k + 1);
        if (s.stop.load())
            return;
    }
}

struct RawReads {
    dev::BlockDevice* d;
    void* buf;
    uint64_t sector0;
    uint32_t per;
    uint64_t* samples;
    bool ok;
};

void raw_reader(void* arg)
{
    auto& r = *static_cast<RawReads*>(arg);
    for (unsigned i = 0; i < LAT_N && r.ok; i++) {
        uint64_t t0 = timer::now_ticks();
        r.ok = r.d->read(r.sector0 + uint64_t(i) * r.per, r.buf, r.per).ok();
        r.samples[i] = timer::now_ticks() - t0;
    }
}

void latency_driver(void*)
{
    if (!have_swap("swap_in_latency"))
        return;
    // Raw: a 64 x 16 KiB run written first (real data, as a swapped stack is),
    // then 64 synchronous 16 KiB reads of it into a mapped kernel buffer.
    KBuf buf;
    if (!buf.make(kstack::STACK_SIZE)) {
        kprintf("kbench: error swap_in_latency: no buffer\n");
        return;
    }
    dev::BlockDevice* d = vm::swap::device();
    const uint32_t per = uint32_t(kstack::STACK_SIZE / dev::SECTOR_SIZE);
    auto run = vm::swap::space().alloc(uint32_t(LAT_N * kstack::STACK_PAGES));
    if (!run.ok()) {
        kprintf("kbench: error swap_in_latency: no run on swap\n");
        return;
    }
    uint64_t sector0 = run.value() * SECTORS_PER_PAGE;
    uint64_t samples[2 * LAT_N];
    bool ok = true;
    for (unsigned i = 0; i < LAT_N && ok; i++) {
        for (uint64_t w = 0; w < kstack::STACK_SIZE / 8; w++)
            buf.as<uint64_t>()[w] = w * 31 + i;
        ok = d->write(sector0 + uint64_t(i) * per, buf.as<void>(), per).ok();
    }
    // The reads come from a thread on the sleeper's hart: like a swap-in, each
    // then ends with the disk's interrupt (hart 0) waking a thread on the
    // other hart.
    unsigned other = cpu::count() > 1 ? 1 : 0;
    static RawReads rr;
    rr = {d, buf.as<void>(), sector0, per, samples, true};
    auto reader = thread::spawn({.name = "raw-reader", .entry = raw_reader, .arg = &rr, .flags = TF_NO_SWAP | TF_BOUND,
                                 .hart = int(other), .joinable = true});
    if (!reader.ok()) {
        kprintf("kbench: error swap_in_latency: spawn failed\n");
        return;
    }
    thread::join(reader.value());
    ok = ok && rr.ok;
    if (!ok) {
        vm::swap::space().free(run.value(), uint32_t(LAT_N * kstack::STACK_PAGES));
        kprintf("kbench: error swap_in_latency: raw I/O failed\n");
        return;
    }
    uint64_t raw_before = kbench::median(samples, LAT_N);

    // The sleeper: one thread, bound to the other hart, asleep in sched::sleep_us
    // (no stack hold), noting when it runs again after each wakeup.
    static LatState st;
    g_lat = &st;
    st.ready.store(~0u);
    st.done.store(0);
    st.stop.store(false);
    st.d = d;
    st.buf = buf.as<void>();
    st.sector0 = sector0;
    st.per = per;
    st.raw_ok.store(true);
    auto tr = thread::spawn({.name = "lat-sleeper", .entry = lat_sleeper, .flags = TF_BOUND, .hart = int(other),
                             .joinable = true});
    if (!tr.ok()) {
        kprintf("kbench: error swap_in_latency: spawn failed\n");
        return;
    }
    Thread* t = tr.value();
    kstack::swap::Stats s0 = kstack::swap::stats();
    kstack::swap::Timing tm0 = kstack::swap::timing();
    uint64_t in_seen = tm0.in_count, phases[4][LAT_N];
    unsigned n_phase = 0;
    unsigned k = 0, n_res = 0, n_swap = 0, not_swapped = 0, extra_calls = 0;
    uint64_t res[LAT_N], swp[LAT_N], gap_max = 0;
    // Alternate: a resident wakeup, then a swapped one.
    for (unsigned i = 0; i < 2 * LAT_N && ok; i++, k++) {
        bool swapped = i & 1;
        ok = wait_until(5000000, [&] {
            return st.ready.load() == k && t->state == ThreadState::Sleeping && !t->on_cpu.load();
        });
        if (!ok)
            break;
        uint64_t out_at = 0;
        if (swapped) {
            // The longest sleeper goes first; another thread may be older.
            for (unsigned tries = 0; tries < 8 && kstack::state(t->stack) != StackState::Swapped; tries++) {
                (void)kstack::swap::swap_out(kstack::swap::scratch(2), kstack::STACK_PAGES, 0);
                extra_calls += tries > 0;
                out_at = timer::now_ticks();
            }
        }
        if (swapped && kstack::state(t->stack) != StackState::Swapped) {
            not_swapped++;
            ok = not_swapped < 8;
        }
        uint64_t t0 = timer::now_ticks();
        if (swapped && out_at && t0 - out_at > gap_max)
            gap_max = t0 - out_at;
        (void)sched::wake(t);
        ok = ok && wait_until(5000000, [&] { return st.done.load() == k + 1; });
        if (!ok)
            break;
        uint64_t lat = st.resumed[k % (2 * LAT_N)] - t0;
        if (swapped && kstack::state(t->stack) == StackState::Resident && n_swap < LAT_N) {
            kstack::swap::Timing tm = kstack::swap::timing();
            if (tm.in_count != in_seen) { // read at the wakeup: its phases
                in_seen = tm.in_count;
                uint64_t ph[4] = {tm.last_start, tm.last_device, tm.last_verify, tm.last_install};
                for (unsigned q = 0; q < 4; q++)
                    phases[q][n_phase] = ph[q];
                n_phase++;
            }
            swp[n_swap++] = lat;
        }
        else if (!swapped && n_res < LAT_N)
            res[n_res++] = lat;
        if (st.resumed[k % (2 * LAT_N)] < t0)
            ok = false;
    }
    kstack::swap::Stats s1 = kstack::swap::stats();
    kstack::swap::Timing tm1 = kstack::swap::timing();
    st.stop.store(true);
    (void)wait_until(5000000, [&] { return st.ready.load() == k && t->state == ThreadState::Sleeping; });
    (void)sched::wake(t);
    thread::join(t);
    vm::swap::space().free(run.value(), uint32_t(LAT_N * kstack::STACK_PAGES));
    unsigned n_raw = st.done.load() < 2 * LAT_N ? st.done.load() : 2 * LAT_N;
    if (!st.raw_ok.load() || n_raw == 0) {
        kprintf("kbench: error swap_in_latency: the sleeper's raw reads failed\n");
        return;
    }
    uint64_t raw = kbench::median(st.raw, n_raw);
    if (!ok || n_swap == 0 || n_res == 0) {
        kprintf("kbench: error swap_in_latency: %u resident and %u swapped samples (%u not swapped)\n", n_res,
                n_swap, not_swapped);
        return;
    }
    uint64_t mres = kbench::median(res, n_res), mswp = kbench::median(swp, n_swap);
    kbench::info("swap_in_latency", "%u samples each, median; sleeper (16 KiB of stack mapped) on hart %u, driver "
                 "and disk interrupt on hart 0", LAT_N, other);
    kbench::info("swap_in_latency_raw", "the raw reads are the sleeper's own, one after each of its %u wakeups; "
                 "%u back to back by a thread on hart %u before them: median %lu us", n_raw, LAT_N, other,
                 ticks_to_ns(raw_before) / 1000);
    kbench::info("swap_in_latency_counts", "%lu swap-ins (%lu read at the wakeup, the rest by the swapper), %lu "
                 "early; longest swap-out-to-wake gap %lu us; %u extra swap_out calls",
                 s1.swap_ins - s0.swap_ins, s1.wakeup_swap_ins - s0.wakeup_swap_ins,
                 s1.early_swap_ins - s0.early_swap_ins, ticks_to_ns(gap_max) / 1000, extra_calls);
    // The checksum check of one stack (four pages), timed alone.
    uint64_t sink = 0;
    for (unsigned i = 0; i < LAT_N; i++) {
        uint64_t c0 = timer::now_ticks();
        for (uint64_t p = 0; p < kstack::STACK_SIZE; p += PAGE_SIZE)
            sink += kstack::page_checksum(reinterpret_cast<const void*>(buf.va + p), PAGE_SIZE);
        samples[i] = timer::now_ticks() - c0;
    }
    kbench::info("swap_in_latency_parts", "Alone: checksums of one 16 KiB stack %lu us (median; sum %lx)",
                 ticks_to_ns(kbench::median(samples, LAT_N)) / 1000, sink & 0xf);
    // Where a wake-time swap-in's time goes (medians over those read at the
    // wakeup), and what one IPI costs the hart that sends it (an SBI call).
    if (n_phase) {
        const char* const keys[4] = {"swap_in_us_start", "swap_in_us_device", "swap_in_us_verify",
                                     "swap_in_us_install"};
        for (unsigned q = 0; q < 4; q++)
            kbench::report(keys[q], ticks_to_ns(kbench::median(phases[q], n_phase)), 1000, "us");
    }
    kbench::info("swap_in_phases", "%u of %lu wake-time swap-ins timed by phase", n_phase,
                 tm1.in_count - tm0.in_count);
    for (unsigned i = 0; i < LAT_N; i++) {
        uint64_t c0 = timer::now_ticks();
        kern::ipi::send(other, kern::ipi::Reason::Ping);
        samples[i] = timer::now_ticks() - c0;
    }
    kbench::report("ipi_send_us", ticks_to_ns(kbench::median(samples, LAT_N)), 1000, "us");
    kbench::report("swap_raw_read_16k", ticks_to_ns(raw), 1000, "us");
    kbench::report("swap_in_latency", ticks_to_ns(mswp), 1000, "us");
    kbench::report("swap_in_ratio", mswp, raw, "ratio");
    kbench::report("wake_resident_latency", ticks_to_ns(mres), 1000, "us");
}

} // namespace

// Swap-out of 1024 stacks (16 MiB) against raw sequential writes.
KBENCH(swap_throughput) { run_driver("kbench-swaptp", throughput_driver); }

// Wakeup of a thread whose stack is on swap against one raw read.
KBENCH(swap_in_latency) { run_driver("kbench-swaplat", latency_driver); }
