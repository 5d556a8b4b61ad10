// Stack slot arithmetic: hardware-free, host-tested (test/host/kstack_layout_test.cc).
// See kstack/kstack.h for the picture.
#pragma once

#include "lib/page.h"

#include <cstddef>
#include <cstdint>

#ifndef ZEST_KSTACK_SIZE
#define ZEST_KSTACK_SIZE 16384 // build-time tunable: make KSTACK_SIZE=32768
#endif

namespace kstack {

constexpr size_t STACK_SIZE = ZEST_KSTACK_SIZE;
constexpr size_t STACK_PAGES = STACK_SIZE / PAGE_SIZE;
constexpr size_t SLOT_SIZE = 2 * STACK_SIZE;
constexpr size_t GUARD_SIZE = SLOT_SIZE - STACK_SIZE;

static_assert(STACK_SIZE >= 2 * PAGE_SIZE && (STACK_SIZE & (STACK_SIZE - 1)) == 0,
              "kernel stack size must be a power of two of at least two pages");

// A region of `nslots` slots starting at `base` (SLOT_SIZE-aligned).
class SlotLayout {
public:
    constexpr SlotLayout(uintptr_t base, size_t nslots) : base_(base), nslots_(nslots) {}

    [[nodiscard]] constexpr uintptr_t base() const { return base_; }
    [[nodiscard]] constexpr size_t nslots() const { return nslots_; }
    [[nodiscard]] constexpr uintptr_t end() const { return base_ + nslots_ * SLOT_SIZE; }
    [[nodiscard]] constexpr bool contains(uintptr_t va) const { return va >= base_ && va < end(); }

    [[nodiscard]] constexpr uintptr_t slot_base(size_t slot) const { return base_ + slot * SLOT_SIZE; }
    [[nodiscard]] constexpr uintptr_t stack_bottom(size_t slot) const { return slot_base(slot) + GUARD_SIZE; }
    [[nodiscard]] constexpr uintptr_t stack_top(size_t slot) const { return slot_base(slot) + SLOT_SIZE; }

    // Which slot holds va; only meaningful when contains(va).
    [[nodiscard]] constexpr size_t slot_of(uintptr_t va) const { return (va - base_) / SLOT_SIZE; }
    // Inside a slot: the guard half, or the stack half?
    [[nodiscard]] static constexpr bool in_guard(uintptr_t va) { return (va & STACK_SIZE) == 0; }
    // The page index within the stack (0 = lowest page), for a stack-half address.
    [[nodiscard]] static constexpr size_t page_in_stack(uintptr_t va) { return (va & (STACK_SIZE - 1)) / PAGE_SIZE; }

    // The stack object's page index: no holes for guards.
    [[nodiscard]] static constexpr size_t object_index(size_t slot, size_t page) { return slot * STACK_PAGES + page; }
    [[nodiscard]] constexpr size_t object_index_of(uintptr_t va) const
    {
        return object_index(slot_of(va), page_in_stack(va));
    }
    [[nodiscard]] static constexpr size_t slot_of_index(size_t index) { return index / STACK_PAGES; }
    [[nodiscard]] constexpr uintptr_t va_of_index(size_t index) const
    {
        return stack_bottom(index / STACK_PAGES) + (index % STACK_PAGES) * PAGE_SIZE;
    }

private:
    uintptr_t base_;
    size_t nslots_;
};

// The trap-entry test: would storing a frame of `frame` bytes below sp leave
// the stack half of its slot? One bit of the lowest address decides.
[[nodiscard]] constexpr bool frame_overflows(uintptr_t sp, size_t frame)
{
    return ((sp - frame) & STACK_SIZE) == 0;
}

} // namespace kstack
