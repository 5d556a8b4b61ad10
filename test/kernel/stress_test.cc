// Kernel tests of the stress workload (kern/stress/stress.h): a short run under a
// memory hog verifies every wake and gives back what it took, and a byte
// flipped on purpose in a sleeping thread's stack is caught.
#include "test/kernel/ktest.h"
#include "kern/console/printf.h"
#include "kern/stress/stress.h"
#include "kstack/kstack.h"
#include "vm/kmem.h"
#include "zalloc/stats.h"

using namespace kern;

namespace {

// Free pages, and the pages held where a run may leave them on purpose: the
// stack cache and the zones' slabs.
struct Memory {
    int64_t free, stack_pages, zone_pages;
};

zalloc::ZoneStats g_zones[64];

Memory memory_now()
{
    Memory m {int64_t(vm::kmem::free_pages()), int64_t(kstack::stats().object_pages), 0};
    size_t n = zalloc::snapshot_zones(g_zones, 64);
    for (size_t i = 0; i < n && i < 64; i++)
        m.zone_pages += int64_t(g_zones[i].pages);
    return m;
}

Memory settled_memory()
{
    ktest::Quiet quiet; // every sleeper reaped, zones polled
    return memory_now();
}

} // namespace

// 16 sleepers, 4 KiB deep, two rounds of 300 ms sleeps while the hog holds
// every Normal page: every wake verifies, the hog drove free memory down to
// the Normal floor, and afterwards every page is back.
KTEST(stress_small)
{
    Memory before = settled_memory();
    stress::Params p;
    p.threads = 16;
    p.depth_bytes = 4096;
    p.rounds = 2;
    p.sleep_us = 300000;
    p.hog_hold_us = 100000;
    p.seed = 0x5eed;
    p.progress = false;
    auto r = stress::run(p);
    KEXPECT(r.ok());
    const stress::Result& res = r.value();
    KEXPECT_EQ(res.threads_started, p.threads);
    KEXPECT_EQ(res.threads_failed, 0u);
    KEXPECT_EQ(res.mismatches, 0u);
    KEXPECT_EQ(res.wakes_verified, p.threads * p.rounds);
    KEXPECT(res.ok());
    KEXPECT(res.hog_pages_max > 0);
    // The hog stopped only when Normal allocations did: at free_reserved.
    // Slack for pages other harts freed between its last try and the sample.
    uint64_t floor = vm::kmem::phys().watermarks().free_reserved;
    if (res.min_free_pages > floor + 32) {
        t.failf("hog left %lu pages free, Normal floor %lu", res.min_free_pages, floor);
        return;
    }

    Memory after = settled_memory();
    // The stack cache and zones may keep (or, under the pressure, have given
    // back) pages; anything else must be free again.
    int64_t unaccounted = (before.free - after.free) - (after.stack_pages - before.stack_pages) -
                          (after.zone_pages - before.zone_pages);
    if (unaccounted < -16 || unaccounted > 32)
        t.failf("%ld pages unaccounted for after the run (free %ld -> %ld, stacks %+ld, zones %+ld)",
                long(unaccounted), long(before.free), long(after.free), long(after.stack_pages - before.stack_pages),
                long(after.zone_pages - before.zone_pages));
    kprintf("ktest: stress_small: hog max %lu pages, min free %lu (floor %lu), %lu ms, %ld pages unaccounted\n",
            res.hog_pages_max, res.min_free_pages, floor, res.elapsed_us / 1000, long(unaccounted));
}

// The checker can fail: the test hook flips one byte of sleeper 0's deepest
// frame while it sleeps, and exactly that frame is reported.
KTEST(stress_detects_a_corrupted_frame)
{
    stress::Params p;
    p.threads = 4;
    p.depth_bytes = 2048;
    p.rounds = 2;
    p.sleep_us = 200000;
    p.hog = false;
    p.progress = false;
    p.corrupt_for_test = true;
    auto r = stress::run(p);
    KEXPECT(r.ok());
    const stress::Result& res = r.value();
    KEXPECT_EQ(res.threads_started, p.threads);
    KEXPECT_EQ(res.mismatches, 1u);
    KEXPECT_EQ(res.wakes_verified, p.threads * p.rounds - 1);
    KEXPECT(!res.ok());
}

// Bad parameters are refused before any thread starts.
KTEST(stress_rejects_bad_params)
{
    stress::Params p;
    p.progress = false;
    p.depth_bytes = stress::MAX_DEPTH_BYTES + 1;
    KEXPECT(stress::run(p).error() == lib::Error::Invalid);
    p.depth_bytes = 1024;
    p.threads = 0;
    KEXPECT(stress::run(p).error() == lib::Error::Invalid);
    p.threads = 1;
    p.rounds = 0;
    KEXPECT(stress::run(p).error() == lib::Error::Invalid);
}
