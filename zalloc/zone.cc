// zalloc zones: see zone.h for the design and the progress guarantee.
#include "zalloc/zone.h"

#include "kern/seam/panic.h"
#include "lib/string.h"
#include "zalloc/debug.h"

#include <initializer_list>

namespace zalloc {

void Zone::init(const char* name, size_t item_size, Backend& backend, const ZoneConfig& cfg)
{
    kassert(!initialized_);
    name_ = name;
    backend_ = &backend;
    size_ = round_size(item_size);
    if (size_ > PAGE_ITEM_BYTES)
        panic("zalloc %s: item size %zu does not fit a page", name, item_size);
    per_page_ = items_per_page(size_);
    zfreemin_ = cfg.reserve_items > per_page_ ? cfg.reserve_items : per_page_;
    max_items_ = cfg.max_items;
    burst_ = cfg.burst ? cfg.burst : 1;
    unsigned harts = cpu::count() ? cpu::count() : 1;
    size_t cap = cfg.cache_cap ? cfg.cache_cap : max_items_ / harts / 16;
    cache_cap_ = static_cast<uint32_t>(cap < 64 && !cfg.cache_cap ? 64 : cap);
    if (cache_cap_ < burst_)
        burst_ = cache_cap_;
    interrupt_ = cfg.interrupt;
    debug_ = debug::enabled();
    if (interrupt_) {
        if (!max_items_)
            panic("zalloc %s: an interrupt zone needs a limit (it reserves its VA up front)", name);
        va_pages_ = (max_items_ + per_page_ - 1) / per_page_;
        va_base_ = static_cast<char*>(backend.reserve_va(va_pages_));
        if (!va_base_)
            panic("zalloc %s: cannot reserve %zu pages of VA and their page tables", name, va_pages_);
    }
    if (cache_cap_ > HART_CACHE_MAX)
        cache_cap_ = HART_CACHE_MAX;
    if (burst_ > cache_cap_)
        burst_ = cache_cap_ ? cache_cap_ : 1;
    caches_.reset(debug_ ? 0 : cache_cap_);
    for (HartCold& c : cold_) {
        c.taken.set(0);
        c.given.set(0);
        c.dhead = nullptr;
        c.dcount.set(0);
    }
    initialized_ = true;
    register_self();
}

void Zone::mark_free(void* item)
{
    if (!debug_)
        return;
    auto* w = static_cast<uint64_t*>(item);
    w[1] = free_mark(item);
    debug::poison(w + 2, size_ - 16);
}

void Zone::add_page_locked(void* page, uint32_t page_flags)
{
    PageTrailer* t = trailer_of(page);
    t->magic = TRAILER_MAGIC;
    t->zone = this;
    t->next = pages_head_;
    t->flags = page_flags;
    t->nitems = static_cast<uint32_t>(per_page_);
    pages_head_ = t;
    pages_++;
    // Push in reverse so the items come out in address order.
    char* base = static_cast<char*>(page);
    for (size_t i = per_page_; i-- > 0;) {
        void* item = base + i * size_;
        mark_free(item);
        push_global_locked(item);
    }
    total_items_ += per_page_;
}

void Zone::boot_seed(void* mem, size_t bytes)
{
    kassert(initialized_);
    kassert(reinterpret_cast<uintptr_t>(mem) % PAGE_SIZE == 0 && bytes % PAGE_SIZE == 0);
    cpu::IrqGuard irq;
    ksync::SpinGuard g(lock_);
    for (size_t off = 0; off < bytes; off += PAGE_SIZE)
        add_page_locked(static_cast<char*>(mem) + off, PAGE_BOOT);
}

void Zone::push_global_locked(void* item)
{
    *static_cast<void**>(item) = global_head_;
    global_head_ = item;
    global_free_++;
}

// Under the lock, interrupts off, on hart `hart`: the first item for the caller,
// up to n - 1 more to the hart's cache (the fast list, or the debug list).
void* Zone::take_burst_locked(unsigned hart, size_t n)
{
    HartCold& c = cold_[hart];
    HartHot& h = caches_.of(hart);
    void* first = global_head_;
    global_head_ = *static_cast<void**>(first);
    global_free_--;
    size_t moved = 1;
    uint32_t dcount = c.dcount.get();
    for (size_t i = 1; i < n && global_head_; i++) {
        void* it = global_head_;
        if (debug_) {
            if (dcount >= cache_cap_)
                break;
            global_head_ = *static_cast<void**>(it);
            *static_cast<void**>(it) = c.dhead;
            c.dhead = it;
            dcount++;
        } else {
            if (HartCaches::room(h) <= 0)
                break;
            global_head_ = *static_cast<void**>(it);
            bool ok = HartCaches::push_locked(h, it);
            (void)ok;
        }
        global_free_--;
        moved++;
    }
    c.dcount.set(dcount);
    c.taken.add(moved);
    HartCaches::count_alloc(h);
    return first;
}

void* Zone::finish_alloc(void* item, MFlags flags, void* caller)
{
    if (debug_)
        check_on_alloc(item, caller);
    if (flags.has(MFlag::Zero))
        memset(item, 0, size_);
    return item;
}

// Grow by one page. Interrupt zones map the next page of their range under the
// zone lock (one physical page, never blocking); other zones ask for a page.
void* Zone::grow_page(MFlags flags)
{
    if (interrupt_) {
        cpu::IrqGuard irq;
        ksync::SpinGuard g(lock_);
        if (va_next_ == va_pages_)
            return nullptr;
        char* va = va_base_ + va_next_ * PAGE_SIZE;
        if (!backend_->map_page(va, page_class(flags), false))
            return nullptr;
        va_next_++;
        add_page_locked(va, 0);
        return va;
    }
    {
        cpu::IrqGuard irq;
        ksync::SpinGuard g(lock_);
        if (at_limit_locked())
            return nullptr;
    }
    void* page = backend_->alloc_pages(1, 1, page_class(flags), false);
    if (!page)
        return nullptr;
    if (!add_page_checked(page)) {
        backend_->free_pages(page, 1);
        return nullptr;
    }
    return page;
}

// Grow until the free list holds more than the held-back items, so that a
// burst taken after growing never eats into them (with bursts as large as a
// page, growing one page at a time would otherwise never build the reserve).
// True if at least one page was added.
bool Zone::grow_above_mark(MFlags flags)
{
    bool grew = false;
    for (;;) {
        {
            cpu::IrqGuard irq;
            ksync::SpinGuard g(lock_);
            if (grew && global_free_ > zfreemin_)
                return true;
        }
        if (!grow_page(flags))
            return grew;
        grew = true;
    }
}

// Add a page unless another hart grew the zone to its limit meanwhile.
bool Zone::add_page_checked(void* page)
{
    cpu::IrqGuard irq;
    ksync::SpinGuard g(lock_);
    if (at_limit_locked())
        return false;
    add_page_locked(page, 0);
    return true;
}

void* Zone::alloc_slow(MFlags flags, void* caller)
{
    if (!caller)
        caller = __builtin_return_address(0);
    void* item = nullptr;
    {
        // The hart's cache first: the debug list, or the fast list if an
        // interrupt refilled it since the fast path looked.
        cpu::IrqGuard irq;
        unsigned hart = cpu::id();
        if (debug_) {
            HartCold& c = cold_[hart];
            item = c.dhead;
            if (item) {
                c.dhead = *static_cast<void**>(item);
                c.dcount.add(uint32_t(-1));
                HartHot& h = caches_.of(hart);
                HartCaches::count_alloc(h);
            }
        } else {
            item = HartCaches::pop_locked(caches_.of(hart));
        }
    }
    if (item)
        return finish_alloc(item, flags, caller);
    enum class Step { AboveMark, Grow, HeldBack, Block };
    for (Step step : {Step::AboveMark, Step::Grow, Step::HeldBack, Step::Block}) {
        if (step == Step::Grow && !grow_above_mark(flags))
            continue;
        if (step == Step::Block) {
            // Last resort for callers that may sleep: a blocking page.
            if (interrupt_ || !flags.may_block())
                break;
            {
                cpu::IrqGuard irq;
                ksync::SpinGuard g(lock_);
                if (at_limit_locked())
                    break;
            }
            void* page = backend_->alloc_pages(1, 1, page_class(flags), true);
            if (!page)
                break;
            if (!add_page_checked(page)) {
                backend_->free_pages(page, 1);
                break;
            }
        }
        void* item = nullptr;
        bool dipped = false, short_reserve = false;
        {
            cpu::IrqGuard irq;
            ksync::SpinGuard g(lock_);
            unsigned hart = cpu::id();
            bool at_limit = at_limit_locked();
            // Above the mark anyone takes a burst. After growing, the pages
            // added refill the held-back items first (grow_above_mark): a
            // burst comes only from what is above the mark, and if the growth
            // fell short of it the caller takes one item and the zone asks to
            // be replenished. A dip takes a single item.
            // At its limit a zone cannot grow, so it holds nothing back.
            size_t n = 0;
            if (at_limit)
                n = global_free_;
            else if (step == Step::HeldBack)
                n = global_free_ ? 1 : 0;
            else if (global_free_ > zfreemin_)
                n = global_free_ - zfreemin_;
            else if (step != Step::AboveMark)
                n = global_free_ ? 1 : 0;
            if (n) {
                item = take_burst_locked(hart, n < burst_ ? n : burst_);
                dipped = step == Step::HeldBack && !at_limit;
                short_reserve = !at_limit && global_free_ < zfreemin_;
                if (short_reserve)
                    caches_.bypass(true); // frees refill the list (zone.h)
            }
        }
        if (!item)
            continue;
        if (dipped)
            dips_.fetch_add(1, std::memory_order_relaxed);
        if (dipped || short_reserve)
            queue_replenish();
        return finish_alloc(item, flags, caller);
    }
    return fail(flags, caller, "no free item and no page");
}

void* Zone::fail(MFlags flags, void* caller, const char* why)
{
    failures_.fetch_add(1, std::memory_order_relaxed);
    if (flags.null_ok())
        return nullptr;
    panic("zalloc %s: M_WAITOK allocation failed: %s (caller %p)", name_, why, caller);
}

void Zone::check_on_free(void* item, void* caller)
{
    uintptr_t a = reinterpret_cast<uintptr_t>(item);
    void* page = reinterpret_cast<void*>(a & ~(PAGE_SIZE - 1));
    PageTrailer* t = trailer_of(page);
    size_t off = a & (PAGE_SIZE - 1);
    if (t->magic != TRAILER_MAGIC || t->zone != this)
        panic("zalloc %s: free of foreign pointer %p (caller %p)", name_, item, caller);
    if (off % size_ != 0 || off / size_ >= t->nitems)
        panic("zalloc %s: free of %p, not an item boundary (caller %p)", name_, item, caller);
    if (static_cast<uint64_t*>(item)[1] == free_mark(item))
        panic("zalloc %s: double free of %p (caller %p)", name_, item, caller);
}

void Zone::check_on_alloc(void* item, void* caller)
{
    auto* w = static_cast<uint64_t*>(item);
    if (w[1] != free_mark(item))
        panic("zalloc %s: free item %p corrupted: free marker overwritten (caller %p)", name_, item, caller);
    if (const void* bad = debug::find_unpoisoned(w + 2, size_ - 16))
        panic("zalloc %s: item %p modified after free at +%zu (caller %p)", name_, item,
              static_cast<size_t>(static_cast<const char*>(bad) - static_cast<char*>(item)), caller);
    w[1] = 0;
}

// The zone's held-back items are short (the bypass is on), or the fast list was full
// (or debug mode): to the zone's list in the first case, else push if there
// is room now, else the item and half the cache go back to the zone, so the
// next frees on this hart are cheap again.
void Zone::free_slow(void* item, void* caller)
{
    if (!caller)
        caller = __builtin_return_address(0);
    cpu::IrqGuard irq;
    if (debug_) {
        check_on_free(item, caller);
        mark_free(item);
    }
    unsigned hart = cpu::id();
    HartCold& c = cold_[hart];
    HartHot& h = caches_.of(hart);
    if (caches_.bypassed()) {
        ksync::SpinGuard g(lock_);
        if (global_free_ < zfreemin_ && !at_limit_locked()) {
            push_global_locked(item);
            c.given.add(1);
            return;
        }
        caches_.bypass(false);
    }
    if (debug_) {
        uint32_t count = c.dcount.get();
        if (count < cache_cap_) {
            *static_cast<void**>(item) = c.dhead;
            c.dhead = item;
            c.dcount.set(count + 1);
            return;
        }
        ksync::SpinGuard g(lock_);
        push_global_locked(item);
        for (uint32_t i = 0; i < cache_cap_ / 2; i++) {
            void* it = c.dhead;
            c.dhead = *static_cast<void**>(it);
            push_global_locked(it);
        }
        c.dcount.set(count - cache_cap_ / 2);
        c.given.add(1 + cache_cap_ / 2);
        return;
    }
    if (HartCaches::push_locked(h, item))
        return;
    ksync::SpinGuard g(lock_);
    push_global_locked(item);
    uint32_t n = 0;
    for (; n < cache_cap_ / 2 && h.head; n++) {
        void* it = h.head;
        h.head = *static_cast<void**>(it);
        push_global_locked(it);
    }
    HartCaches::add_room(h, n);
    c.given.add(1 + n);
}

bool Zone::replenish()
{
    for (;;) {
        {
            cpu::IrqGuard irq;
            ksync::SpinGuard g(lock_);
            if (global_free_ >= zfreemin_ || at_limit_locked()) {
                caches_.bypass(false); // full, or at its limit: nothing to hold back
                return true;
            }
        }
        if (!grow_page(M_USE_RESERVE))
            return false;
    }
}

void Zone::snapshot(ZoneStats& out)
{
    out.name = name_;
    out.kind = interrupt_ ? ZoneKind::ZallocInterrupt : ZoneKind::Zalloc;
    out.item_size = size_;
    out.limit = max_items_;
    uint64_t allocs = 0, taken = 0, out_of_zone = 0;
    for (unsigned i = 0; i < cpu::MAX_HARTS; i++) {
        HartCold& c = cold_[i];
        allocs += caches_.allocs(i);
        taken += c.taken.get();
        out_of_zone += c.given.get() + (debug_ ? c.dcount.get() : caches_.length(i, cache_cap_));
    }
    out.requests = allocs;
    out.failures = failures_.load(std::memory_order_relaxed);
    out.objs_per_slab = per_page_;
    cpu::IrqGuard irq;
    ksync::SpinGuard g(lock_);
    // The counters are read without the lock: clamp what a racing free or
    // allocation could make inconsistent.
    out.used = out_of_zone > taken ? 0 : static_cast<size_t>(taken - out_of_zone);
    if (out.used > total_items_)
        out.used = total_items_;
    out.free = total_items_ - out.used;
    out.reserve_present = global_free_ < zfreemin_ ? global_free_ : zfreemin_;
    out.reserve_target = zfreemin_;
    out.k_guarantee = zfreemin_;
    out.slabs_hart = pages_;
    out.pages = pages_;
}

void Zone::destroy()
{
    ZoneStats s;
    snapshot(s);
    if (s.used)
        panic("zalloc %s: destroyed with %zu items in use", name_, s.used);
    unregister_self();
    PageTrailer* t = pages_head_;
    while (t) {
        PageTrailer* next = t->next;
        if (!interrupt_ && !(t->flags & PAGE_BOOT))
            backend_->free_pages(reinterpret_cast<char*>(t) - PAGE_ITEM_BYTES, 1);
        t = next;
    }
    if (interrupt_)
        backend_->release_va(va_base_, va_pages_);
    pages_head_ = nullptr;
    global_head_ = nullptr;
    global_free_ = total_items_ = pages_ = 0;
    caches_.reset(0);
    for (HartCold& c : cold_) {
        c.taken.set(0);
        c.given.set(0);
        c.dhead = nullptr;
        c.dcount.set(0);
    }
    initialized_ = false;
}

} // namespace zalloc
