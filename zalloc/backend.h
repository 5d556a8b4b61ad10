// What zalloc/ needs from the rest of the kernel: pages, mappings and a wake-up.
//
// zalloc/ touches no hardware. The kernel implements Backend over vm/'s page
// allocator and kernel VA arena; host tests implement it over aligned host memory
// (test/host/zalloc_fake_backend.h). Calls are virtual: they sit on the slow
// path only (a new page or slab), never on an allocation fast path.
//
// Contract for the kernel implementation:
//   - alloc_pages(n, align, cls, may_block): n physically backed, contiguous
//     kernel-virtual pages whose address is a multiple of align pages (align is a
//     power of two; zalloc asks for align == SLAB_PAGES for slabs and large
//     kmalloc runs, 1 for zalloc pages). Class Normal stops at free_reserved,
//     System at the interrupt minimum, Interrupt may take the last page. With
//     may_block == false it must never sleep. With may_block == true it may sleep
//     until pages are freed, and returns nullptr only if it truly cannot wait
//     (too early in boot, interrupts off): zalloc then panics (see flags.h).
//   - free_pages(va, n): give back a run obtained from alloc_pages. Never sleeps.
//   - reserve_va(n): for interrupt zones, at zone creation: n pages of kernel VA
//     with every page-table page needed to map them already allocated, so that a
//     later map_page needs no page but the one it maps. Returns nullptr if VA or
//     page-table pages cannot be had (zone creation then panics: interrupt zones
//     are created at boot).
//   - map_page(va, cls, may_block): allocate one physical page of class cls and
//     map it at va (a page of a reserve_va range). Needs no other page, no map
//     entry, no PV entry. Never sleeps when may_block is false.
//   - request_replenish(): a zone used its reserve; wake the thread that calls
//     zalloc::replenish_all(). Called with interrupts off and zone locks held:
//     it must only wake, never allocate or take a zone lock.
// Locks: zalloc calls the backend with no zone lock held, except map_page for
// interrupt zones (zone lock held, interrupts off) and request_replenish; from
// replenish_all() and poll_all() the registry lock is held. So
// code must not call zalloc while holding a lock the backend takes (vm/'s free
// page lock), and the backend must not allocate from zalloc.
// None of these functions is pure virtual (a freestanding kernel has no
// __cxa_pure_virtual); the defaults fail, so a missing override shows up as an
// allocation failure in the first test, not as a link error.
#pragma once

#include "lib/page.h"
#include "zalloc/flags.h"

#include <cstddef>
#include <cstdint>

namespace zalloc {


// vm/'s page classes, in the order of how deep into the free pages they may go.
enum class PageClass : uint8_t {
    Normal,    // stops at free_reserved
    System,    // M_USE_RESERVE: stops at the interrupt minimum
    Interrupt, // M_USE_INTERRUPT_RESERVE: may take the last free page
};

[[nodiscard]] constexpr PageClass page_class(MFlags f)
{
    if (f.has(MFlag::UseInterruptReserve))
        return PageClass::Interrupt;
    if (f.has(MFlag::UseReserve))
        return PageClass::System;
    return PageClass::Normal;
}

class Backend {
public:
    [[nodiscard]] virtual void* alloc_pages(size_t npages, size_t align_pages, PageClass cls, bool may_block);
    virtual void free_pages(void* va, size_t npages);
    [[nodiscard]] virtual void* reserve_va(size_t npages);
    // Undo reserve_va and free every page mapped in the range (zone teardown, tests).
    virtual void release_va(void* va, size_t npages);
    [[nodiscard]] virtual bool map_page(void* va, PageClass cls, bool may_block);
    virtual void request_replenish();

protected:
    Backend() = default;
    ~Backend() = default; // never deleted through a Backend*
};

} // namespace zalloc
