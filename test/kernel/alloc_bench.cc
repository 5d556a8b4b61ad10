// In-kernel allocator benchmarks: instructions per alloc+free pair on
// the fast path, on the kernel backend, and memory overhead per slab.
//
// Each loop allocates BATCH objects and frees them in the same order, so after
// warm-up every allocation hits the hart's cache (zalloc) or active slab
// (kmalloc_obj, kmalloc) and every free goes back to it: the fast path and
// nothing else. Interrupts are off during the loop, so no timer tick is
// counted and the thread cannot migrate. The loop without the allocator calls
// (the pointers still stored and read back) is measured the same way and
// subtracted; the call and return of alloc() and free() stay in the figure
// (a caller pays them), and are reported separately as "call floor": the same
// loop calling two noinline functions that do nothing. A bare free list (the
// floor) is measured both out of line and inlined into the loop.
#include "kern/seam/cpu.h"
#include "kern/arch/riscv/restart.h"
#include "test/kernel/kbench.h"
#include "kern/console/printf.h"
#include "vm/kmem.h"
#include "zalloc/kmalloc.h"
#include "zalloc/kmalloc_obj.h"
#include "zalloc/slab.h"
#include "zalloc/zone.h"

namespace {

constexpr int BATCH = 16;
constexpr long PAIRS = 1000000;
constexpr int REPEAT = 3; // take the smallest of a few runs

ZALLOC_MALLOC_DEFINE(M_KBENCH, "kbench", 0);

// Keeps the compiler from dropping or merging stores of p.
inline void opaque(void* p) { asm volatile("" ::"r"(p) : "memory"); }

__attribute__((noinline)) uint64_t loop_empty(long pairs)
{
    void* p[BATCH];
    uint64_t t0 = kbench::now();
    for (long i = 0; i < pairs; i += BATCH) {
        for (int j = 0; j < BATCH; j++) {
            void* x = &p[j];
            asm volatile("" : "+r"(x));
            p[j] = x;
        }
        for (int j = 0; j < BATCH; j++)
            opaque(p[j]);
    }
    return kbench::now() - t0;
}

__attribute__((noinline)) void* noop_alloc(void* arg) { asm volatile("" ::: "memory"); return arg; }
__attribute__((noinline)) void noop_free(void* p) { asm volatile("" ::"r"(p) : "memory"); }

__attribute__((noinline)) uint64_t loop_noop_calls(long pairs)
{
    void* p[BATCH];
    uint64_t t0 = kbench::now();
    for (long i = 0; i < pairs; i += BATCH) {
        for (int j = 0; j < BATCH; j++)
            p[j] = noop_alloc(&p[j]);
        for (int j = 0; j < BATCH; j++)
            noop_free(p[j]);
    }
    return kbench::now() - t0;
}

// The floor: a bare LIFO free list, called out of line like the allocators
// (one hart, interrupts off: no per-hart indexing, no interrupt section).
struct FreeNode {
    FreeNode* next;
};
FreeNode* g_free_head;
alignas(64) char g_free_mem[BATCH * 64];

__attribute__((noinline)) void* freelist_alloc()
{
    FreeNode* n = g_free_head;
    if (__builtin_expect(n != nullptr, 1))
        g_free_head = n->next;
    return n;
}
__attribute__((noinline)) void freelist_free(void* p)
{
    auto* n = static_cast<FreeNode*>(p);
    n->next = g_free_head;
    g_free_head = n;
}

__attribute__((noinline)) uint64_t loop_freelist(long pairs)
{
    void* p[BATCH];
    uint64_t t0 = kbench::now();
    for (long i = 0; i < pairs; i += BATCH) {
        for (int j = 0; j < BATCH; j++)
            p[j] = freelist_alloc();
        for (int j = 0; j < BATCH; j++)
            freelist_free(p[j]);
    }
    return kbench::now() - t0;
}

// The same list inlined into the loop (an allocator whose fast path is inline
// in the caller, as zalloc's and kmalloc_obj's may be, is compared with this).
__attribute__((noinline)) uint64_t loop_freelist_inline(long pairs)
{
    void* p[BATCH];
    uint64_t t0 = kbench::now();
    for (long i = 0; i < pairs; i += BATCH) {
        for (int j = 0; j < BATCH; j++) {
            FreeNode* n = g_free_head;
            if (__builtin_expect(n != nullptr, 1))
                g_free_head = n->next;
            p[j] = n;
        }
        for (int j = 0; j < BATCH; j++) {
            auto* n = static_cast<FreeNode*>(p[j]);
            n->next = g_free_head;
            g_free_head = n;
        }
    }
    return kbench::now() - t0;
}

// The same loop for both zone kinds, inlined into a named function per kind
// (build/zest.lst shows loop_zalloc and loop_kmalloc_obj).
template <typename Z>
[[gnu::always_inline]] inline uint64_t zone_loop(Z& z, long pairs)
{
    void* p[BATCH];
    uint64_t t0 = kbench::now();
    for (long i = 0; i < pairs; i += BATCH) {
        for (int j = 0; j < BATCH; j++)
            p[j] = z.alloc(zalloc::M_NOWAIT);
        for (int j = 0; j < BATCH; j++)
            z.free(p[j]);
    }
    return kbench::now() - t0;
}

__attribute__((noinline)) uint64_t loop_zalloc(zalloc::Zone& z, long pairs) { return zone_loop(z, pairs); }

__attribute__((noinline)) uint64_t loop_kmalloc_obj(zalloc::ObjZone& z, long pairs) { return zone_loop(z, pairs); }

__attribute__((noinline)) uint64_t loop_kmalloc(size_t size, long pairs)
{
    void* p[BATCH];
    uint64_t t0 = kbench::now();
    for (long i = 0; i < pairs; i += BATCH) {
        for (int j = 0; j < BATCH; j++)
            p[j] = zalloc::kmalloc(size, M_KBENCH, zalloc::M_NOWAIT);
        for (int j = 0; j < BATCH; j++)
            zalloc::kfree(p[j], M_KBENCH);
    }
    return kbench::now() - t0;
}

template <typename F>
uint64_t best_of(F f)
{
    uint64_t best = ~uint64_t(0);
    for (int r = 0; r < REPEAT; r++) {
        unsigned long s = cpu::irq_save();
        uint64_t v = f();
        cpu::irq_restore(s);
        if (v < best)
            best = v;
    }
    return best;
}

zalloc::Zone g_zone;
zalloc::ObjZone g_objzone;

} // namespace

