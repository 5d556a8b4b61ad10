// Shared by kstack/swapout.cc and kstack/swapin.cc.
#pragma once

#include "dev/block.h"
#include "kstack/layout.h"
#include "kstack/swap.h"

namespace kern {
struct Thread;
}

#include <atomic>
#include <cstdint>

namespace kstack {

struct Stack;

// Where a swapped stack is, and what it must read back as: all a swapped
// stack keeps resident besides its Stack record and its Thread (48 bytes).
// From an interrupt zone (kstack/swapin.cc): allocating one never waits and
// may take the interrupt reserve, as everything on the swap-out path must
// (kstack/swap.h). A wake-time read in flight keeps its request elsewhere
// (AsyncRead, kstack/swapin_async.cc), for the few stacks being read at once.
struct SwapMeta {
    uint64_t block;              // swap block of page `first` (one block per page)
    uint32_t first;              // the stack's mapped_from when it went out:
    uint32_t pages;              //   pages [first, first + pages) are on swap
    uint64_t sum[STACK_PAGES];   // page_checksum() of each page as written
};
static_assert(sizeof(SwapMeta) == 16 + 8 * STACK_PAGES, "a swapped thread's resident cost (docs/swap.md)");

namespace swap::detail {

// A swap-out wave (swapout.cc): this many stacks are claimed, written, then
// unmapped and freed together. The metadata zone holds back what two passes
// hold at most before they free anything (the pagedaemon's and the emergency
// pager's) for swap-outs at zero free memory.
// 128: one TLB shootdown per 128 stacks (a shootdown to a hart idle in wfi
// cost about 200 us under QEMU, 16 of them per 16 MiB at 64 stacks a wave).
inline constexpr size_t WAVE_STACKS = 128;
// While a wave is finished, the next wave's first clusters (this many stacks)
// are already claimed and on their way to the disk: a pass holds up to
// WAVE_STACKS + AHEAD_STACKS metadata items before it frees anything.
inline constexpr size_t AHEAD_STACKS = 32;
inline constexpr size_t META_RESERVE = 2 * (WAVE_STACKS + AHEAD_STACKS);

// Claim a sleeping thread's stack (Resident -> SwappingOut) if it is still in
// sleep `seq`, asleep since at most `cutoff` ticks, unheld and swappable;
// nullptr otherwise. The holder may then unmap pages of it; a wakeup only
// marks it wanted.
Stack* claim(kern::Thread* t, uint64_t seq, uint64_t cutoff);
// Give a claimed stack back as Resident; queue the thread if it was woken.
void keep_resident(kern::Thread* t, Stack* s);

// Swap-in steps shared by the swapper thread (swapin.cc) and the wake-time
// path (swapin_async.cc). claim_swapped: Swapped -> SwappingIn (not one that
// was woken, when `early`). unclaim_swapped: back to Swapped, queued for the
// swapper if it was woken (returns true: kick the swapper). install: map the
// pages read into pa[], free the swap space and metadata, make the stack
// Resident and queue the thread if it was woken; with !intact the thread is
// restarted at its way out instead, out of any sleep it was in (its stack
// could not be read back: kstack/swapin.cc). Any context.
bool claim_swapped(kern::Thread* t, bool early, Stack*& s, SwapMeta*& meta);
bool unclaim_swapped(kern::Thread* t, Stack* s);
void install(kern::Thread* t, Stack* s, SwapMeta* meta, const uint64_t* pa, bool intact, bool early);
// Whether page p of what was read into segs matches its checksum: the index
// of the first bad page, or meta->pages when all are good.
size_t first_bad_page(const SwapMeta* meta, const dev::BlockSegment* segs);

// The wake-time path (swapin_async.cc): start reading t's stack right away
// from pre-allocated pages, completing in the disk's interrupt. False: it
// could not start (no pages in the pool, a device that does not complete in
// interrupts, not Swapped any more); the caller falls back to the swapper.
bool start_async_swap_in(kern::Thread* t);
// The swapper keeps the pool of pages that path takes from.
void refill_async_pool();
[[nodiscard]] bool async_pool_low();

// Never waits; nullptr when even the reserve is gone.
SwapMeta* alloc_meta();
void free_meta(SwapMeta* m);

// Under the thread's run-queue lock: put a Runnable thread whose stack is
// Swapped on the swapper's queue. The caller kicks the swapper after the
// lock is dropped.
void queue_for_swapin_locked(kern::Thread* t);

// Counters (stats()).
struct Counters {
    std::atomic<uint64_t> swapped, swap_outs, swap_ins, pages_out, pages_in, cancelled, early, at_wakeup;
    std::atomic<uint64_t> write_errors, read_errors, checksum_errors, killed, full, meta_failures;
    std::atomic<uint64_t> wait_us, waits;
    std::atomic<uint64_t> last_out_us; // when the last swap-out pass ended
    std::atomic<uint32_t> outs_running; // swap-out passes under way (no early swap-in meanwhile)
};
extern Counters g_count;

// Timing (swap.h), one atomic per field.
struct TimingCounters {
    std::atomic<uint64_t> out_scan, out_prepare, out_submit, out_io_wait, out_unmap, out_shootdown, out_free;
    std::atomic<uint64_t> scan_visits, in_count;
    std::atomic<uint64_t> last_start, last_device, last_verify, last_install;
};
extern TimingCounters g_time;
// Add the ticks since `since` to `sum`; returns now.
uint64_t charge(std::atomic<uint64_t>& sum, uint64_t since);
// Store the ticks since `since` in `last`; returns now.
uint64_t stamp(std::atomic<uint64_t>& last, uint64_t since);

} // namespace swap::detail
} // namespace kstack
