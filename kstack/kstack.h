// kstack/: kernel stacks and everything that happens to them: slots and
// guards, the cache, stack holds, growth on demand and pages given back,
// swap-out under memory pressure and swap-in at wakeup. It builds on vm/
// (pages, mappings, swap space) and kern/sched (whose threads own the stacks).
// Files, rules and tests: kstack/README.md; the design: docs/kstack.md.
//
// Kernel stacks: allocation, guards, the stack object and the cache.
//
// Every stack lives in a fixed-size slot of a dedicated VA region:
//
//   slot base                                    slot base + SLOT_SIZE
//   | guard (unmapped, GUARD_SIZE) | stack pages (STACK_SIZE) |
//
// Slots are aligned to SLOT_SIZE = 2 x STACK_SIZE, so the stack occupies the
// upper half and bit log2(STACK_SIZE) of any address inside it is set: trap
// entry tests that one bit of sp to catch an overflow before it stores
// anything. The guard below a stack is its own slot's lower half and the guard
// above it is the next slot's, so every stack has a guard on both sides.
//
// The stack object: page i of the stack in slot s is object page
// s * STACK_PAGES + i, an index with no holes for guards; swap
// metadata and the pageout scan are indexed by it.
#pragma once

#include "kstack/layout.h"
#include "lib/result.h"

#include <cstddef>
#include <cstdint>

namespace kern {
struct Thread;
}

namespace kstack {

enum class StackState : uint8_t { Free, Cached, Resident, SwappingOut, Swapped, SwappingIn };
const char* state_name(StackState s);

struct Stack;

// Set up the region (boot).
void init();
// A mapped, ready stack: from this hart's cache, the global cache, or built new.
[[nodiscard]] lib::Result<Stack*> alloc(bool may_block);
// Back to the cache, or unmapped and freed when the cache is full.
void free(Stack* s);
// Free cached stacks until at most `keep` remain in the global cache (memory
// pressure); returns how many were freed.
size_t trim_cache(size_t keep);
// Tear down every cached stack, the harts' own caches included (tests and
// benchmarks that need freshly built stacks). Returns how many.
size_t drop_caches();

uintptr_t top(const Stack* s);
// The top TOP_AREA_BYTES of every stack hold what only its running (so
// resident) thread uses: kern::ThreadTop (kern/sched/thread.h). Kept there
// rather than in the Thread, it goes out to swap with the stack instead of
// staying resident for every thread. frames_top() is where the thread's
// frames start: the first one (a user thread's trap frame,
// kern/task/task.cc) sits right below the area.
inline constexpr size_t TOP_AREA_BYTES = 432; // sizeof(kern::ThreadTop), rounded to 16: static_assert there
uintptr_t frames_top(const Stack* s);
void* top_area(const Stack* s);
uintptr_t bottom(const Stack* s);
unsigned slot(const Stack* s);
StackState state(const Stack* s);
// The scheduler, before switching this hart to the thread that owns s: flush
// this hart's stale "not mapped" entries for pages mapped since it last ran
// it (swap-in, growth). Two loads when there is nothing to do; panics if the
// stack is not resident (a scheduler bug).
void before_switch_in(Stack* s, unsigned hart);
// Harts that must still flush this stack's pages before they run its thread
// (a bit per hart; tests).
uint32_t stale_harts(const Stack* s);
// Lowest mapped address (stacks start with their top page(s) and grow down on
// demand); trap entry compares sp with it.
uintptr_t limit(const Stack* s);
// Resident pages of a stack (0 when on swap).
size_t mapped_pages(const Stack* s);
// Pages a new stack starts with (bootarg kstack_pages=N, default 1).
size_t initial_pages();
// Benchmarks compare fixed and growing stacks in one boot: set it at run time
// (1..STACK_PAGES; stacks built before keep their pages).
void set_initial_pages(size_t n);
// hist[k] = stacks of live threads with k pages resident (k = 0..STACK_PAGES).
void mapped_histogram(uint64_t* hist);
void set_owner(Stack* s, kern::Thread* t);
// The stack whose slot contains va (guard included), or nullptr.
Stack* from_address(uintptr_t va);
kern::Thread* owner(const Stack* s);
// Deepest use seen on this stack, in bytes (fill-pattern scan).
size_t high_water(const Stack* s);

struct Stats {
    uint64_t in_use;
    uint64_t cached_hart;   // in per-hart caches
    uint64_t cached_global;
    uint64_t object_pages;  // resident stack pages
    uint64_t built;         // stacks built from fresh pages
    uint64_t destroyed;
    uint64_t cache_hits;
    uint64_t cache_misses;
    uint64_t guard_faults;
    uint64_t max_high_water;
    uint64_t grow_faults;   // faults that mapped more of a stack (kstack/grow.cc)
    uint64_t pages_grown;
    uint64_t pages_given_back; // by the pagedaemon, from idle threads (kstack/shrink.cc)
    uint64_t grow_waits;    // growth faults that found no page and waited for memory
};
Stats stats();
void note_guard_fault();

} // namespace kstack
