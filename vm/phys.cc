#include "vm/phys.h"

#include "kern/panic.h"

namespace vm {

void PhysAllocator::init(Page* pages, const PhysRange* ranges, size_t nranges)
{
    kassert(nranges > 0);
    pages_ = pages;
    base_ = array_base(ranges[0].base);
    npages_ = static_cast<uint32_t>((ranges[nranges - 1].base + ranges[nranges - 1].size - base_) / PAGE_SIZE);
    for (auto& h : heads_)
        h = NONE;
    for (uint32_t i = 0; i < npages_; i++)
        pages_[i] = {NONE, NONE, PageState::Hole, 0, 0, 0};
    uint64_t n = 0;
    {
        ksync::SpinGuard g(lock_);
        for (size_t r = 0; r < nranges; r++) {
            uint32_t first = index_of(ranges[r].base);
            uint32_t count = static_cast<uint32_t>(ranges[r].size / PAGE_SIZE);
            for (uint32_t i = first; i < first + count; i++) {
                pages_[i].state = PageState::Allocated;
                give_locked(i, 0);
            }
            n += count;
        }
    }
    total_ = n;
    free_.store(n);
    wm_ = compute_watermarks(n);
}

Page* PhysAllocator::page(PhysAddr pa)
{
    if (pa < base_ || (pa & (PAGE_SIZE - 1)) || index_of(pa) >= npages_)
        return nullptr;
    Page* p = &pages_[index_of(pa)];
    return p->state == PageState::Hole ? nullptr : p;
}

uint64_t PhysAllocator::floor_for(PageClass c) const
{
    switch (c) {
    case PageClass::Normal: return wm_.free_reserved;
    case PageClass::System: return wm_.interrupt_min;
    case PageClass::Interrupt: return 0;
    }
    return wm_.free_reserved;
}

// Claim n pages of the free count for class c, or fail without side effects.
bool PhysAllocator::claim(uint64_t n, PageClass c)
{
    uint64_t floor = floor_for(c);
    uint64_t f = free_.load(std::memory_order_relaxed);
    do {
        if (f < n || f - n < floor)
            return false;
    } while (!free_.compare_exchange_weak(f, f - n, std::memory_order_acq_rel));
    return true;
}

void PhysAllocator::unclaim(uint64_t n) { free_.fetch_add(n, std::memory_order_acq_rel); }

// ---- buddy lists ------------------------------------------------------------------

void PhysAllocator::push_locked(uint32_t i, unsigned order)
{
    Page& p = pages_[i];
    p.state = PageState::Free;
    p.order = static_cast<uint8_t>(order);
    p.prev = NONE;
    p.next = heads_[order];
    if (p.next != NONE)
        pages_[p.next].prev = i;
    heads_[order] = i;
    for (uint32_t t = 1; t < (1u << order); t++)
        pages_[i + t].state = PageState::FreeTail;
}

void PhysAllocator::remove_locked(uint32_t i, unsigned order)
{
    Page& p = pages_[i];
    if (p.prev != NONE)
        pages_[p.prev].next = p.next;
    else
        heads_[order] = p.next;
    if (p.next != NONE)
        pages_[p.next].prev = p.prev;
    p.next = p.prev = NONE;
}

// Merge with free buddies of the same order as far as possible, then list it.
void PhysAllocator::give_locked(uint32_t i, unsigned order)
{
    while (order < MAX_ORDER) {
        uint32_t buddy = i ^ (1u << order);
        // Buddy indices are relative to base_: align base_ so they match
        // physical alignment (pages below an aligned base are holes).
        if (buddy >= npages_ || pages_[buddy].state != PageState::Free || pages_[buddy].order != order)
            break;
        remove_locked(buddy, order);
        pages_[buddy].state = PageState::FreeTail;
        i = i < buddy ? i : buddy;
        order++;
    }
    push_locked(i, order);
}

bool PhysAllocator::take_locked(unsigned order, uint32_t& out)
{
    unsigned o = order;
    while (o <= MAX_ORDER && heads_[o] == NONE)
        o++;
    if (o > MAX_ORDER)
        return false;
    uint32_t i = heads_[o];
    remove_locked(i, o);
    // Split: give back the upper halves until the block is the wanted size.
    while (o > order) {
        o--;
        push_locked(i + (1u << o), o);
    }
    pages_[i].state = PageState::Allocated;
    pages_[i].order = static_cast<uint8_t>(order);
    for (uint32_t t = 1; t < (1u << order); t++)
        pages_[i + t].state = PageState::Tail;
    out = i;
    return true;
}

bool PhysAllocator::steal_cached(PhysAddr& out)
{
    for (unsigned h = 0; h < cpu::MAX_HARTS; h++) {
        HartCache& c = caches_[h];
        if (c.n == 0 || !c.lock.try_lock())
            continue;
        bool got = c.n > 0;
        if (got) {
            out = c.pages[--c.n];
            cached_.fetch_sub(1, std::memory_order_relaxed);
        }
        c.lock.unlock();
        if (got)
            return true;
    }
    return false;
}

// ---- allocation -------------------------------------------------------------------

void PhysAllocator::after_alloc()
{
    if (free_pages() < wm_.free_min && wake_pageout_)
        wake_pageout_();
}

lib::Result<PhysAddr> PhysAllocator::alloc(PageClass cls)
{
    auto ci = static_cast<unsigned>(cls);
    if (!claim(1, cls)) {
        failures_[ci].fetch_add(1, std::memory_order_relaxed);
        if (wake_pageout_)
            wake_pageout_();
        return lib::Error::NoMemory;
    }
    PhysAddr pa = 0;
    bool got = false;
    HartCache& c = caches_[cpu::id()];
    {
        ksync::SpinGuard g(c.lock);
        if (c.n == 0) {
            // Refill a batch from the buddy lists.
            cache_misses_.fetch_add(1, std::memory_order_relaxed);
            ksync::SpinGuard bg(lock_);
            uint32_t i;
            while (c.n < CACHE_BATCH && take_locked(0, i)) {
                pages_[i].state = PageState::Cached;
                c.pages[c.n++] = addr_of(i);
                cached_.fetch_add(1, std::memory_order_relaxed);
            }
        } else {
            cache_hits_.fetch_add(1, std::memory_order_relaxed);
        }
        if (c.n > 0) {
            pa = c.pages[--c.n];
            cached_.fetch_sub(1, std::memory_order_relaxed);
            got = true;
        }
    }
    // The count said a page exists; if neither the buddy lists nor this cache
    // had it, it sits in another hart's cache.
    if (!got)
        got = steal_cached(pa);
    if (!got) {
        unclaim(1);
        failures_[ci].fetch_add(1, std::memory_order_relaxed);
        if (wake_pageout_)
            wake_pageout_();
        return lib::Error::NoMemory;
    }
    Page& p = pages_[index_of(pa)];
    p.state = PageState::Allocated;
    p.order = 0;
    allocs_[ci].fetch_add(1, std::memory_order_relaxed);
    after_alloc();
    return pa;
}

lib::Result<PhysAddr> PhysAllocator::alloc_run(unsigned order, PageClass cls)
{
    if (order > MAX_ORDER)
        return lib::Error::Invalid;
    if (order == 0)
        return alloc(cls);
    auto ci = static_cast<unsigned>(cls);
    uint64_t n = 1ull << order;
    if (!claim(n, cls)) {
        failures_[ci].fetch_add(1, std::memory_order_relaxed);
        if (wake_pageout_)
            wake_pageout_();
        return lib::Error::NoMemory;
    }
    uint32_t i;
    bool got;
    {
        ksync::SpinGuard g(lock_);
        got = take_locked(order, i);
    }
    if (!got) {
        unclaim(n); // enough pages, but not contiguous
        failures_[ci].fetch_add(1, std::memory_order_relaxed);
        return lib::Error::NoMemory;
    }
    allocs_[ci].fetch_add(1, std::memory_order_relaxed);
    after_alloc();
    return addr_of(i);
}

// ---- freeing --------------------------------------------------------------------

void PhysAllocator::check_free(PhysAddr pa, unsigned order, const char* what)
{
    if (pa < base_ || (pa & (PAGE_SIZE - 1)) || index_of(pa) >= npages_)
        panic("phys: %s of 0x%lx, which is not a managed page", what, pa);
    Page& p = pages_[index_of(pa)];
    switch (p.state) {
    case PageState::Allocated:
        if (p.order != order)
            panic("phys: %s of 0x%lx with order %u, but it was allocated with order %u", what, pa, order, p.order);
        return;
    case PageState::Free:
    case PageState::FreeTail:
    case PageState::Cached: panic("phys: double free of 0x%lx", pa);
    case PageState::Tail: panic("phys: %s of 0x%lx, inside a run (not its first page)", what, pa);
    case PageState::Hole: panic("phys: %s of 0x%lx, which is not a managed page", what, pa);
    }
}

void PhysAllocator::after_free(uint64_t free_before)
{
    // Someone may be waiting for memory only when it is low.
    if (free_before <= wm_.free_reserved + CACHE_MAX && pages_freed_)
        pages_freed_();
}

void PhysAllocator::free(PhysAddr pa)
{
    HartCache& c = caches_[cpu::id()];
    uint64_t before;
    {
        ksync::SpinGuard g(c.lock);
        check_free(pa, 0, "free");
        if (c.n < CACHE_MAX) {
            pages_[index_of(pa)].state = PageState::Cached;
            c.pages[c.n++] = pa;
            cached_.fetch_add(1, std::memory_order_relaxed);
        } else {
            // Full: send this page and half the cache back to the buddy lists.
            ksync::SpinGuard bg(lock_);
            pages_[index_of(pa)].order = 0;
            give_locked(index_of(pa), 0);
            while (c.n > CACHE_MAX / 2) {
                PhysAddr q = c.pages[--c.n];
                cached_.fetch_sub(1, std::memory_order_relaxed);
                give_locked(index_of(q), 0);
            }
        }
        before = free_.fetch_add(1, std::memory_order_acq_rel);
    }
    after_free(before);
}

void PhysAllocator::free_run(PhysAddr pa, unsigned order)
{
    if (order == 0) {
        free(pa);
        return;
    }
    uint64_t before;
    {
        ksync::SpinGuard g(lock_);
        check_free(pa, order, "free_run");
        give_locked(index_of(pa), order);
        before = free_.fetch_add(1ull << order, std::memory_order_acq_rel);
    }
    after_free(before);
}

PhysAllocator::Stats PhysAllocator::stats() const
{
    Stats s {};
    s.total = total_;
    s.free = free_.load();
    s.cached = cached_.load();
    for (int i = 0; i < 3; i++) {
        s.allocs[i] = allocs_[i].load();
        s.failures[i] = failures_[i].load();
    }
    s.cache_hits = cache_hits_.load();
    s.cache_misses = cache_misses_.load();
    return s;
}

} // namespace vm
