#include "vm/watermarks.h"

namespace vm {

bool watermarks_ordered(const Watermarks& w, uint64_t ram_pages)
{
    return w.interrupt_min <= w.system_min && w.system_min <= w.free_reserved && w.free_reserved <= w.free_min
        && w.free_min <= w.free_target && w.free_target <= ram_pages;
}

// Spot checks at the sizes Zest boots on (the kernel build proves them too).
static_assert(compute_watermarks(MIN_RAM_PAGES).free_min > compute_watermarks(MIN_RAM_PAGES).free_reserved);
static_assert(compute_watermarks(MIN_RAM_PAGES).interrupt_min > 0);
static_assert(compute_watermarks(0).free_target == 0, "no RAM, no thresholds");

} // namespace vm
