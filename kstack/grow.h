// Kernel stacks that grow on demand (issue 9).
//
// A new stack has only its top page(s) mapped (bootarg kstack_pages=N,
// default 1); the rest of its slot stays reserved, the guard below it as
// before. The thread's stack limit (Thread::stack_limit, copied to the hart at
// every switch) is the lowest mapped address, so when code runs below it,
// trap entry sees that sp leaves no room for a trap frame and goes to the
// hart's own overflow stack, exactly as for an overflow. There grow_on_fault()
// decides: inside the stack's slot above the guard, it maps the missing pages
// down to the fault (a little further, for the handler's own frames), and the
// trap returns to retry the instruction; only in the guard is it an overflow.
//
// The fault never allocates. Pages come from a per-hart cache of
// pre-allocated pages, refilled outside the fault path (the timer tick, stack
// allocation, a hart coming online), and the page-table entries are written
// without a lock (vm::kmem::map_stack_page). The owner is found from the
// address, not from "current", and the limit travels with sp in
// switch_context: a fault in the middle of a context switch is charged to the
// stack it happened on (seed 004's worry).
#pragma once

#include <cstdint>

namespace kstack {

enum class Grow : uint8_t {
    Grown,      // mapped; retry the access
    Overflow,   // the access is in the guard: a real overflow
    NotAStack,  // sp is not in a kernel stack (a boot stack)
    CacheEmpty, // no pre-allocated page on this hart (reported as fatal)
};

// From the overflow path of trap entry, interrupts off, on the overflow
// stack: `sp` is the interrupted sp, `need` the lowest address that must be
// mapped (the trap frame's bottom, or the faulting address).
[[nodiscard]] Grow grow_on_fault(uintptr_t sp, uintptr_t need);

// Top up this hart's cache of pages for growth. Never sleeps; safe with
// interrupts off (the timer tick calls it).
void refill_grow_cache();
// Pages held in all harts' growth caches.
uint64_t grow_cache_pages();

} // namespace kstack
