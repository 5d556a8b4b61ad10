// Shared by kstack/swapout.cc and kstack/swapin.cc.
#pragma once

#include "kstack/layout.h"
#include "kstack/swap.h"

namespace kern {
struct Thread;
}

#include <atomic>
#include <cstdint>

namespace kstack {

struct Stack;

// Where a swapped stack is, and what it must read back as. From an interrupt
// zone (kstack/swapin.cc): allocating one never waits and may take the
// interrupt reserve, as everything on the swap-out path must (kstack/swap.h).
struct SwapMeta {
    uint64_t block;              // swap block of page `first` (one block per page)
    uint32_t first;              // the stack's mapped_from when it went out:
    uint32_t pages;              //   pages [first, first + pages) are on swap
    uint64_t sum[STACK_PAGES];   // page_checksum() of each page as written
};

namespace swap::detail {

// Claim a sleeping thread's stack (Resident -> SwappingOut) if it is still in
// sleep `seq`, asleep since at most `cutoff` ticks, unheld and swappable;
// nullptr otherwise. The holder may then unmap pages of it; a wakeup only
// marks it wanted.
Stack* claim(kern::Thread* t, uint64_t seq, uint64_t cutoff);
// Give a claimed stack back as Resident; queue the thread if it was woken.
void keep_resident(kern::Thread* t, Stack* s);

// Never waits; nullptr when even the reserve is gone.
SwapMeta* alloc_meta();
void free_meta(SwapMeta* m);

// Under the thread's run-queue lock: put a Runnable thread whose stack is
// Swapped on the swapper's queue. The caller kicks the swapper after the
// lock is dropped.
void queue_for_swapin_locked(kern::Thread* t);

// Counters (stats()).
struct Counters {
    std::atomic<uint64_t> swapped, swap_outs, swap_ins, pages_out, pages_in, cancelled, early;
    std::atomic<uint64_t> write_errors, read_errors, checksum_errors, killed, full, meta_failures;
    std::atomic<uint64_t> wait_us, waits;
    std::atomic<uint64_t> map_gen;
    std::atomic<uint64_t> last_out_us; // when the last swap-out freed a stack
};
extern Counters g_count;

} // namespace swap::detail
} // namespace kstack
