// kstack internals shared by the allocator (kstack.cc) and the swapper
// (swapout.cc, swapin.cc). Not for other subsystems: they see kstack.h.
#pragma once

#include "kstack/kstack.h"
#include "kstack/layout.h"
#include "lib/list.h"
#include "vm/layout.h"

#include <cstddef>
#include <cstdint>

namespace kstack {

struct SwapMeta;

inline constexpr SlotLayout LAYOUT(vm::layout::KSTACK_BASE, vm::layout::KSTACK_SIZE / SLOT_SIZE);

// Stack metadata: a zalloc zone (type-stable; the pageout scan may look at a
// Stack it does not own).
//
// `state` moves Resident -> SwappingOut -> Swapped -> SwappingIn -> Resident
// only under the owner's run-queue lock (sched::with_thread_locked), the lock
// sched::wake() holds when it looks at it: a wakeup and a swap transition are
// never half-seen by each other.
struct Stack {
    lib::ListNode cache_node;
    uint32_t slot;
    StackState state;
    bool wanted;                 // woken while not resident: queue the thread once it is back
    uint64_t wanted_at;          // rdtime of that wakeup (swap-in wait figures)
    kern::Thread* owner;
    uint64_t pages[STACK_PAGES]; // physical address of each page, 0 when not resident
    uint32_t high_water;
    SwapMeta* meta;              // where it is on swap (Swapped, SwappingIn)
};

namespace detail {
// Resident stack pages gained (+) or given up (-) by the swapper.
void account_pages(int64_t delta);
// Deepest use of a resident stack, from the fill pattern (swap-out records it).
size_t deepest_use(const Stack* s);
} // namespace detail

} // namespace kstack
