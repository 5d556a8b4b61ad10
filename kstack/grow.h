// Kernel stacks that grow on demand.
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
// stack it happened on, not to whichever thread "current" names.
//
// When the cache is empty (memory at zero), code that could sleep (it had
// interrupts on, so it holds no spinlock) waits for memory (kern/arch/riscv/trap.cc
// parks it); code that cannot draws on a small per-hart reserve that only it
// may take. The paging threads never grow (TF_FULL_STACK: fully mapped at
// creation), and interrupts that find little room run on the hart's own
// overflow stack: neither depends on either pool (docs/kstack.md).
#pragma once

#include "lib/result.h"

#include <cstdint>

namespace kstack {

struct Stack;

enum class Grow : uint8_t {
    Grown,      // mapped; retry the access
    Overflow,   // the access is in the guard: a real overflow
    NotAStack,  // sp is not in a kernel stack (a boot stack)
    NoPage,     // no pre-allocated page on this hart (one that may wait, waits)
};

// From the overflow path of trap entry, interrupts off, on the overflow
// stack: `sp` is the interrupted sp, `need` the lowest address that must be
// mapped (the trap frame's bottom, or the faulting address). `atomic`: the
// faulting code cannot wait (interrupts were off), so it may take the hart's
// reserve once the cache is empty.
[[nodiscard]] Grow grow_on_fault(uintptr_t sp, uintptr_t need, bool atomic);

// Top up this hart's reserve, then its cache. Never sleeps; safe with
// interrupts off (the timer tick calls it) but not inside an allocator's lock.
// Returns whether the cache holds any page afterwards.
bool refill_grow_cache();
// A fault found no page and its thread went to wait for memory (counted in
// kstack::stats().grow_waits).
void note_grow_wait();
// Map every page of a new stack (TF_FULL_STACK threads: the paging threads,
// which must never grow). May sleep for pages when may_block.
[[nodiscard]] lib::Status map_all(Stack* s, bool may_block);
// Pages held in all harts' growth caches.
uint64_t grow_cache_pages();
// Pages the online harts' caches and reserves lack: what their next refills
// (every timer tick) will take. The pagedaemon pages out that much beyond
// free_target, or those refills would take free memory back below the
// target right after it stopped (vm/pageout.cc).
uint64_t grow_cache_wanted();

} // namespace kstack
