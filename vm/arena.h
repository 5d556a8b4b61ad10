// A kernel virtual address arena: hands out aligned ranges of a region and
// takes them back, merging free neighbours. Segment records come from a fixed
// pool given at init (no allocation: the arena sits below the allocators), and
// running out of them is an error like running out of space.
#pragma once

#include "kern/spinlock.h"
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

    explicit constexpr Arena(const char* name) : lock_(name), name_(name) {}
    Arena(const Arena&) = delete;
    Arena& operator=(const Arena&) = delete;

    // Manage [base, base + size); `pool` holds the segment records.
    void init(uintptr_t base, size_t size, Segment* pool, size_t npool);

    // A range of `size` bytes aligned to `align` (a power of two, at least a
    // page); first fit. NoSpace if no free range fits, NoMemory if a segment
    // record is needed and the pool is empty.
    [[nodiscard]] lib::Result<uintptr_t> alloc(size_t size, size_t align);
    // Give back a range from alloc() (any part of one, too).
    void free(uintptr_t base, size_t size);

    [[nodiscard]] uintptr_t base() const { return base_; }
    [[nodiscard]] size_t size() const { return size_; }
    struct Stats {
        size_t in_use;      // bytes handed out
        size_t free_segments;
        size_t largest_free;
        size_t records_free;
    };
    [[nodiscard]] Stats stats();

private:
    Segment* new_segment_locked(uintptr_t base, size_t size);
    void drop_segment_locked(Segment* s);

    ksync::SpinLock lock_;
    const char* name_;
    uintptr_t base_ = 0;
    size_t size_ = 0;
    size_t in_use_ = 0;
    lib::List<Segment, &Segment::node> free_;  // sorted by base, never adjacent
    lib::List<Segment, &Segment::node> spare_; // unused records
};

} // namespace vm
