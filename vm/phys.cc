#include "vm/phys.h"

#include "kern/seam/panic.h"

namespace vm {

void PhysAllocator::init(Page* pages, const PhysRange* ranges, size_t nranges)
{
    kassert(nranges > 0);
    for (size_t r = 0; r < nranges; r++) {
        kassert((ranges[r].base & (PAGE_SIZE - 1)) == 0 && (ranges[r].size & (PAGE_SIZE - 1)) == 0);
        kassert(r == 0 || ranges[r].base >= ranges[r - 1].end());
    }
    pages_ = pages;
    base_ = ranges[0].base;
    uint64_t span = (ranges[nranges - 1].end() - base_) / PAGE_SIZE;
    kassert(span < NONE);
    npages_ = static_cast<uint32_t>(span);
    for (uint32_t i = 0; i < npages_; i++)
        pages_[i] = Page {};
    for (unsigned o = 0; o <= MAX_ORDER; o++) {
        heads_[o] = NONE;
        nfree_[o] = 0;
    }
    uint64_t n = 0;
    {
        ksync::SpinGuard g(lock_);
        // Page by page, so the buddy merge builds the largest aligned blocks
        // whatever the ranges' alignment.
        for (size_t r = 0; r < nranges; r++) {
            uint32_t first = index_of(ranges[r].base);
            uint32_t count = static_cast<uint32_t>(ranges[r].size / PAGE_SIZE);
            for (uint32_t i = first; i < first + count; i++)
                give_locked(i, 0);
            n += count;
        }
    }
    total_ = n;
    wm_ = compute_watermarks(n);
    free_.store(n);
}

bool PhysAllocator::managed_index(PhysAddr pa, uint32_t& out) const
{
    if (pa < base_ || (pa & (PAGE_SIZE - 1)) || (pa - base_) / PAGE_SIZE >= npages_)
        return false;
    out = index_of(pa);
    return state_of(pages_[out]) != PageState::Hole;
}

Page* PhysAllocator::page(PhysAddr pa)
{
    uint32_t i;
    return managed_index(pa, i) ? &pages_[i] : nullptr;
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

// Claim n pages of the free count for class c, or fail with no side effect.
// After a successful claim at least n pages really exist in the lists or the
// caches for this caller: the count is raised only after a page is back.
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

// ---- buddy lists (lock_ held) -------------------------------------------------------

void PhysAllocator::push_locked(uint32_t i, unsigned order)
{
    Page& p = pages_[i];
    set_state(p, PageState::Free);
    p.order = static_cast<uint8_t>(order);
    p.prev = NONE;
    p.next = heads_[order];
    if (p.next != NONE)
        pages_[p.next].prev = i;
    heads_[order] = i;
    nfree_[order]++;
    for (uint32_t t = 1; t < (1u << order); t++)
        set_state(pages_[i + t], PageState::FreeTail);
}

void PhysAllocator::unlink_locked(uint32_t i, unsigned order)
{
    Page& p = pages_[i];
    if (p.prev != NONE)
        pages_[p.prev].next = p.next;
    else
        heads_[order] = p.next;
    if (p.next != NONE)
        pages_[p.next].prev = p.prev;
    p.next = p.prev = NONE;
    nfree_[order]--;
}

// Merge with free buddies of the same order as far as possible, then list it.
// Buddies are found by physical address (pa ^ block size), so blocks are
// aligned to their size in physical memory even when the array's base is not.
void PhysAllocator::give_locked(uint32_t i, unsigned order)
{
    while (order < MAX_ORDER) {
        PhysAddr pa = addr_of(i);
        PhysAddr buddy_pa = pa ^ (PAGE_SIZE << order);
        if (buddy_pa < base_)
            break;
        uint64_t b = (buddy_pa - base_) / PAGE_SIZE;
        if (b >= npages_ || state_of(pages_[b]) != PageState::Free || pages_[b].order != order)
            break;
        auto buddy = static_cast<uint32_t>(b);
        unlink_locked(buddy, order);
        set_state(pages_[buddy], PageState::FreeTail);
        set_state(pages_[i], PageState::FreeTail);
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
    unlink_locked(i, o);
    // Split: list the upper halves until the block is the wanted size.
    while (o > order) {
        o--;
        push_locked(i + (1u << o), o);
    }
    set_state(pages_[i], PageState::Allocated);
    pages_[i].order = static_cast<uint8_t>(order);
    for (uint32_t t = 1; t < (1u << order); t++)
        set_state(pages_[i + t], PageState::Tail);
    out = i;
    return true;
}

// ---- per-hart caches ----------------------------------------------------------------

// Give c's pages back to the buddy lists until `keep` remain. c.lock held.
void PhysAllocator::drain_locked(HartCache& c, unsigned keep)
{
    if (c.n <= keep)
        return;
    ksync::SpinGuard g(lock_);
    while (c.n > keep) {
        PhysAddr q = c.pages[--c.n];
        cached_.fetch_sub(1, std::memory_order_relaxed);
        give_locked(index_of(q), 0);
    }
}

void PhysAllocator::drain_caches()
{
    for (auto& c : caches_) {
        ksync::SpinGuard g(c.lock);
        drain_locked(c, 0);
    }
}

unsigned PhysAllocator::cached_on(unsigned hart) const
{
    kassert(hart < cpu::MAX_HARTS);
    return __atomic_load_n(&caches_[hart].n, __ATOMIC_RELAXED);
}

// One page for a caller that has claimed it: this hart's cache (refilled by a
// batch from the buddy lists when empty).
bool PhysAllocator::take_one(PhysAddr& out)
{
    HartCache& c = caches_[cpu::id()];
    ksync::SpinGuard g(c.lock);
    if (c.n == 0) {
        cache_misses_.fetch_add(1, std::memory_order_relaxed);
        ksync::SpinGuard bg(lock_);
        uint32_t i;
        while (c.n < CACHE_BATCH && take_locked(0, i)) {
            set_state(pages_[i], PageState::Cached);
            c.pages[c.n++] = addr_of(i);
            cached_.fetch_add(1, std::memory_order_relaxed);
        }
    } else {
        cache_hits_.fetch_add(1, std::memory_order_relaxed);
    }
    if (c.n == 0)
        return false;
    out = c.pages[--c.n];
    cached_.fetch_sub(1, std::memory_order_relaxed);
    Page& p = pages_[index_of(out)];
    set_state(p, PageState::Allocated);
    p.order = 0;
    return true;
}

// The count said a page exists but neither the lists nor this hart's cache had
// one: it sits in another hart's cache. The slow path, so it takes their locks
// (never while holding one of ours).
bool PhysAllocator::steal_cached(PhysAddr& out)
{
    for (auto& c : caches_) {
        ksync::SpinGuard g(c.lock);
        if (c.n == 0)
            continue;
        out = c.pages[--c.n];
        cached_.fetch_sub(1, std::memory_order_relaxed);
        Page& p = pages_[index_of(out)];
        set_state(p, PageState::Allocated);
        p.order = 0;
        return true;
    }
    return false;
}

// ---- allocation ---------------------------------------------------------------------

void PhysAllocator::failed(PageClass c)
{
    failures_[static_cast<unsigned>(c)].fetch_add(1, std::memory_order_relaxed);
    if (wake_pageout_)
        wake_pageout_();
}

void PhysAllocator::after_alloc()
{
    if (below_min() && wake_pageout_)
        wake_pageout_();
}

lib::Result<PhysAddr> PhysAllocator::alloc(PageClass cls)
{
    if (!claim(1, cls)) {
        failed(cls);
        return lib::Error::NoMemory;
    }
    PhysAddr pa = 0;
    // A page is owed to us, but another hart may be moving it between its
    // cache and the lists right now; a few passes find it.
    bool got = false;
    for (int pass = 0; pass < 4 && !got; pass++)
        got = take_one(pa) || steal_cached(pa);
    if (!got) {
        unclaim(1);
        failed(cls);
        return lib::Error::NoMemory;
    }
    allocs_[static_cast<unsigned>(cls)].fetch_add(1, std::memory_order_relaxed);
    after_alloc();
    return pa;
}

lib::Result<PhysAddr> PhysAllocator::alloc_run(unsigned order, PageClass cls)
{
    if (order > MAX_ORDER)
        return lib::Error::Invalid;
    if (order == 0)
        return alloc(cls);
    uint64_t n = 1ull << order;
    if (!claim(n, cls)) {
        failed(cls);
        return lib::Error::NoMemory;
    }
    uint32_t i = 0;
    bool got;
    {
        ksync::SpinGuard g(lock_);
        got = take_locked(order, i);
    }
    if (!got) {
        // Cached single pages may be what splits the block we need.
        drain_caches();
        ksync::SpinGuard g(lock_);
        got = take_locked(order, i);
    }
    if (!got) {
        unclaim(n); // enough pages, but not contiguous
        failed(cls);
        return lib::Error::NoMemory;
    }
    allocs_[static_cast<unsigned>(cls)].fetch_add(1, std::memory_order_relaxed);
    after_alloc();
    return addr_of(i);
}

// ---- freeing ------------------------------------------------------------------------

void PhysAllocator::check_free(PhysAddr pa, unsigned order, const char* what) const
{
    if (pa < base_ || (pa & (PAGE_SIZE - 1)) || (pa - base_) / PAGE_SIZE >= npages_)
        panic("phys: %s of 0x%lx, which is not a page this allocator manages", what, (unsigned long)pa);
    const Page& p = pages_[index_of(pa)];
    switch (state_of(p)) {
    case PageState::Allocated:
        if (p.order != order)
            panic("phys: %s of 0x%lx with order %u, but it was allocated with order %u", what, (unsigned long)pa,
                  order, unsigned(p.order));
        return;
    case PageState::Free:
    case PageState::FreeTail:
    case PageState::Cached: panic("phys: double free of 0x%lx (%s)", (unsigned long)pa, what);
    case PageState::Tail:
        panic("phys: %s of 0x%lx, inside an allocated run (not its first page)", what, (unsigned long)pa);
    case PageState::Hole:
        panic("phys: %s of 0x%lx, which is not a page this allocator manages (hole)", what, (unsigned long)pa);
    }
}

// Sleepers exist only when memory was short: below free_target is where the
// pagedaemon works, so above it the hook is not worth a call per free.
void PhysAllocator::after_free(uint64_t free_before, size_t n)
{
    frees_.fetch_add(n, std::memory_order_relaxed);
    if (pages_freed_ && free_before < wm_.free_target)
        pages_freed_();
}

void PhysAllocator::free(PhysAddr pa) { free_batch(&pa, 1); }

void PhysAllocator::free_batch(const PhysAddr* pa, size_t n)
{
    if (n == 0)
        return;
    HartCache& c = caches_[cpu::id()];
    uint64_t before;
    {
        ksync::SpinGuard g(c.lock);
        for (size_t i = 0; i < n; i++) {
            check_free(pa[i], 0, "free");
            // Full: a batch goes back to the buddy lists first.
            if (c.n == CACHE_MAX)
                drain_locked(c, CACHE_MAX - CACHE_BATCH);
            set_state(pages_[index_of(pa[i])], PageState::Cached);
            c.pages[c.n++] = pa[i];
        }
        cached_.fetch_add(n, std::memory_order_relaxed);
        before = free_.fetch_add(n, std::memory_order_acq_rel);
    }
    after_free(before, n);
}

void PhysAllocator::free_run(PhysAddr pa, unsigned order)
{
    if (order == 0) {
        free(pa);
        return;
    }
    if (order > MAX_ORDER)
        panic("phys: free_run of 0x%lx with order %u > MAX_ORDER", (unsigned long)pa, order);
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
    for (unsigned i = 0; i < NUM_PAGE_CLASSES; i++) {
        s.allocs[i] = allocs_[i].load();
        s.failures[i] = failures_[i].load();
    }
    s.cache_hits = cache_hits_.load();
    s.cache_misses = cache_misses_.load();
    s.frees = frees_.load();
    {
        ksync::SpinGuard g(const_cast<ksync::SpinLock&>(lock_));
        for (unsigned o = 0; o <= MAX_ORDER; o++)
            s.runs_free[o] = nfree_[o];
    }
    return s;
}

} // namespace vm
