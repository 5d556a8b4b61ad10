// Free-page thresholds, computed from the amount of RAM.
//
// DragonFly's formulas (P = pages of RAM):
//   free_min      = 64 + P/200       below it the pagedaemon runs
//   free_reserved = free_min/2 + 7   Normal allocations stop here
//   system_min    = free_min/4 + 7   (pageout minimum) what the pagedaemon keeps for itself
//   interrupt_min = free_min/8 + 7   System allocations stop here
//   free_target   = 4*free_min + free_reserved   the pagedaemon works until this
// At 256 MiB: 391 / 202 / 104 / 55, target 1,766. Kept as they are: they scale
// with RAM, and at 32 MiB (the smallest Zest boots on) they still leave a
// reserve of 55 pages (220 KiB) for the paging path, more than it needs for a
// stack swap-out cluster and its metadata.
#pragma once

#include <cstdint>

namespace vm {

struct Watermarks {
    uint64_t free_min;
    uint64_t free_reserved;
    uint64_t system_min;
    uint64_t interrupt_min;
    uint64_t free_target;
};

// 32 MiB of usable RAM: below it the reserve and the kernel's own needs leave
// too little to run anything.
constexpr uint64_t MIN_RAM_PAGES = (32ul << 20) / 4096 - 1024;

constexpr Watermarks compute_watermarks(uint64_t ram_pages)
{
    Watermarks w {};
    w.free_min = 64 + ram_pages / 200;
    w.free_reserved = w.free_min / 2 + 7;
    w.system_min = w.free_min / 4 + 7;
    w.interrupt_min = w.free_min / 8 + 7;
    w.free_target = 4 * w.free_min + w.free_reserved;
    return w;
}

static_assert(compute_watermarks(65536).free_min == 391);
static_assert(compute_watermarks(65536).free_reserved == 202);
static_assert(compute_watermarks(65536).system_min == 104);
static_assert(compute_watermarks(65536).interrupt_min == 55);
static_assert(compute_watermarks(65536).free_target == 1766);

} // namespace vm
