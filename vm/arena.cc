#include "vm/arena.h"

#include "kern/panic.h"

namespace vm {

void Arena::init(uintptr_t base, size_t size, Segment* pool, size_t npool)
{
    ksync::SpinGuard g(lock_);
    base_ = base;
    size_ = size;
    for (size_t i = 0; i < npool; i++)
        spare_.push_back(pool[i]);
    Segment* s = new_segment_locked(base, size);
    kassert(s != nullptr);
    free_.push_back(*s);
}

Arena::Segment* Arena::new_segment_locked(uintptr_t base, size_t size)
{
    Segment* s = spare_.pop_front();
    if (s) {
        s->base = base;
        s->size = size;
    }
    return s;
}

void Arena::drop_segment_locked(Segment* s)
{
    free_.remove(*s);
    spare_.push_back(*s);
}

lib::Result<uintptr_t> Arena::alloc(size_t size, size_t align)
{
    if (size == 0 || (align & (align - 1)) || (size & 4095))
        return lib::Error::Invalid;
    ksync::SpinGuard g(lock_);
    for (Segment& s : free_) {
        uintptr_t start = (s.base + align - 1) & ~(uintptr_t(align) - 1);
        if (start < s.base || start + size > s.base + s.size)
            continue;
        uintptr_t end = start + size;
        bool head = start > s.base, tail = end < s.base + s.size;
        if (head && tail) {
            // Splitting in the middle needs a second record.
            Segment* rest = new_segment_locked(end, s.base + s.size - end);
            if (!rest)
                return lib::Error::NoMemory;
            if (Segment* next = free_.next(s))
                free_.insert_before(*next, *rest);
            else
                free_.push_back(*rest);
            s.size = start - s.base;
        } else if (head) {
            s.size = start - s.base;
        } else if (tail) {
            s.size -= size;
            s.base = end;
        } else {
            drop_segment_locked(&s);
        }
        in_use_ += size;
        return start;
    }
    return lib::Error::NoSpace;
}

void Arena::free(uintptr_t base, size_t size)
{
    ksync::SpinGuard g(lock_);
    if (base < base_ || base + size > base_ + size_ || size == 0)
        panic("arena %s: freeing [0x%lx, +0x%zx) outside [0x%lx, +0x%zx)", name_, base, size, base_, size_);
    // The free segments just below and just above the range.
    Segment* before = nullptr;
    Segment* after = nullptr;
    for (Segment& s : free_) {
        if (s.base >= base) {
            after = &s;
            break;
        }
        before = &s;
    }
    if ((before && before->base + before->size > base) || (after && base + size > after->base))
        panic("arena %s: double free or overlap at [0x%lx, +0x%zx)", name_, base, size);
    in_use_ -= size;
    bool join_before = before && before->base + before->size == base;
    bool join_after = after && base + size == after->base;
    if (join_before && join_after) {
        before->size += size + after->size;
        drop_segment_locked(after);
    } else if (join_before) {
        before->size += size;
    } else if (join_after) {
        after->base = base;
        after->size += size;
    } else {
        Segment* s = new_segment_locked(base, size);
        if (!s) {
            // No record: the range is lost to the arena (counted, never reused)
            // rather than corrupting it. Pools are sized so this does not happen.
            panic("arena %s: out of segment records freeing 0x%lx", name_, base);
        }
        if (after)
            free_.insert_before(*after, *s);
        else
            free_.push_back(*s);
    }
}

Arena::Stats Arena::stats()
{
    ksync::SpinGuard g(lock_);
    Stats st {in_use_, free_.size(), 0, spare_.size()};
    for (Segment& s : free_)
        st.largest_free = s.size > st.largest_free ? s.size : st.largest_free;
    return st;
}

} // namespace vm
