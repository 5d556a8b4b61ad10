// kstack internals shared by the allocator (kstack.cc) and the swapper
// (swapout.cc, swapin.cc). Not for other subsystems: they see kstack.h.
#pragma once

#include "kstack/kstack.h"
#include "kstack/layout.h"
#include "lib/list.h"
#include "vm/layout.h"

#include <atomic>
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
    // Pages [mapped_from, STACK_PAGES) are mapped (the top of the stack); the
    // ones below are not, until a fault grows the stack (kstack/grow.cc). The
    // owner's Thread::stack_limit is the address of page mapped_from.
    uint32_t mapped_from;
    uint32_t high_water;
    uint32_t grow_faults;        // faults that grew this stack (tests, kstack)
    // Harts that may still cache "not mapped" for pages of this stack mapped
    // since they last ran its thread (Sv39 lets a hart keep invalid entries
    // until an sfence.vma): each flushes the stack's range before switching
    // to the thread (kstack::before_switch_in).
    std::atomic<uint32_t> stale_harts;
    SwapMeta* meta;              // where it is on swap (Swapped, SwappingIn)
};

// Lowest mapped address of a stack.
[[nodiscard]] inline uintptr_t mapped_bottom(const Stack* s)
{
    return LAYOUT.stack_bottom(s->slot) + uintptr_t(s->mapped_from) * PAGE_SIZE;
}

namespace detail {
// What fresh stack pages are filled with (fill()): the words still holding it
// were never touched, which is how the deepest use is measured.
inline constexpr uint64_t FILL = 0x5a5a5a5a5a5a5a5aull;
// Resident stack pages gained (+) or given up (-) by the swapper.
void account_pages(int64_t delta);
// The pattern fresh stack pages get (high-water measurement).
void fill(uintptr_t from, uintptr_t to);
// Tell the owner (if any) where its stack now ends: Thread::stack_limit.
void update_limit(Stack* s);
// Pages of s were just mapped: every hart in `harts` must flush before
// running its thread.
void mark_stale(Stack* s, uint32_t harts);
// Counters kept by grow.cc and shrink.cc.
void note_grown(uint64_t pages);
void note_given_back(uint64_t pages);
void note_grow_wait();
} // namespace detail

} // namespace kstack
