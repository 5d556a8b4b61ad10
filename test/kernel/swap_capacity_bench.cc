// Kernel-stack swapping benchmark: how many blocked threads fit in memory,
// without swapping and with it, with stacks that grow on demand and with
// fixed 16 KiB stacks. A count of threads, and the fill and reap times in
// wall time (test/bench.py boots these without -icount); one setting per boot.
#include "test/kernel/swap_bench.h"
#include "test/kernel/swap_resident.h"
#include "test/kernel/kbench.h"
#include "kstack/kstack.h"
#include "kstack/swap.h"
#include "vm/layout.h"

#include <atomic>

using namespace kern;
using namespace kbench::swapbench;

namespace {

// No limit of its own: a run stops when creation fails, or when the stack
// region is full (every slot taken); the thread array has a place per slot.
constexpr unsigned CAP_MAX = unsigned(vm::layout::KSTACK_SIZE / kstack::SLOT_SIZE);
constexpr uint64_t CAP_RETRY_US = 20000;
constexpr uint64_t CAP_GIVE_UP_US = 2000000;
constexpr unsigned CAP_BATCH = 512;

std::atomic<bool> g_cap_release;

void cap_body(void*)
{
    while (!g_cap_release.load())
        sched::sleep_us(LONG_SLEEP_US);
}

struct Phase {
    unsigned n = 0;
    const char* why = "";
    uint64_t fill_ms = 0, reap_ms = 0;
    unsigned exited = 0;
};

// Wait until every thread is asleep, then release, wake and join them,
// `batch` at a time.
void reap(Thread** th, Phase& p, unsigned batch)
{
    uint64_t t0 = timer::now_us();
    unsigned i = 0;
    (void)wait_until(10000000, [&] {
        for (; i < p.n; i++)
            if (th[i]->state != ThreadState::Sleeping || th[i]->on_cpu.load())
                return false;
        return true;
    });
    g_cap_release.store(true);
    for (i = 0; i < p.n; i += batch) {
        unsigned end = i + batch < p.n ? i + batch : p.n;
        for (unsigned j = i; j < end; j++)
            (void)sched::wake(th[j]);
        for (unsigned j = i; j < end; j++) {
            thread::join(th[j]);
            p.exited++;
        }
        if (p.n > 5000 && end % 5120 == 0)
            kprintf("kbench-swap: reaped %u of %u in %lu ms, free %lu, %lu on swap\n", end, p.n,
                    (timer::now_us() - t0) / 1000, vm::kmem::free_pages(), kstack::swap::stats().stacks_swapped);
    }
    p.reap_ms = (timer::now_us() - t0) / 1000;
}

// Capacity with new stacks of `pages` pages (4: fixed 16 KiB stacks, as
// first measured; 1: growing on demand, the default). `key` prefixes the
// figures ("capacity_fixed" or "capacity").
void capacity_run(Thread** th, size_t pages, const char* key)
{
    const vm::Watermarks& w = vm::kmem::phys().watermarks();
    uint64_t saved_idle = kstack::swap::idle_us();
    kstack::set_initial_pages(pages);
    (void)kstack::drop_caches();
    uint64_t free0 = vm::kmem::free_pages();
    kstack::swap::Stats s0 = kstack::swap::stats();

    // (a) No swapping: idle threshold an hour; create until creation fails or
    // free pages fall below free_min.
    Phase a;
    kstack::swap::set_idle_us(LONG_SLEEP_US);
    g_cap_release.store(false);
    uint64_t t0 = timer::now_us();
    while (a.n < CAP_MAX) {
        if (vm::kmem::free_pages() < w.free_min) {
            a.why = "free pages below free_min";
            break;
        }
        auto r = thread::spawn({.name = "cap", .entry = cap_body, .joinable = true, .may_block = false});
        if (!r.ok()) {
            a.why = "creation failed";
            break;
        }
        th[a.n++] = r.value();
    }
    a.fill_ms = (timer::now_us() - t0) / 1000;
    uint64_t free_a = vm::kmem::free_pages();
    kstack::swap::Stats s1 = kstack::swap::stats();
    reap(th, a, CAP_MAX);
    kprintf("kbench-swap: %s: without swap: %u threads (%s) in %lu ms, free %lu pages, %lu swapped out; "
            "reaped %u in %lu ms\n",
            key, a.n, a.why, a.fill_ms, free_a, s1.swap_outs - s0.swap_outs, a.exited, a.reap_ms);
    (void)kstack::drop_caches();

    // (b) With swapping: idle threshold 50 ms; on a creation failure wait
    // 20 ms for the pagedaemon and retry; stop after 2 s without a new thread.
    Phase b;
    kstack::swap::set_idle_us(50000);
    g_cap_release.store(false);
    t0 = timer::now_us();
    uint64_t failing_since = 0, failures = 0;
    b.why = "the stack region is full";
    while (b.n < CAP_MAX) {
        auto r = thread::spawn({.name = "cap", .entry = cap_body, .joinable = true, .may_block = false});
        if (r.ok()) {
            th[b.n++] = r.value();
            failing_since = 0;
            if (b.n % 5000 == 0)
                kprintf("kbench-swap: capacity with swap: %u threads, %lu ms, free %lu, %lu on swap\n", b.n,
                        (timer::now_us() - t0) / 1000, vm::kmem::free_pages(), kstack::swap::stats().stacks_swapped);
            continue;
        }
        failures++;
        if (kstack::stats().in_use >= CAP_MAX) {
            b.why = "the stack region is full";
            break;
        }
        uint64_t now = timer::now_us();
        if (!failing_since) {
            failing_since = now;
        } else if (now - failing_since >= CAP_GIVE_UP_US) {
            b.why = "2 s of creation failures";
            break;
        }
        sched::sleep_us(CAP_RETRY_US);
    }
    b.fill_ms = (timer::now_us() - t0) / 1000;
    kstack::swap::Stats s2 = kstack::swap::stats();
    uint64_t free_b = vm::kmem::free_pages();
    kprintf("kbench-swap: %s: with swap: %u threads (%s) in %lu ms, %lu creation failures, free %lu pages, "
            "%lu stacks on swap\n",
            key, b.n, b.why, b.fill_ms, failures, free_b, s2.stacks_swapped);
    // The figures now, before the reap, which reads every stack back.
    char name[48];
    ksnprintf(name, sizeof name, "%s_no_swap", key);
    kbench::report(name, a.n, 1, "threads");
    ksnprintf(name, sizeof name, "%s_swap", key);
    kbench::report(name, b.n, 1, "threads");
    ksnprintf(name, sizeof name, "%s_ratio", key);
    kbench::report(name, b.n, a.n, "ratio");
    reap(th, b, CAP_BATCH);
    kstack::swap::Stats s3 = kstack::swap::stats();
    kstack::swap::set_idle_us(saved_idle);
    kprintf("kbench-swap: capacity with swap: reaped %u in %lu ms (batches of %u); %lu swapped in, %lu early, "
            "checksum errors %lu, killed %lu\n",
            b.exited, b.reap_ms, CAP_BATCH, s3.swap_ins - s2.swap_ins, s3.early_swap_ins - s2.early_swap_ins,
            s3.checksum_errors - s0.checksum_errors, s3.killed - s0.killed);

    kbench::info(key, "%lu pages, %lu free at start, free_min %lu; new stacks map %zu page(s)",
                 vm::kmem::total_pages(), free0, w.free_min, pages);
    ksnprintf(name, sizeof name, "%s_no_swap", key);
    kbench::info(name, "stopped: %s; %lu stacks swapped out; %u reaped in %lu ms", a.why,
                 s1.swap_outs - s0.swap_outs, a.exited, a.reap_ms);
    ksnprintf(name, sizeof name, "%s_swap", key);
    kbench::info(name, "stopped: %s; filled in %lu ms, %lu stacks on swap; %u reaped in %lu ms",
                 b.why, b.fill_ms, s2.stacks_swapped, b.exited, b.reap_ms);
    if (a.exited != a.n || b.exited != b.n)
        kprintf("kbench: error swap_capacity: %u of %u and %u of %u threads exited\n", a.exited, a.n, b.exited, b.n);
    kstack::set_initial_pages(1);
}

// One setting per boot: a run leaves kernel structures behind (page tables of
// the stack slots it used, zone pages kept for reuse) that would shrink the
// next run's figure.
void capacity_driver_with(size_t pages, const char* key)
{
    if (!have_swap("swap_capacity"))
        return;
    KBuf arr;
    if (!arr.make(CAP_MAX * sizeof(Thread*))) {
        kprintf("kbench: error swap_capacity: no memory for the thread array\n");
        return;
    }
    capacity_run(arr.as<Thread*>(), pages, key);
}
void capacity_driver(void*) { capacity_driver_with(1, "capacity"); }
void capacity_fixed_driver(void*) { capacity_driver_with(kstack::STACK_PAGES, "capacity_fixed"); }

// What a thread with its stack on swap keeps resident, from free pages
// (test/kernel/swap_resident.h); its own boot, so the stack region's page
// tables are built during the run and counted.
constexpr unsigned RES_THREADS = 16384;
void resident_driver(void*)
{
    if (!have_swap("swap_resident"))
        return;
    KBuf arr;
    if (!arr.make(RES_THREADS * sizeof(Thread*))) {
        kprintf("kbench: error swap_resident: no memory for the thread array\n");
        return;
    }
    ktest::swapres::Cost c = ktest::swapres::measure(arr.as<Thread*>(), RES_THREADS);
    if (*c.why) {
        kprintf("kbench: error swap_resident: %s (%u threads, %u on swap)\n", c.why, c.threads, c.swapped);
        return;
    }
    kbench::report("capacity_bytes_per_swapped_thread", c.pages * PAGE_SIZE, c.threads, "bytes");
    kbench::info("capacity_bytes_per_swapped_thread", "%u threads, all on swap: %lu pages fewer free", c.threads,
                 c.pages);
}

} // namespace

// Blocked threads that fit in memory, with and without swapping.
KBENCH(swap_capacity) { run_driver("kbench-swapcap", capacity_driver); }
// The same with fixed 16 KiB stacks (before stacks grew).
KBENCH(swap_capacity_fixed) { run_driver("kbench-swapcap", capacity_fixed_driver); }
// Resident bytes per thread with its stack on swap.
KBENCH(swap_resident) { run_driver("kbench-swapcap", resident_driver); }
