// Range subtraction for boot-time memory maps. See lib/ranges.h.
//
// The lists are tiny (a handful of memory banks, a few dozen reservations), so
// the quadratic algorithms here are the clear choice: no sorting of inputs, no
// scratch space.
#include "lib/ranges.h"

namespace fdt {

namespace {

// The reserved range containing `at`, if any: its end.
bool covered(const Range* b, size_t nb, uint64_t at, uint64_t& until)
{
    for (size_t i = 0; i < nb; i++) {
        if (b[i].size && b[i].base <= at && at < b[i].end()) {
            until = b[i].end();
            return true;
        }
    }
    return false;
}

// The lowest reserved base strictly above `at`, or `limit`.
uint64_t next_reserved(const Range* b, size_t nb, uint64_t at, uint64_t limit)
{
    for (size_t i = 0; i < nb; i++)
        if (b[i].size && b[i].base > at && b[i].base < limit)
            limit = b[i].base;
    return limit;
}

} // namespace

lib::Status insert_merged(Range* out, size_t& n, size_t cap, Range r)
{
    if (r.size == 0)
        return {};
    uint64_t lo = r.base, hi = r.end();
    // Absorb every range that overlaps or touches [lo, hi), removing it.
    size_t w = 0;
    for (size_t i = 0; i < n; i++) {
        if (out[i].end() >= lo && out[i].base <= hi) {
            lo = out[i].base < lo ? out[i].base : lo;
            hi = out[i].end() > hi ? out[i].end() : hi;
        } else {
            out[w++] = out[i];
        }
    }
    n = w;
    if (n == cap)
        return lib::Error::NoSpace;
    // Insert [lo, hi) in base order.
    size_t pos = n;
    while (pos > 0 && out[pos - 1].base > lo) {
        out[pos] = out[pos - 1];
        pos--;
    }
    out[pos] = Range {lo, hi - lo};
    n++;
    return {};
}

lib::Status subtract_ranges(const Range* a, size_t na, const Range* b, size_t nb, Range* out,
                            size_t cap, size_t& nout, uint64_t align)
{
    nout = 0;
    if (align == 0 || (align & (align - 1)) != 0)
        return lib::Error::Invalid;
    // Walk each range of a from left to right, jumping over reserved ranges and
    // emitting the gaps between them.
    for (size_t i = 0; i < na; i++) {
        uint64_t at = a[i].base, end = a[i].end();
        while (at < end) {
            uint64_t until;
            if (covered(b, nb, at, until)) {
                at = until;
                continue;
            }
            uint64_t stop = next_reserved(b, nb, at, end);
            if (!insert_merged(out, nout, cap, Range {at, stop - at}).ok())
                return lib::Error::NoSpace;
            at = stop;
        }
    }
    // Shrink inward to whole pages last, so pieces that touch merge first.
    size_t w = 0;
    for (size_t i = 0; i < nout; i++) {
        uint64_t lo = out[i].base + (align - 1);
        if (lo < out[i].base) // rounding up wrapped: nothing aligned is left
            continue;
        lo &= ~(align - 1);
        uint64_t hi = out[i].end() & ~(align - 1);
        if (lo < hi)
            out[w++] = Range {lo, hi - lo};
    }
    nout = w;
    return {};
}

} // namespace fdt