// zalloc, kmalloc_obj and kmalloc(64) fast paths, side by side, in instructions
// per alloc+free pair against a bare free list (docs/benchmarks.md).
KBENCH(alloc_fastpath)
{
    zalloc::Backend& be = vm::kmem::backend();
    g_zone.init("kbench-zone", 64, be);
    g_objzone.init(zalloc::ObjZoneSpec {"kbench-obj", 64, {}}, be);
    // Warm up: fill the hart cache, install the active slab.
    loop_zalloc(g_zone, 4096);
    loop_kmalloc_obj(g_objzone, 4096);
    loop_kmalloc(64, 4096);

    uint64_t empty = best_of([] { return loop_empty(PAIRS); });
    uint64_t calls = best_of([] { return loop_noop_calls(PAIRS); });
    for (int j = 0; j < BATCH; j++)
        freelist_free(g_free_mem + j * 64);
    uint64_t fl = best_of([] { return loop_freelist(PAIRS); });
    uint64_t fli = best_of([] { return loop_freelist_inline(PAIRS); });
    uint64_t z = best_of([] { return loop_zalloc(g_zone, PAIRS); });
    uint64_t o = best_of([] { return loop_kmalloc_obj(g_objzone, PAIRS); });
    uint64_t k = best_of([] { return loop_kmalloc(64, PAIRS); });

    kbench::info("alloc_pairs", "%ld pairs, %d live, object 64 B, interrupts off, best of %d", PAIRS, BATCH,
                 REPEAT);
    kbench::report("alloc_loop_empty", empty, PAIRS, "instr/pair");
    kbench::report_net("alloc_call_floor", calls, empty, PAIRS, "instr/pair");
    kbench::report_net("alloc_freelist_pair", fl, empty, PAIRS, "instr/pair");
    kbench::report_net("alloc_freelist_inline_pair", fli, empty, PAIRS, "instr/pair");
    kbench::report_net("alloc_zalloc_pair", z, empty, PAIRS, "instr/pair");
    kbench::report_net("alloc_kmalloc_obj_pair", o, empty, PAIRS, "instr/pair");
    kbench::report_net("alloc_kmalloc64_pair", k, empty, PAIRS, "instr/pair");
    // Type-stable zones are never destroyed in the kernel; the bench powers off.
}

