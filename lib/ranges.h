// Physical address ranges and the one operation boot needs on them: "all of
// these, minus all of those", e.g. usable RAM = memory - reserved - kernel image.
//
// Lists are plain arrays owned by the caller (no heap at boot). The result is
// sorted, has no overlapping or touching ranges, and every range is shrunk
// inward to `align` so a page allocator can use it whole.
#pragma once

#include "lib/page.h"
#include "lib/result.h"

#include <cstddef>
#include <cstdint>

namespace fdt {

// [base, base + size). A range that would wrap is clamped at the top of memory.
struct Range {
    uint64_t base = 0;
    uint64_t size = 0;

    [[nodiscard]] uint64_t end() const
    {
        return base + size < base ? ~uint64_t(0) : base + size;
    }
    bool operator==(const Range&) const = default;
};
static_assert(sizeof(Range) == 16);

// out = (a[0..na) minus b[0..nb)), merged, sorted by base, aligned inward to
// `align` (a power of two), empty ranges dropped. Inputs may be unsorted and may
// overlap. Returns Error::NoSpace (with out holding the first `cap` ranges) if
// the result needs more than `cap` entries, Error::Invalid for a bad align.
// `out` must not alias a or b.
[[nodiscard]] lib::Status subtract_ranges(const Range* a, size_t na, const Range* b, size_t nb,
                                          Range* out, size_t cap, size_t& nout,
                                          uint64_t align = PAGE_SIZE);

// Adds r to the sorted, merged list out[0..n), keeping it sorted and merged.
// Error::NoSpace if it needs a new slot and n == cap.
[[nodiscard]] lib::Status insert_merged(Range* out, size_t& n, size_t cap, Range r);

} // namespace fdt
