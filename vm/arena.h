// A kernel virtual address arena: hands out aligned ranges of a region and
// takes them back, merging free neighbours. Segment records come from a fixed
// pool given at init (no allocation: the arena sits below the allocators), and
// running out of them is an error like running out of space.
//
// Address-ordered first fit: simple, and known to fragment about as little as
// best fit on real workloads; every free coalesces with both neighbours.
//
// Populated spans: the client (the kernel's sv39 code) may build every
// page-table page of a span in advance and say so with mark_populated(). An
// alloc with Placement::Populated then returns only a range lying wholly in
// such a span, so mapping any page in it needs no table page: an interrupt
// zone refills with exactly one physical page. Tables are never torn down, so
// a span stays populated after its ranges are freed and is reused first.
#pragma once

#include "kern/sync/spinlock.h"
#include "lib/list.h"
#include "lib/result.h"

#include <cstddef>
#include <cstdint>

namespace vm {

class Arena {
public:
    struct Segment {
        lib::ListNode node;
        uintptr_t base;
        size_t size;
    };

    enum class Placement : uint8_t { Any, Populated };
    static constexpr size_t MAX_POPULATED = 16; // disjoint populated spans, merged when adjacent

    explicit constexpr Arena(const char* name) : lock_(name), name_(name) {}
    Arena(const Arena&) = delete;
    Arena& operator=(const Arena&) = delete;

    // Manage [base, base + size); `pool` holds the segment records.
    void init(uintptr_t base, size_t size, Segment* pool, size_t npool);

    // A range of `size` bytes aligned to `align` (a power of two, at least a
    // page); first fit. NoSpace if no free range fits, NoMemory if a segment
    // record is needed and the pool is empty.
    // With Placement::Populated, only inside populated spans (NoSpace if none
    // fits); with Placement::Any, outside them unless nothing else fits.
    [[nodiscard]] lib::Result<uintptr_t> alloc(size_t size, size_t align, Placement where = Placement::Any);
    // Give back a range from alloc() (any part of one, too). Panics on a
    // range outside the arena or overlapping free space (a double free).
    void free(uintptr_t base, size_t size);

    // The client built the page tables of [base, base + size): record it.
    // NoSpace when MAX_POPULATED disjoint spans are already recorded.
    [[nodiscard]] lib::Status mark_populated(uintptr_t base, size_t size);
    // Whether all of [base, base + size) lies in one populated span.
    [[nodiscard]] bool is_populated(uintptr_t base, size_t size);

    [[nodiscard]] uintptr_t base() const { return base_; }
    [[nodiscard]] size_t size() const { return size_; }
    struct Stats {
        size_t in_use;      // bytes handed out
        size_t free_segments;
        size_t largest_free;
        size_t records_free;
        size_t populated;   // bytes in populated spans
        uint64_t allocs, frees;
        uint64_t no_space;  // allocations that found no fitting range
        uint64_t no_record; // allocations refused for want of a segment record
    };
    [[nodiscard]] Stats stats();

private:
    struct Span {
        uintptr_t base;
        size_t size;
    };
    enum class Pass : uint8_t { Unpopulated, Populated, Anywhere };
    [[nodiscard]] uintptr_t place_locked(const Segment& s, size_t size, size_t align, Pass pass) const;
    // Take [start, start + size) out of free segment s. NoMemory if that needs
    // a record and none is left.
    [[nodiscard]] lib::Status carve_locked(Segment& s, uintptr_t start, size_t size);
    Segment* new_segment_locked(uintptr_t base, size_t size);
    void drop_segment_locked(Segment* s);

    ksync::SpinLock lock_;
    const char* name_;
    uintptr_t base_ = 0;
    size_t size_ = 0;
    size_t in_use_ = 0;
    lib::List<Segment, &Segment::node> free_;  // sorted by base, never adjacent
    lib::List<Segment, &Segment::node> spare_; // unused records
    Span populated_[MAX_POPULATED] = {};       // sorted by base, never adjacent
    size_t npopulated_ = 0;
    uint64_t allocs_ = 0, frees_ = 0, no_space_ = 0, no_record_ = 0;
};

} // namespace vm