namespace {

constexpr long LOOKUPS = 10000;

// What the restartable sequences cost an interrupt taken in kernel mode
// (kern/arch/riscv/restart.h): the check of the interrupted pc, on a frame
// whose sepc is `pc`, put back after each call.
__attribute__((noinline)) uint64_t loop_restart_check(uintptr_t pc, bool call)
{
    kern::TrapFrame tf {};
    uint64_t t0 = kbench::now();
    for (long i = 0; i < LOOKUPS; i++) {
        tf.sepc = pc;
        asm volatile("" ::"r"(&tf) : "memory");
        if (call)
            kern::restart::on_interrupt(tf);
    }
    return kbench::now() - t0;
}

} // namespace

// The restart check on every interrupt taken in kernel mode, in instructions:
// for a pc in a block of kernel text with no sequence (the filter's one bit
// test: nearly every interrupt), for one next to a sequence (the filter's bit
// is set: a binary search of the table), and for one inside a sequence (sent
// back to it).
KBENCH(alloc_restart_check)
{
    size_t n = kern::restart::sequences();
    if (n < 2) {
        kbench::info("alloc_restart", "%zu restartable sequences: nothing to measure", n);
        return;
    }
    lib::RestartRange mid = kern::restart::sequence(n / 2);
    uint64_t restarts0 = kern::restart::restarts();
    uint64_t empty = best_of([] { return loop_restart_check(0, false); });
    uintptr_t plain = reinterpret_cast<uintptr_t>(&loop_restart_check); // no sequence in it
    uint64_t clear = best_of([plain] { return loop_restart_check(plain, true); });
    uint64_t between = best_of([mid] { return loop_restart_check(mid.begin - 2, true); });
    uint64_t inside = best_of([mid] { return loop_restart_check(mid.commit, true); });
    kbench::info("alloc_restart", "%zu restartable sequences in the kernel; %ld checks, best of %d; %lu restarts",
                 n, LOOKUPS, REPEAT, kern::restart::restarts() - restarts0);
    kbench::report_net("alloc_restart_check_clear", clear, empty, LOOKUPS, "instr/interrupt");
    kbench::report_net("alloc_restart_check_between", between, empty, LOOKUPS, "instr/interrupt");
    kbench::report_net("alloc_restart_check_inside", inside, empty, LOOKUPS, "instr/interrupt");
}

// Memory overhead per slab / page, from the layouts the allocators use,
// and for 4 KiB (kmalloc's page runs) measured on the page allocator.
KBENCH(alloc_overhead)
{
    const size_t sizes[] = {64, 256, 4096};
    for (size_t s : sizes) {
        zalloc::SlabLayout l = zalloc::slab_layout(s);
        uint64_t used = uint64_t(l.nobjs) * s;
        char name[64];
        ksnprintf(name, sizeof name, "overhead_slab_%lu", s);
        kbench::report(name, (zalloc::SLAB_SIZE - used) * 100, zalloc::SLAB_SIZE, "%");
        ksnprintf(name, sizeof name, "overhead_slab_%lu_objs", s);
        kbench::report(name, l.nobjs, 1, "objs/slab");
        size_t ipp = zalloc::Zone::items_per_page(s);
        if (ipp) {
            ksnprintf(name, sizeof name, "overhead_zone_%lu", s);
            kbench::report(name, (4096 - ipp * s) * 100, 4096, "%");
            ksnprintf(name, sizeof name, "overhead_zone_%lu_objs", s);
            kbench::report(name, ipp, 1, "items/page");
        }
    }
    // kmalloc(4096): above the largest class (2048), a page run with a 64-byte
    // header. Count the pages it takes from the page allocator.
    constexpr int N = 64;
    void* p[N];
    uint64_t before = vm::kmem::free_pages();
    for (int i = 0; i < N; i++)
        p[i] = zalloc::kmalloc(4096, M_KBENCH, zalloc::M_WAITOK);
    uint64_t after = vm::kmem::free_pages();
    for (int i = 0; i < N; i++)
        zalloc::kfree(p[i], M_KBENCH);
    uint64_t bytes = (before - after) * 4096;
    kbench::report("overhead_kmalloc_4096_bytes", bytes, N, "bytes/object");
    kbench::report("overhead_kmalloc_4096", (bytes - uint64_t(N) * 4096) * 100, bytes, "%");
}
