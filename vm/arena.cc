#include "vm/arena.h"

#include "kern/seam/panic.h"
#include "lib/page.h"

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

lib::Status Arena::carve_locked(Segment& s, uintptr_t start, size_t size)
{
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
    return {};
}

namespace {
// The lowest address >= lo, aligned, with [addr, addr + size) inside [lo, hi); 0 if none.
uintptr_t fit(uintptr_t lo, uintptr_t hi, size_t size, size_t align)
{
    uintptr_t start = (lo + align - 1) & ~(uintptr_t(align) - 1);
    if (start < lo || start > hi || hi - start < size)
        return 0;
    return start;
}
} // namespace

// Where in free segment s a range fits, by placement; 0 if nowhere.
uintptr_t Arena::place_locked(const Segment& s, size_t size, size_t align, Pass pass) const
{
    uintptr_t seg_end = s.base + s.size;
    if (pass == Pass::Anywhere)
        return fit(s.base, seg_end, size, align);
    if (pass == Pass::Populated) {
        for (size_t i = 0; i < npopulated_; i++) {
            const Span& p = populated_[i];
            uintptr_t lo = s.base > p.base ? s.base : p.base;
            uintptr_t hi = seg_end < p.base + p.size ? seg_end : p.base + p.size;
            if (lo < hi)
                if (uintptr_t start = fit(lo, hi, size, align))
                    return start;
        }
        return 0;
    }
    // Pass::Unpopulated: the pieces of s between populated spans (sorted).
    uintptr_t lo = s.base;
    for (size_t i = 0; i <= npopulated_ && lo < seg_end; i++) {
        uintptr_t hi = i < npopulated_ ? populated_[i].base : seg_end;
        if (hi > seg_end)
            hi = seg_end;
        if (lo < hi)
            if (uintptr_t start = fit(lo, hi, size, align))
                return start;
        if (i < npopulated_ && populated_[i].base + populated_[i].size > lo)
            lo = populated_[i].base + populated_[i].size;
    }
    return 0;
}

lib::Result<uintptr_t> Arena::alloc(size_t size, size_t align, Placement where)
{
    if (size == 0 || align < PAGE_SIZE || (align & (align - 1)) || (size & (PAGE_SIZE - 1)))
        return lib::Error::Invalid;
    ksync::SpinGuard g(lock_);
    // Ordinary ranges keep out of populated spans while anything else fits:
    // those spans are the interrupt zones' guarantee.
    const Pass passes_any[] = {Pass::Unpopulated, Pass::Anywhere};
    const Pass passes_populated[] = {Pass::Populated};
    const Pass* passes = where == Placement::Any ? passes_any : passes_populated;
    size_t npasses = where == Placement::Any ? 2 : 1;
    bool wanted_record = false;
    for (size_t k = 0; k < npasses; k++) {
        for (Segment& s : free_) {
            uintptr_t start = place_locked(s, size, align, passes[k]);
            if (!start)
                continue;
            if (!carve_locked(s, start, size).ok()) {
                wanted_record = true; // a later segment may fit without a split
                continue;
            }
            in_use_ += size;
            allocs_++;
            return start;
        }
    }
    if (wanted_record) {
        no_record_++;
        return lib::Error::NoMemory;
    }
    no_space_++;
    return lib::Error::NoSpace;
}

lib::Status Arena::mark_populated(uintptr_t base, size_t size)
{
    ksync::SpinGuard g(lock_);
    if (size == 0 || base < base_ || base + size > base_ + size_)
        return lib::Error::Invalid;
    uintptr_t lo = base, hi = base + size;
    // Absorb every span that overlaps or touches [lo, hi), then insert in order.
    size_t out = 0, pos = npopulated_;
    for (size_t i = 0; i < npopulated_; i++) {
        Span p = populated_[i];
        if (p.base + p.size >= lo && p.base <= hi) {
            lo = p.base < lo ? p.base : lo;
            hi = p.base + p.size > hi ? p.base + p.size : hi;
            continue;
        }
        if (p.base > hi && pos == npopulated_)
            pos = out;
        populated_[out++] = p;
    }
    if (pos == npopulated_)
        pos = out;
    if (out == MAX_POPULATED) {
        // Nothing merged and the table is full: undo nothing (entries unchanged).
        return lib::Error::NoSpace;
    }
    for (size_t i = out; i > pos; i--)
        populated_[i] = populated_[i - 1];
    populated_[pos] = {lo, hi - lo};
    npopulated_ = out + 1;
    return {};
}

bool Arena::is_populated(uintptr_t base, size_t size)
{
    ksync::SpinGuard g(lock_);
    for (size_t i = 0; i < npopulated_; i++)
        if (base >= populated_[i].base && base + size <= populated_[i].base + populated_[i].size)
            return true;
    return false;
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
    frees_++;
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
            // A free that touches no free neighbour needs a record; size the
            // pool for the worst fragmentation (one record per live range + 1).
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
    Stats st {in_use_, free_.size(), 0, spare_.size(), 0, allocs_, frees_, no_space_, no_record_};
    for (size_t i = 0; i < npopulated_; i++)
        st.populated += populated_[i].size;
    for (Segment& s : free_)
        st.largest_free = s.size > st.largest_free ? s.size : st.largest_free;
    return st;
}

} // namespace vm
