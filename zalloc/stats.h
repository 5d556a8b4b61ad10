// Snapshots for the shell's `vmstat -z` (zones) and `vmstat -m` (malloc types).
//
// A snapshot is a plain struct copied out under the zone's lock (list sizes) and
// from relaxed per-hart counters (used, requests), so it is consistent per zone
// but not across zones, which is all a statistics display needs.
#pragma once

#include "lib/function_ref.h"

#include <cstddef>
#include <cstdint>

namespace zalloc {

enum class ZoneKind : uint8_t { Zalloc, ZallocInterrupt, Obj };

struct ZoneStats {
    const char* name = "";
    ZoneKind kind = ZoneKind::Zalloc;
    size_t item_size = 0;
    size_t limit = 0;     // items; 0 = none
    size_t used = 0;      // items handed out and not freed
    size_t free = 0;      // items allocated from the backend but free
    uint64_t requests = 0;
    uint64_t failures = 0;
    // kmalloc_obj: reserve slabs present / target. zalloc: held-back items
    // present / zfreemin (the zalloc reserve is counted in items).
    size_t reserve_present = 0;
    size_t reserve_target = 0;
    size_t k_guarantee = 0;   // objects the paging path can take with zero free pages
    size_t objs_per_slab = 0; // kmalloc_obj; items per page for zalloc
    // kmalloc_obj slabs by state; zalloc reports pages in slabs_hart.
    size_t slabs_hart = 0;      // active or alternate on some hart
    size_t slabs_partial = 0;   // some objects free, some in use
    size_t slabs_free = 0;      // every object free (DragonFly calls these "full")
    size_t slabs_exhausted = 0; // no object free (DragonFly calls these "empty")
    size_t pages = 0;           // pages held from the backend (reserve included)
    uint64_t slabs_allocated = 0;
    uint64_t slabs_released = 0;
};

struct TypeStats {
    const char* name = "";
    size_t in_use = 0;   // objects
    size_t memory = 0;   // bytes, rounded to the size class or page run
    size_t high_water = 0;
    size_t limit = 0;    // bytes; 0 = none
    uint64_t requests = 0;
    uint64_t failures = 0;
};

// Fill out[0..max) with every registered zone (or type); returns how many exist
// (which may exceed max: call again with a bigger array).
size_t snapshot_zones(ZoneStats* out, size_t max);
size_t snapshot_types(TypeStats* out, size_t max);

// Text for vmstat: a header line and one line per entry, each ending in '\n'.
// The line callback gets a NUL-terminated line; the buffer versions write as much
// as fits (always NUL-terminated) and return the length the whole text needs.
using LineSink = lib::FunctionRef<void(const char* line)>;
void format_zone_stats(const ZoneStats* z, size_t n, LineSink sink);
void format_type_stats(const TypeStats* t, size_t n, LineSink sink);
size_t format_zone_stats(const ZoneStats* z, size_t n, char* buf, size_t size);
size_t format_type_stats(const TypeStats* t, size_t n, char* buf, size_t size);

} // namespace zalloc
