// Instructions per alloc+free pair on the allocation fast paths (the
// in-kernel number), counted with rdinstret over a million pairs on a warmed
// zone, minus the same loop with nothing in it. On hardware instret counts
// retired instructions (interrupt handlers that run meanwhile add a little,
// hence the minimum of several runs). QEMU counts them only with -icount:
// without it, QEMU 7.2's instret is the host's cycle counter. So each test first
// times a loop of known length; if instret does not count its instructions, it
// prints the figure as meaningless and does not enforce the bound. Measure with
//   qemu-system-riscv64 -M virt -smp 4 -m 256M -nographic -icount shift=0
//       -kernel build/Image -append "ktest=zalloc_fastpath*"
//
// The zone pointer is passed through an empty asm on every iteration, so the
// compiler cannot hoist loads of zone fields out of the loop: each pair pays
// what a caller holding the zone pointer in a register pays. Interrupts stay on,
// as for a real caller: the fast paths are restartable sequences that an
// interrupt sends back to their start (kern/seam/hart_list.h).
#include "kern/seam/cpu.h"
#include "kern/arch/riscv/csr.h"
#include "test/kernel/ktest.h"
#include "kern/console/printf.h"
#include "vm/kmem.h"
#include "zalloc/debug.h"
#include "zalloc/kmalloc.h"
#include "zalloc/kmalloc_obj.h"
#include "zalloc/zone.h"

namespace {

constexpr uint64_t PAIRS = 1000000;
constexpr int RUNS = 5;
// The bounds the fast paths are held to, debug off, in tenths of an instruction
// per alloc+free pair: what they measure here (17.0 for zalloc and kmalloc_obj,
// 36.0 for kmalloc(64)) plus a small margin, so any instruction added to a
// fast path fails the test (zalloc/hart_cache.h and zalloc/kmalloc.h say where
// they go). Under -icount the counts are exact and repeat to the tenth.
constexpr uint64_t ZONE_BOUND_TENTHS = 175;
constexpr uint64_t KMALLOC_BOUND_TENTHS = 365;

template <typename T>
[[gnu::always_inline]] inline T* opaque(T* p)
{
    asm volatile("" : "+r"(p));
    return p;
}

// One measurement: instructions for PAIRS iterations of `body`, on one hart
// (a run that migrated is discarded and returns ~0).
template <typename Body>
[[gnu::noinline]] uint64_t count_loop(Body body)
{
    unsigned hart = cpu::id();
    uint64_t t0 = csr::rdinstret();
    for (uint64_t i = 0; i < PAIRS; i++)
        body();
    uint64_t t1 = csr::rdinstret();
    if (cpu::id() != hart)
        return ~uint64_t(0);
    return t1 - t0;
}

template <typename Body>
uint64_t min_of_runs(Body body)
{
    uint64_t best = ~uint64_t(0);
    for (int r = 0; r < RUNS; r++) {
        uint64_t n = count_loop(body);
        if (n < best)
            best = n;
    }
    return best;
}

// Does instret count instructions here? 2 x 100000 instructions, known exactly.
bool instret_counts_instructions()
{
    constexpr uint64_t N = 100000;
    uint64_t best = ~uint64_t(0);
    for (int r = 0; r < RUNS; r++) {
        uint64_t n = N;
        uint64_t t0 = csr::rdinstret();
        asm volatile("1: addi %0, %0, -1\n\tbnez %0, 1b" : "+r"(n));
        uint64_t t1 = csr::rdinstret();
        if (t1 - t0 < best)
            best = t1 - t0;
    }
    // The loop, plus the rdinstret and a few instructions around it.
    return best >= 2 * N && best <= 2 * N + 16;
}

// Print the figure; fail above the bound if it means anything.
void check(ktest::Context& t, const char* what, uint64_t tenths, uint64_t bound)
{
    bool exact = instret_counts_instructions();
    kprintf("ktest: %s fast path: %lu.%lu instructions per pair (alloc+free, %lu pairs, debug %s)%s\n", what,
            tenths / 10, tenths % 10, PAIRS, zalloc::debug::enabled() ? "on" : "off",
            exact ? "" : " [instret does not count instructions here (QEMU without -icount?): not checked]");
    if (exact && !zalloc::debug::enabled() && tenths > bound)
        t.failf("%s: %lu.%lu instructions per pair, bound %lu.%lu", what, tenths / 10, tenths % 10, bound / 10,
                bound % 10);
}

uint64_t empty_loop()
{
    int dummy = 0;
    int* d = &dummy;
    return min_of_runs([d] { (void)opaque(d); });
}

// Tenths of an instruction per pair.
uint64_t tenths_per_pair(uint64_t loop, uint64_t empty)
{
    uint64_t net = loop > empty ? loop - empty : 0;
    return (net * 10 + PAIRS / 2) / PAIRS;
}

} // namespace

KTEST(zalloc_fastpath_zone_instructions_per_pair)
{
    static zalloc::Zone zone;
    zone.init("ktest-fastpath-zone", 64, vm::kmem::backend());
    zalloc::Zone* z = &zone;
    // Warm: the hart's cache holds items.
    for (int i = 0; i < 4; i++) {
        void* p = z->alloc(zalloc::M_WAITOK);
        z->free(p);
    }
    uint64_t empty = empty_loop();
    uint64_t loop = min_of_runs([z] {
        zalloc::Zone* zp = opaque(z);
        void* p = zp->alloc(zalloc::M_WAITOK);
        zp->free(opaque(p));
    });
    zone.destroy();
    check(t, "zalloc", tenths_per_pair(loop, empty), ZONE_BOUND_TENTHS);
}

KTEST(zalloc_fastpath_kmalloc_obj_instructions_per_pair)
{
    static zalloc::ObjZone zone;
    zone.init({"ktest-fastpath-obj", 64, {}}, vm::kmem::backend());
    zalloc::ObjZone* z = &zone;
    for (int i = 0; i < 4; i++) {
        void* p = z->alloc(zalloc::M_WAITOK);
        z->free(p);
    }
    uint64_t empty = empty_loop();
    uint64_t loop = min_of_runs([z] {
        zalloc::ObjZone* zp = opaque(z);
        void* p = zp->alloc(zalloc::M_WAITOK);
        zp->free(opaque(p));
    });
    zone.destroy();
    check(t, "kmalloc_obj", tenths_per_pair(loop, empty), ZONE_BOUND_TENTHS);
}

namespace {
ZALLOC_MALLOC_DEFINE(g_fastpath_type, "ktest-fastpath", 0);
}

// kmalloc/kfree of 64 bytes: the inline fast paths of zalloc/kmalloc.h (the
// class zone's list and the malloc type's per-hart counters in one interrupt
// section each way, kfree's class found from the slab header).
KTEST(zalloc_fastpath_kmalloc_instructions_per_pair)
{
    for (int i = 0; i < 4; i++)
        zalloc::kfree(zalloc::kmalloc(64, g_fastpath_type, zalloc::M_WAITOK), g_fastpath_type);
    uint64_t empty = empty_loop();
    zalloc::MallocType* ty = &g_fastpath_type;
    uint64_t loop = min_of_runs([ty] {
        zalloc::MallocType* tp = opaque(ty);
        void* p = zalloc::kmalloc(64, *tp, zalloc::M_WAITOK);
        zalloc::kfree(opaque(p), *tp);
    });
    check(t, "kmalloc(64)", tenths_per_pair(loop, empty), KMALLOC_BOUND_TENTHS);
}
