// The kmalloc_obj slab reserve: how a zone gets new slabs under the caller's
// flags, who may take reserve slabs, and how the reserve is refilled.
// The guarantee it implements is stated in kmalloc_obj.h.
#include "kern/seam/panic.h"
#include "zalloc/kmalloc_obj.h"

namespace zalloc {

bool ObjZone::at_limit() const
{
    return cfg_.max_slabs && nslabs_.load(std::memory_order_relaxed) >= cfg_.max_slabs;
}

size_t ObjZone::reserve_count()
{
    cpu::IrqGuard irq;
    ksync::SpinGuard g(lock_);
    return reserve_.size();
}

// Under lock_.
void ObjZone::add_reserve(Slab* s)
{
    s->state = SlabState::Reserve;
    reserve_.push_back(*s);
}

// The zone is out of objects: get a whole new slab, as the caller's flags allow.
// An entitled caller takes a reserve slab before it digs into the page reserve:
// the slab reserve exists so the paging path can progress without pages, and the
// page reserve (the last free pages) is kept for what only pages can do, such as
// refilling a zalloc interrupt zone. Order:
//   1. non-blocking pages, class Normal or System (System for either reserve flag);
//   2. M_USE_INTERRUPT_RESERVE: a reserve slab;
//   3. M_USE_INTERRUPT_RESERVE: non-blocking pages of class Interrupt;
//   4. M_WAITOK: a blocking allocation with the caller's class.
Slab* ObjZone::new_slab(MFlags flags, bool& from_reserve)
{
    from_reserve = false;
    void* mem = nullptr;
    PageClass cls = page_class(flags);
    PageClass first = cls == PageClass::Interrupt ? PageClass::System : cls;
    if (!at_limit())
        mem = backend_->alloc_pages(SLAB_PAGES, SLAB_PAGES, first, false);
    if (!mem && flags.reserve_entitled()) {
        cpu::IrqGuard irq;
        ksync::SpinGuard g(lock_);
        if (Slab* s = reserve_.pop_front()) {
            s->state = SlabState::Loose;
            from_reserve = true;
            return s;
        }
    }
    if (!mem && cls == PageClass::Interrupt && !at_limit())
        mem = backend_->alloc_pages(SLAB_PAGES, SLAB_PAGES, cls, false);
    if (!mem && flags.may_block() && !at_limit())
        mem = backend_->alloc_pages(SLAB_PAGES, SLAB_PAGES, cls, true);
    if (!mem)
        return nullptr;
    nslabs_.fetch_add(1, std::memory_order_relaxed);
    slabs_allocated_.fetch_add(1, std::memory_order_relaxed);
    return format_slab(mem, false);
}

// After a caller took a new slab: one cheap attempt to keep the reserve at
// target; a blocking one only if the reserve is empty and the caller may sleep.
void ObjZone::maintain_reserve(MFlags flags)
{
    size_t have = reserve_count();
    if (have >= reserve_target_ || at_limit())
        return;
    void* mem = backend_->alloc_pages(SLAB_PAGES, SLAB_PAGES, PageClass::Normal, false);
    if (!mem && have == 0 && flags.may_block())
        mem = backend_->alloc_pages(SLAB_PAGES, SLAB_PAGES, page_class(flags), true);
    if (mem) {
        nslabs_.fetch_add(1, std::memory_order_relaxed);
        slabs_allocated_.fetch_add(1, std::memory_order_relaxed);
        Slab* s = format_slab(mem, false);
        cpu::IrqGuard irq;
        ksync::SpinGuard g(lock_);
        add_reserve(s);
        have = reserve_.size();
    }
    if (have < reserve_target_)
        queue_replenish();
}

// Background refill (replenish_all): fully free slabs the zone holds first, then
// non-blocking System-class allocations (the replenisher is a system thread).
bool ObjZone::replenish()
{
    for (;;) {
        {
            cpu::IrqGuard irq;
            ksync::SpinGuard g(lock_);
            if (reserve_.size() >= reserve_target_)
                return true;
            if (Slab* s = free_.pop_front()) {
                add_reserve(s);
                continue;
            }
        }
        if (at_limit())
            return false;
        void* mem = backend_->alloc_pages(SLAB_PAGES, SLAB_PAGES, PageClass::System, false);
        if (!mem)
            return false;
        nslabs_.fetch_add(1, std::memory_order_relaxed);
        slabs_allocated_.fetch_add(1, std::memory_order_relaxed);
        Slab* s = format_slab(mem, false);
        cpu::IrqGuard irq;
        ksync::SpinGuard g(lock_);
        add_reserve(s);
    }
}

void ObjZone::add_static_slabs(void* mem, size_t n)
{
    kassert(initialized_);
    kassert(reinterpret_cast<uintptr_t>(mem) % SLAB_SIZE == 0);
    for (size_t i = 0; i < n; i++) {
        Slab* s = format_slab(static_cast<char*>(mem) + i * SLAB_SIZE, true);
        nslabs_.fetch_add(1, std::memory_order_relaxed);
        cpu::IrqGuard irq;
        ksync::SpinGuard g(lock_);
        if (reserve_.size() < reserve_target_) {
            add_reserve(s);
        } else {
            s->state = SlabState::Free;
            free_.push_back(*s);
        }
    }
}

} // namespace zalloc
