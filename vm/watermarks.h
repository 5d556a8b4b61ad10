// Free-page thresholds, computed from the amount of RAM.
//
// DragonFly's formulas (P = pages of RAM, 4 KiB pages):
//   free_min      = 64 + P/200       below it the pagedaemon runs
//   free_reserved = free_min/2 + 7   Normal allocations stop here
//   system_min    = free_min/4 + 7   (DragonFly's pageout_free_min) what the paging path keeps
//   interrupt_min = free_min/8 + 7   System allocations stop here; below it only Interrupt
//   free_target   = 4*free_min + free_reserved   the pagedaemon works until this
// At 256 MiB (65,536 pages): 391 / 202 / 104 / 55, target 1,766.
//
// The formulas are kept as they are from MIN_RAM_PAGES up: they scale with RAM
// and even at the minimum leave interrupt_min = 19 pages (76 KiB) that only
// interrupt-class callers (the pager's emergency path) may touch. The fixed
// 64-page floor of free_min would swallow a tiny RAM (host tests, or a board
// below the minimum), so each threshold is also capped at a fraction of P:
// still ordered, growing with P, never above P/2.
#pragma once

#include "lib/page.h"

#include <cstdint>

namespace vm {

struct Watermarks {
    uint64_t free_min;
    uint64_t free_reserved;
    uint64_t system_min;    // pageout minimum
    uint64_t interrupt_min;
    uint64_t free_target;
};

// The smallest RAM Zest supports: a 32 MiB board minus 4 MiB for what is not
// ours to manage (OpenSBI takes 512 KiB to 2 MiB at the base of RAM, the kernel
// image and the boot page tables about as much again). 7,168 usable pages give
// free_min 99 and reserves of 56 (Normal stops) / 31 / 19 (System stops) pages:
// under 1% of RAM, yet still enough for a pageout cluster and its metadata.
// Below this the kernel's own needs plus the reserves leave too little to run
// programs, so kmem refuses to boot rather than thrash.
constexpr uint64_t MIN_RAM_PAGES = (32ul << 20) / PAGE_SIZE - 1024;

constexpr Watermarks compute_watermarks(uint64_t ram_pages)
{
    const uint64_t p = ram_pages;
    Watermarks w {};
    w.free_min = 64 + p / 200;
    w.free_reserved = w.free_min / 2 + 7;
    w.system_min = w.free_min / 4 + 7;
    w.interrupt_min = w.free_min / 8 + 7;
    w.free_target = 4 * w.free_min + w.free_reserved;
    // Tiny RAM: each threshold at most a fixed fraction of P. Both sequences
    // are ordered and grow with P, so their element-wise minimum is too, and
    // the target never exceeds half of RAM. From about 4 MiB (1,000 pages) up
    // the caps never bind and the figures are DragonFly's exactly.
    auto cap = [](uint64_t v, uint64_t limit) { return v < limit ? v : limit; };
    w.free_target = cap(w.free_target, p / 2);
    w.free_min = cap(w.free_min, p / 8);
    w.free_reserved = cap(w.free_reserved, p / 16);
    w.system_min = cap(w.system_min, p / 32);
    w.interrupt_min = cap(w.interrupt_min, p / 64);
    return w;
}

// interrupt_min <= system_min <= free_reserved <= free_min <= free_target <= ram_pages.
bool watermarks_ordered(const Watermarks& w, uint64_t ram_pages);

static_assert(compute_watermarks(65536).free_min == 391);
static_assert(compute_watermarks(65536).free_reserved == 202);
static_assert(compute_watermarks(65536).system_min == 104);
static_assert(compute_watermarks(65536).interrupt_min == 55);
static_assert(compute_watermarks(65536).free_target == 1766);

} // namespace vm
