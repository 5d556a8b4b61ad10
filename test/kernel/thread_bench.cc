// In-kernel thread and stack benchmarks and TLB shootdown.
//
// Everything runs in a driver thread bound (TF_BOUND) to one hart, hart 1 when
// there is one (hart 0 keeps the boot thread), and every thread it creates is
// bound to the same hart, so no migration or stealing enters the figures.
// Interrupts stay on (the scheduler needs them), so a timer tick can fall into
// a sample: each figure is the median of many samples, minus the median of the
// same sample with the measured work left out.
#include "kern/seam/cpu.h"
#include "test/kernel/kbench.h"
#include "kern/console/printf.h"
#include "kern/sched/sched.h"
#include "kern/sched/thread.h"
#include "kern/arch/riscv/timer.h"
#include "kstack/kstack.h"
#include "vm/kmem.h"
#include "vm/tlb.h"

#include <atomic>

using namespace kern;

namespace {

constexpr unsigned LIFE_N = 200;    // create+start+exit+reap samples per case
constexpr unsigned SWITCH_N = 4000; // yields sampled
constexpr unsigned MAX_HELD = 2 * LIFE_N + 64;

uint64_t g_samples[SWITCH_N];
uint64_t g_base[SWITCH_N];
kstack::Stack* g_held[MAX_HELD];

unsigned bench_hart() { return cpu::count() > 1 ? 1 : 0; }

void child_nop(void*) {}

__attribute__((noinline)) void nop_call() { asm volatile("" ::: "memory"); }

// Run fn in a bound thread on the bench hart and wait for it.
void run_bound(const char* name, void (*fn)(void*))
{
    auto r = thread::spawn({.name = name, .entry = fn, .flags = TF_BOUND, .hart = int(bench_hart()),
                            .joinable = true});
    if (!r.ok()) {
        kprintf("kbench: error %s: spawn failed\n", name);
        return;
    }
    thread::join(r.value());
}

// One create+start+exit+reap of a thread on this hart, in instructions.
uint64_t one_lifecycle()
{
    uint64_t t0 = kbench::now();
    auto r = thread::spawn({.name = "kbench-child", .entry = child_nop, .flags = TF_BOUND,
                            .hart = int(cpu::id()), .joinable = true});
    if (r.ok())
        thread::join(r.value());
    uint64_t d = kbench::now() - t0;
    return r.ok() ? d : 0;
}

// Take stacks until one had to be built: this hart's cache and the global
// cache are then empty. The stacks taken are kept in g_held.
unsigned drain_stack_caches(unsigned held)
{
    kstack::trim_cache(0);
    for (;;) {
        uint64_t built = kstack::stats().built;
        auto s = kstack::alloc(true);
        if (!s.ok() || held >= MAX_HELD)
            return held;
        g_held[held++] = s.value();
        if (kstack::stats().built != built)
            return held;
    }
}

void lifecycle_driver(void*)
{
    // Empty measurement: the two reads of instret around nothing.
    for (unsigned i = 0; i < LIFE_N; i++) {
        uint64_t t0 = kbench::now();
        nop_call();
        g_base[i] = kbench::now() - t0;
    }
    uint64_t base = kbench::median(g_base, LIFE_N);

    // Cached: the stack of the previous thread waits in this hart's cache.
    one_lifecycle();
    kstack::Stats s0 = kstack::stats();
    for (unsigned i = 0; i < LIFE_N; i++)
        g_samples[i] = one_lifecycle();
    kstack::Stats s1 = kstack::stats();
    uint64_t cached = kbench::median(g_samples, LIFE_N);

    // Not cached: before each sample, empty this hart's and the global cache,
    // so spawn() builds a stack (pages, mapping) from scratch.
    unsigned held = 0;
    uint64_t hits = 0, misses = 0;
    unsigned n = 0;
    for (unsigned i = 0; i < LIFE_N && held < MAX_HELD - 2; i++) {
        held = drain_stack_caches(held);
        kstack::Stats a = kstack::stats();
        g_samples[n++] = one_lifecycle();
        kstack::Stats b = kstack::stats();
        hits += b.cache_hits - a.cache_hits;
        misses += b.cache_misses - a.cache_misses;
    }
    uint64_t uncached = kbench::median(g_samples, n);
    for (unsigned i = 0; i < held; i++)
        kstack::free(g_held[i]);
    kstack::trim_cache(0);

    kbench::info("thread_lifecycle", "hart %u, %u samples each, median; cached run: %lu hits %lu misses; "
                 "uncached run: %lu hits %lu misses",
                 cpu::id(), LIFE_N, s1.cache_hits - s0.cache_hits, s1.cache_misses - s0.cache_misses, hits,
                 misses);
    kbench::report_net("thread_lifecycle_cached", cached, base, 1, "instr");
    kbench::report_net("thread_lifecycle_uncached", uncached, base, 1, "instr");
}

struct SwitchState {
    std::atomic<bool> stop {false};
    std::atomic<bool> started {false};
};
SwitchState g_sw;

void switch_partner(void*)
{
    g_sw.started.store(true);
    while (!g_sw.stop.load(std::memory_order_relaxed))
        sched::yield();
}

void switch_driver(void*)
{
    g_sw.stop = false;
    g_sw.started = false;
    // The loop with a no-op call in place of yield().
    for (unsigned i = 0; i < SWITCH_N; i++) {
        uint64_t t0 = kbench::now();
        nop_call();
        g_base[i] = kbench::now() - t0;
    }
    uint64_t base = kbench::median(g_base, SWITCH_N);
    auto r = thread::spawn({.name = "kbench-yield", .entry = switch_partner, .flags = TF_BOUND,
                            .hart = int(cpu::id()), .joinable = true});
    if (!r.ok()) {
        kprintf("kbench: error context_switch: spawn failed\n");
        return;
    }
    while (!g_sw.started.load())
        sched::yield();
    for (unsigned i = 0; i < 100; i++) // warm up
        sched::yield();
    uint64_t sw0 = sched::stats(cpu::id()).switches;
    for (unsigned i = 0; i < SWITCH_N; i++) {
        uint64_t t0 = kbench::now();
        sched::yield();
        g_samples[i] = kbench::now() - t0;
    }
    uint64_t sw1 = sched::stats(cpu::id()).switches;
    g_sw.stop = true;
    thread::join(r.value());
    // One sample: driver -> partner, the partner's loop around its yield(),
    // partner -> driver: two switches.
    uint64_t round = kbench::median(g_samples, SWITCH_N);
    kbench::info("context_switch", "hart %u, %u yields sampled, %lu switches counted by the scheduler, median",
                 cpu::id(), SWITCH_N, sw1 - sw0);
    kbench::report_net("context_switch_round_trip", round, base, 1, "instr");
    kbench::report_net("context_switch", round, base, 2, "instr/switch");
}

} // namespace

