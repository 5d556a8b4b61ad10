// Shell: kstack (kernel stacks: slots, the cache, resident pages, growth and
// give-back; the counters are kstack::stats() and kstack::mapped_histogram()).
#include "kern/console/printf.h"
#include "kern/shell/shell.h"
#include "kstack/kstack.h"

SHELL_COMMAND(kstack, "", "kernel stacks: in use, cached, mapped pages, growth faults, pages given back, cache hits")
{
    if (argc != 1)
        return 1;
    kstack::Stats s = kstack::stats();
    uint64_t lookups = s.cache_hits + s.cache_misses;
    kprintf("kernel stacks: %zu KiB slots of stack, guard %zu KiB below (and the next slot's above); "
            "new stacks map %zu page(s) and grow on demand\n",
            kstack::STACK_SIZE / 1024, kstack::GUARD_SIZE / 1024, kstack::initial_pages());
    kprintf("  in use %lu, cached %lu per-hart + %lu global\n", s.in_use, s.cached_hart, s.cached_global);
    uint64_t hist[kstack::STACK_PAGES + 1];
    kstack::mapped_histogram(hist);
    uint64_t threads = 0, pages = 0;
    kprintf("  live threads by resident pages:");
    for (size_t k = 0; k <= kstack::STACK_PAGES; k++) {
        kprintf(" %zu:%lu", k, hist[k]);
        threads += hist[k];
        pages += k * hist[k];
    }
    kprintf(" (0 = on swap)\n");
    if (threads) {
        uint64_t fixed = threads * kstack::STACK_PAGES;
        kprintf("  their stacks: %lu KiB resident, %lu KiB with fixed %zu KiB stacks: %lu%% saved\n", pages * 4,
                fixed * 4, kstack::STACK_SIZE / 1024, (fixed - pages) * 100 / fixed);
    }
    kprintf("  stack object: %lu resident pages (%lu KiB, cached stacks included)\n", s.object_pages,
            s.object_pages * 4);
    kprintf("  growth: %lu faults, %lu pages mapped, %lu waits for memory; %lu pages given back by the pagedaemon\n",
            s.grow_faults, s.pages_grown, s.grow_waits, s.pages_given_back);
    kprintf("  built %lu, destroyed %lu; cache hits %lu of %lu (%lu%%)\n", s.built, s.destroyed, s.cache_hits,
            lookups, lookups ? s.cache_hits * 100 / lookups : 0);
    kprintf("  guard faults %lu; deepest use seen %lu bytes\n", s.guard_faults, s.max_high_water);
    return 0;
}
