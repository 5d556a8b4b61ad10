// Swapping kernel stacks out and back in.
//
// A stack's life under pressure (docs/kstack.md has the picture):
//
//   Resident --claim--> SwappingOut --written, unmapped, freed--> Swapped
//   Swapped --swapper reads, verifies, maps--> Resident (via SwappingIn)
//
// Who drives it:
//   - the pagedaemon (vm/pageout.cc) calls swap_out() when free pages fall
//     below free_min, asking for the pages it needs to reach free_target;
//   - sched::wake() calls on_wake_locked() for a sleeping thread whose stack
//     is not resident: the thread becomes Runnable but goes on no run queue;
//     the swapper thread brings the stack back, longest-waiting first, and only
//     then queues it;
//   - the swapper also brings stacks back before their wakeups once free pages
//     are above free_target again, so latency recovers with memory (the
//     complaint that ended FreeBSD's stack swapping).
//
// Progress (the point of the whole allocator): NOTHING ON THE SWAP-OUT PATH
// CAN WAIT FOR MEMORY. Its metadata comes from an interrupt zone
// (M_INTNOWAIT: the zone's held-back items, then one page of the interrupt
// reserve suffices); the block request, the segment list and the TLB batch
// live on the caller's stack or in static scratch; the stack's page tables
// were built when its 2 MiB chunk was first used and are never freed, so
// unmapping and later remapping allocate nothing. Only swap-in allocates
// pages, and it is not on the path that frees memory.
#pragma once

#include "lib/result.h"

#include <cstddef>
#include <cstdint>

namespace kern {
struct Thread;
}

namespace kstack::swap {

// Boot, once threads run: the metadata zone and the swapper thread.
void start();

// Scratch space for one caller of swap_out (the pagedaemon and the emergency
// pager each have their own, so one stuck in I/O cannot block the other).
struct Scratch;
Scratch& scratch(unsigned which); // 0: pagedaemon, 1: emergency pager, 2: tests

struct OutResult {
    uint64_t pages_freed = 0;
    unsigned stacks = 0;       // stacks written and freed
    unsigned cancelled = 0;    // woken while going out: kept resident
    bool full = false;         // swap space ran out
    bool io_error = false;     // a write failed (those stacks stay resident)
    bool no_candidates = false;
};
// Swap out stacks of threads asleep at least idle_us until `need_pages` are
// freed (or nothing more can go). Thread context; sleeps only for the I/O.
[[nodiscard]] OutResult swap_out(Scratch& sc, uint64_t need_pages, uint64_t idle_us);

// The idle threshold (default 2 s; bootarg swap_idle_ms=, tests set it).
uint64_t idle_us();
void set_idle_us(uint64_t us);

// sched::wake(), under the thread's run-queue lock, for a thread whose stack
// is not Resident: Run means queue it now (the stack is resident after all).
enum class Wake : uint8_t { Run, Deferred, DeferredKick };
[[nodiscard]] Wake on_wake_locked(kern::Thread* t);
// After Wake::DeferredKick, with no run-queue lock held: start bringing t's
// stack back (at once from the disk's interrupt when it can, else through the
// swapper). Any context that holds no lock ordered after `swapin-kick`
// (docs/locking.md): a disk interrupt, a waker holding a wait queue's lock
// or the `ipc` lock. It takes the pool and disk locks and may kick().
void woken(kern::Thread* t);
// Wake the swapper thread: after a thread is on its queue, or for a pool to
// top up. The same contexts as woken(); it takes `swapin-kick`, then the
// swapper's run-queue lock.
void kick();

// Tests: how many threads wait for the swapper, and wait until it is idle.
unsigned swapin_queue_length();
// Pages held in the wake-time swap-in pool (the soak's memory balance
// counts them as a cache).
unsigned swapin_pool_pages();
// Pages the pool lacks, which the swapper's next refill takes (the pagedaemon
// pages out that much beyond free_target, as for the growth caches).
unsigned swapin_pool_wanted();

struct Stats {
    uint64_t stacks_swapped;      // now on swap
    uint64_t swap_outs, swap_ins; // stacks
    uint64_t pages_out, pages_in; // pages freed by swap-out, pages brought back
    uint64_t cancelled;           // woken while going out, kept resident
    uint64_t early_swap_ins;      // brought back before their wakeup (memory recovered)
    uint64_t wakeup_swap_ins;     // read at the wakeup itself, completed in the disk interrupt
    uint64_t write_errors, read_errors, checksum_errors, killed;
    uint64_t full;                // swap-outs refused: no swap space
    uint64_t meta_failures;       // swap-outs refused: no metadata item
    uint64_t swapin_wait_us;      // total time woken threads waited for their stack
    uint64_t swapin_waits;
};
Stats stats();

// Where the time goes (cumulative timer ticks, kern::timer::timebase_hz();
// make bench turns them into the breakdowns in docs/benchmarks.md). A few
// rdtime reads per cluster and per swap-in: cheap enough to keep on.
struct Timing {
    // swap_out(), each phase summed: choosing candidates (the harts'
    // candidate lists and selection);
    // claiming, metadata, swap space and checksums; submitting the writes;
    // waiting for them; settling wakeups and unmapping; the wave's TLB
    // shootdown; freeing the pages and marking the stacks Swapped.
    uint64_t out_scan, out_prepare, out_submit, out_io_wait, out_unmap, out_shootdown, out_free;
    uint64_t scan_visits; // sleepers the swap-out scans looked at
    // Swap-ins read at the wakeup (swapin_async.cc): how many, and the
    // phases of the last one (benchmarks take medians over one at a time):
    // from the wakeup to the read submitted (claim, pool pages, the
    // request), from then to the completion handler (the device notify, the
    // device, the interrupt), checking the checksums, and installing
    // (mapping, freeing swap and metadata, queueing the thread, and the IPI
    // that sends it to its hart).
    uint64_t in_count;
    uint64_t last_start, last_device, last_verify, last_install;
};
Timing timing();

} // namespace kstack::swap