// Create+start+exit+reap a thread, with a cached stack and without.
KBENCH(thread_lifecycle) { run_bound("kbench-life", lifecycle_driver); }

// Two threads on one hart yielding to each other: the cost of a context switch.
KBENCH(context_switch) { run_bound("kbench-switch", switch_driver); }

// vm::tlb::shootdown of one page, every other online hart reached
// through SBI RFENCE. Reported in time (rdtime), not instructions: the caller
// waits in OpenSBI for the other harts, and under QEMU -icount (the only mode
// where instret counts instructions) the harts run round-robin on one host
// thread, so the wait is set by QEMU's scheduling quantum, not by Zest. The
// driver boots this one without -icount, with multi-threaded TCG, so the time is
// QEMU's on this host: indicative only.
KBENCH(tlb_shootdown)
{
    constexpr unsigned N = 2000;
    auto va = vm::kmem::kva().alloc(4096, 4096);
    auto pa = vm::kmem::alloc_page(vm::kmem::Class::Normal, false);
    if (!va.ok() || !pa.ok() || !vm::kmem::map_page(va.value(), pa.value(), vm::kmem::Perm::ReadWrite).ok()) {
        kprintf("kbench: error tlb_shootdown: no page\n");
        return;
    }
    uint64_t hz = timer::timebase_hz();
    for (unsigned i = 0; i < 20; i++) // warm up
        vm::tlb::shootdown(va.value(), 1);
    for (unsigned i = 0; i < N && i < SWITCH_N; i++) {
        uint64_t t0 = timer::now_ticks();
        vm::tlb::shootdown(va.value(), 1);
        g_samples[i] = timer::now_ticks() - t0;
    }
    uint64_t sd = kbench::median(g_samples, N < SWITCH_N ? N : SWITCH_N);
    uint64_t t0 = timer::now_ticks();
    for (unsigned i = 0; i < N; i++)
        vm::tlb::shootdown(va.value(), 1);
    uint64_t total = timer::now_ticks() - t0;
    kbench::info("tlb_shootdown", "%u harts online, %u samples, timebase %lu Hz", cpu::count(), N, hz);
    // ticks -> ns: ticks * 1e9 / hz.
    kbench::report("tlb_shootdown_1page_median_ns", sd * 1000000000ull, hz, "ns");
    kbench::report("tlb_shootdown_1page_mean_ns", total * 1000000000ull / N, hz, "ns");
    vm::kmem::unmap_page(va.value());
    vm::tlb::shootdown(va.value(), 1);
    vm::kmem::free_page(pa.value());
    vm::kmem::kva().free(va.value(), 4096);
}
