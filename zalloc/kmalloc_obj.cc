// kmalloc_obj zones: allocation, free, slab lists and the poller. The reserve
// lives in reserve.cc. Design and guarantee: kmalloc_obj.h.
#include "zalloc/kmalloc_obj.h"

#include "kern/seam/panic.h"
#include "lib/string.h"
#include "zalloc/debug.h"

#include <initializer_list>
#include <new>

namespace zalloc {

void ObjZone::init(const ObjZoneSpec& spec, Backend& backend, void* static_slabs, size_t nstatic)
{
    kassert(!initialized_);
    if (spec.size > SLAB_MAX_OBJ)
        panic("kmalloc_obj %s: object size %zu above %zu; use page runs", spec.name, spec.size, SLAB_MAX_OBJ);
    name_ = spec.name;
    backend_ = &backend;
    SlabLayout l = slab_layout(spec.size);
    obj_size_ = l.obj_size;
    nobjs_ = l.nobjs;
    objs_offset_ = l.objs_offset;
    bitmap_offset_ = l.bitmap_offset;
    cfg_ = spec.cfg;
    if (cfg_.keep_free_lo > cfg_.keep_free_hi)
        cfg_.keep_free_lo = cfg_.keep_free_hi;
    reserve_target_ = cfg_.reserve_slabs;
    debug_ = debug::enabled();
    cache_cap_ = debug_ ? 0 : (nobjs_ < 64 ? nobjs_ : 64);
    burst_ = cache_cap_ / 2 ? cache_cap_ / 2 : 1;
    caches_.reset(cache_cap_);
    for (HartSlabs& h : harts_) {
        h.taken.set(0);
        h.given.set(0);
    }
    initialized_ = true;
    register_self();
    if (static_slabs)
        add_static_slabs(static_slabs, nstatic);
    replenish_queued_.store(1);
    if (replenish())
        replenish_queued_.store(0);
    else if (backend_)
        backend_->request_replenish();
}

Slab* ObjZone::format_slab(void* mem, bool is_static)
{
    kassert(reinterpret_cast<uintptr_t>(mem) % SLAB_SIZE == 0);
    Slab* s = new (mem) Slab {};
    s->magic = Slab::MAGIC;
    s->zone = this;
    s->obj_size = obj_size_;
    s->nobjs = nobjs_;
    s->nfree = nobjs_;
    s->state = SlabState::Loose;
    s->is_static = is_static;
    s->objs_offset = objs_offset_;
    s->bitmap_offset = bitmap_offset_;
    s->remote_head.store(0, std::memory_order_relaxed);
    // Pop order is address order: the first allocations touch the first lines.
    uint16_t* st = s->stack();
    for (uint32_t i = 0; i < nobjs_; i++)
        st[i] = s->slot_of(s->obj(nobjs_ - 1 - i));
    memset(static_cast<void*>(s->bitmap()), 0, ((nobjs_ + 63) / 64) * 8);
    if (debug_)
        debug::poison(s->objs(), size_t(nobjs_) * obj_size_);
    return s;
}

void ObjZone::drain_remote(Slab* s)
{
    uintptr_t p = s->remote_head.exchange(0, std::memory_order_acquire);
    uint16_t* st = s->stack();
    while (p) {
        uintptr_t next = *reinterpret_cast<uintptr_t*>(p);
        if (s->nfree >= s->nobjs)
            panic("kmalloc_obj %s: slab %p has more free objects than it holds", s->zone->name(), static_cast<void*>(s));
        st[s->nfree++] = s->slot_of(reinterpret_cast<void*>(p));
        p = next;
    }
}

void* ObjZone::finish_alloc(void* p, MFlags flags, void* caller)
{
    if (debug_)
        check_alloc(p, caller);
    if (flags.has(MFlag::Zero))
        memset(p, 0, obj_size_);
    return p;
}

// Interrupts off: after popping from the active slab, move up to burst - 1 more
// of its objects to the hart's list, so the next allocations take the fast path.
void ObjZone::refill(HartSlabs& h, HartHot& hot)
{
    Slab* a = h.active;
    uint32_t n = 0;
    while (n + 1 < burst_ && a->nfree && HartCaches::room(hot) > 0) {
        bool ok = HartCaches::push_locked(hot, pop(a));
        (void)ok;
        n++;
    }
    h.taken.add(n);
}

// Interrupts off. The hart's own slabs first, then the zone's lists.
void* ObjZone::alloc_cached(HartSlabs& h)
{
    if (Slab* a = h.active) {
        drain_remote(a);
        if (a->nfree)
            return pop(a);
    }
    if (Slab* b = h.alternate) {
        drain_remote(b);
        if (b->nfree) {
            h.alternate = h.active;
            h.active = b;
            return pop(b);
        }
    }
    ksync::SpinGuard g(lock_);
    Slab* s = take_from_lists_locked();
    if (!s)
        return nullptr;
    install_locked(h, s);
    return pop(s);
}

Slab* ObjZone::take_from_lists_locked()
{
    Slab* s = partial_.pop_front();
    if (!s) {
        // Exhausted slabs may have collected remote frees since the last poll.
        // Look at a few, rotating them so the next miss looks at others.
        for (size_t i = 0, n = exhausted_.size(); i < n && i < 8; i++) {
            Slab* e = exhausted_.pop_front();
            drain_remote(e);
            if (e->nfree) {
                s = e;
                break;
            }
            exhausted_.push_back(*e);
        }
    }
    if (!s)
        s = free_.pop_front();
    if (s)
        s->state = SlabState::Loose;
    return s;
}

// The hart's alternate goes back to the zone, the active becomes the alternate.
void ObjZone::install_locked(HartSlabs& h, Slab* s)
{
    if (h.alternate)
        classify_locked(h.alternate);
    h.alternate = h.active;
    h.active = s;
    s->state = SlabState::Hart;
}

void ObjZone::classify_locked(Slab* s)
{
    drain_remote(s);
    if (s->nfree == 0) {
        s->state = SlabState::Exhausted;
        exhausted_.push_back(*s);
    } else if (s->nfree == s->nobjs) {
        s->state = SlabState::Free;
        free_.push_front(*s);
    } else {
        s->state = SlabState::Partial;
        partial_.push_front(*s);
    }
}

void* ObjZone::alloc_slow(MFlags flags, void* caller)
{
    if (!caller)
        caller = __builtin_return_address(0);
    void* got = nullptr;
    {
        cpu::IrqGuard irq;
        unsigned hart = cpu::id();
        HartSlabs& h = harts_[hart];
        HartHot& hot = caches_.of(hart);
        // An interrupt may have refilled the list since the fast path looked.
        got = HartCaches::pop_locked(hot);
        if (!got && (got = alloc_cached(h))) {
            h.taken.add(1);
            HartCaches::count_alloc(hot);
            if (!debug_)
                refill(h, hot);
        }
    }
    if (got)
        return finish_alloc(got, flags, caller);
    bool from_reserve = false;
    Slab* s = new_slab(flags, from_reserve);
    if (!s)
        return fail(flags, caller, at_limit() ? "zone limit reached" : "no slab and no pages");
    void* p;
    {
        cpu::IrqGuard irq;
        ksync::SpinGuard g(lock_);
        unsigned hart = cpu::id(); // perhaps another hart than before
        HartSlabs& h = harts_[hart];
        HartHot& hot = caches_.of(hart);
        install_locked(h, s);
        p = pop(s);
        h.taken.add(1);
        HartCaches::count_alloc(hot);
    }
    if (from_reserve) {
        reserve_takes_.fetch_add(1, std::memory_order_relaxed);
        queue_replenish();
    } else {
        maintain_reserve(flags);
    }
    return finish_alloc(p, flags, caller);
}

void* ObjZone::fail(MFlags flags, void* caller, const char* why)
{
    failures_.fetch_add(1, std::memory_order_relaxed);
    if (flags.null_ok())
        return nullptr;
    panic("kmalloc_obj %s: M_WAITOK allocation failed: %s (caller %p)", name_, why, caller);
}

// Interrupts off, on the running hart: an object back to its slab.
void ObjZone::give_back(HartSlabs& h, void* p)
{
    Slab* s = Slab::of(p);
    h.given.add(1);
    if (s == h.active || s == h.alternate) [[likely]] {
        // Only this hart pops or pushes this slab's stack while it is ours.
        s->stack()[s->nfree++] = s->slot_of(p);
        return;
    }
    auto* link = static_cast<uintptr_t*>(p);
    uintptr_t old = s->remote_head.load(std::memory_order_relaxed);
    do {
        *link = old;
    } while (!s->remote_head.compare_exchange_weak(old, reinterpret_cast<uintptr_t>(p), std::memory_order_release,
                                                   std::memory_order_relaxed));
}

// The hart's list was full (or debug mode): push if there is room now, else the
// object and half the list go back to their slabs.
void ObjZone::free_slow(void* p, void* caller)
{
    if (!caller)
        caller = __builtin_return_address(0);
    if (debug_)
        check_free(Slab::of(p), p, caller);
    cpu::IrqGuard irq;
    unsigned hart = cpu::id();
    HartSlabs& h = harts_[hart];
    HartHot& hot = caches_.of(hart);
    if (HartCaches::push_locked(hot, p))
        return;
    give_back(h, p);
    flush_list(h, hot, cache_cap_ / 2);
}

// Interrupts off, on the running hart: the first n objects of its list (all of
// them if fewer) back to their slabs. The list, not the room, says how many
// there are: a thread moved off this hart between its pop and the word's add
// leaves the room one short for a while (hart_cache.h).
void ObjZone::flush_list(HartSlabs& h, HartHot& hot, uint32_t n)
{
    uint32_t moved = 0;
    for (; moved < n && hot.head; moved++) {
        void* o = hot.head;
        hot.head = *static_cast<void**>(o);
        give_back(h, o);
    }
    HartCaches::add_room(hot, moved);
}

void ObjZone::foreign(const void* p, void* caller, const char* why)
{
    panic("kmalloc_obj %s: free of foreign pointer %p: %s (caller %p)", name_, p, why, caller);
}

void ObjZone::check_free(Slab* s, void* p, void* caller)
{
    if (s->magic != Slab::MAGIC)
        foreign(p, caller, "not in a slab");
    if (s->zone != this)
        foreign(p, caller, s->zone ? "slab of another zone" : "slab of no zone");
    size_t off = static_cast<size_t>(static_cast<char*>(p) - s->objs());
    if (static_cast<char*>(p) < s->objs() || off % obj_size_ || off / obj_size_ >= nobjs_)
        foreign(p, caller, "not an object boundary");
    size_t idx = off / obj_size_;
    uint64_t bit = 1ull << (idx % 64);
    uint64_t old = s->bitmap()[idx / 64].fetch_and(~bit, std::memory_order_acq_rel);
    if (!(old & bit))
        panic("kmalloc_obj %s: double free of %p (caller %p)", name_, p, caller);
    // The first word links remote frees; the rest is poisoned.
    if (obj_size_ > 8)
        debug::poison(static_cast<char*>(p) + 8, obj_size_ - 8);
}

void ObjZone::check_alloc(void* p, void* caller)
{
    Slab* s = Slab::of(p);
    size_t idx = static_cast<size_t>(static_cast<char*>(p) - s->objs()) / obj_size_;
    uint64_t bit = 1ull << (idx % 64);
    uint64_t old = s->bitmap()[idx / 64].fetch_or(bit, std::memory_order_acq_rel);
    if (old & bit)
        panic("kmalloc_obj %s: object %p handed out twice: free stack corrupted (caller %p)", name_, p, caller);
    if (obj_size_ > 8)
        if (const void* bad = debug::find_unpoisoned(static_cast<char*>(p) + 8, obj_size_ - 8))
            panic("kmalloc_obj %s: object %p modified after free at +%zu (caller %p)", name_, p,
                  static_cast<size_t>(static_cast<const char*>(bad) - static_cast<char*>(p)), caller);
}

void ObjZone::release_slab(Slab* s)
{
    s->magic = 0;
    s->zone = nullptr;
    backend_->free_pages(s, SLAB_PAGES);
    nslabs_.fetch_sub(1, std::memory_order_relaxed);
    slabs_released_.fetch_add(1, std::memory_order_relaxed);
}

void ObjZone::poll()
{
    SlabList release;
    {
        // The calling hart's cached objects go back to their slabs, so slabs
        // it kept from being free can be found free below.
        cpu::IrqGuard irq;
        unsigned hart = cpu::id();
        flush_list(harts_[hart], caches_.of(hart), cache_cap_);
    }
    {
        cpu::IrqGuard irq;
        ksync::SpinGuard g(lock_);
        // Reclassify: remote frees may have made exhausted slabs partial or free,
        // and partial slabs free.
        SlabList again;
        while (Slab* s = partial_.pop_front())
            again.push_back(*s);
        while (Slab* s = exhausted_.pop_front())
            again.push_back(*s);
        while (Slab* s = again.pop_front())
            classify_locked(s);
        // The reserve first takes slabs the zone already holds.
        while (reserve_.size() < reserve_target_ && !free_.empty())
            add_reserve(free_.pop_front());
        // Hysteresis: release only after free slabs stayed above hi for
        // hold_polls polls in a row, then down to lo.
        if (free_.size() > cfg_.keep_free_hi)
            excess_polls_++;
        else
            excess_polls_ = 0;
        if (excess_polls_ >= cfg_.hold_polls && cfg_.hold_polls) {
            excess_polls_ = 0;
            SlabList keep;
            while (free_.size() > cfg_.keep_free_lo) {
                Slab* s = free_.pop_back();
                if (s->is_static) {
                    keep.push_back(*s);
                    continue;
                }
                s->state = SlabState::Loose;
                release.push_back(*s);
            }
            while (Slab* s = keep.pop_front())
                free_.push_back(*s);
        }
    }
    if (release.empty())
        return;
    // Type stability: nobody may be reading the zone without a reference. A
    // read-modify-write, not a load: a reader whose ReadGuard increment comes
    // after it reads from it, so everything that happened before this point (the
    // objects' unlinking and freeing) happens before the reader's lookups.
    if (readers_.fetch_add(0, std::memory_order_seq_cst) != 0) {
        cpu::IrqGuard irq;
        ksync::SpinGuard g(lock_);
        while (Slab* s = release.pop_front()) {
            s->state = SlabState::Free;
            free_.push_back(*s);
        }
        return;
    }
    while (Slab* s = release.pop_front())
        release_slab(s);
}

void ObjZone::snapshot(ZoneStats& out)
{
    out.name = name_;
    out.kind = ZoneKind::Obj;
    out.item_size = obj_size_;
    out.limit = cfg_.max_slabs * nobjs_;
    uint64_t allocs = 0, taken = 0, not_used = 0;
    for (unsigned i = 0; i < cpu::MAX_HARTS; i++) {
        allocs += caches_.allocs(i);
        taken += harts_[i].taken.get();
        not_used += harts_[i].given.get() + caches_.length(i, cache_cap_);
    }
    out.requests = allocs + failures_.load(std::memory_order_relaxed);
    out.failures = failures_.load(std::memory_order_relaxed);
    out.objs_per_slab = nobjs_;
    out.reserve_target = reserve_target_;
    out.k_guarantee = k_guarantee();
    out.slabs_allocated = slabs_allocated_.load(std::memory_order_relaxed);
    out.slabs_released = slabs_released_.load(std::memory_order_relaxed);
    cpu::IrqGuard irq;
    ksync::SpinGuard g(lock_);
    size_t n = nslabs_.load(std::memory_order_relaxed);
    // The counters are read without the lock: clamp what a racing free or
    // allocation could make inconsistent.
    out.used = not_used > taken ? 0 : static_cast<size_t>(taken - not_used);
    if (out.used > n * nobjs_)
        out.used = n * nobjs_;
    out.free = n * nobjs_ - out.used;
    out.reserve_present = reserve_.size();
    out.slabs_partial = partial_.size();
    out.slabs_free = free_.size();
    out.slabs_exhausted = exhausted_.size();
    out.slabs_hart = n - reserve_.size() - partial_.size() - free_.size() - exhausted_.size();
    out.pages = n * SLAB_PAGES;
}

void ObjZone::destroy()
{
    ZoneStats st;
    snapshot(st);
    if (st.used)
        panic("kmalloc_obj %s: destroyed with %zu objects in use", name_, st.used);
    unregister_self();
    SlabList all;
    {
        cpu::IrqGuard irq;
        ksync::SpinGuard g(lock_);
        for (HartSlabs& h : harts_) {
            for (Slab* s : {h.active, h.alternate})
                if (s)
                    all.push_back(*s);
            h.active = h.alternate = nullptr;
            h.taken.set(0);
            h.given.set(0);
        }
        // Objects on the harts' lists go with their slabs.
        caches_.reset(0);
        for (SlabList* l : {&partial_, &free_, &exhausted_, &reserve_})
            while (Slab* s = l->pop_front())
                all.push_back(*s);
    }
    while (Slab* s = all.pop_front()) {
        if (s->is_static) {
            s->magic = 0;
            nslabs_.fetch_sub(1);
        } else {
            release_slab(s);
        }
    }
    initialized_ = false;
}

} // namespace zalloc
