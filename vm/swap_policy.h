// Which kernel stacks the pagedaemon swaps out, and how it groups them:
// hardware-free, host-tested.
//
// A stack is a candidate when its thread has slept at least the idle
// threshold (default 2 s), holds no stack hold (kstack/hold.h: nothing on the
// stack is linked where others can reach it), is not marked no-swap (the
// pagedaemon, swapper, idle, interrupt and swap-I/O threads) and its stack is
// resident. The longest sleepers go first (they are the least likely to wake
// soon), and the pagedaemon takes only as many as it needs to reach its free
// target. Selected stacks are written in clusters: one run of swap blocks and
// one write per cluster.
#pragma once

#include <cstddef>
#include <cstdint>

namespace vm::swap_policy {

struct Candidate {
    uint64_t sleep_since;  // timer ticks when it went to sleep
    uint32_t holds;        // stack holds
    uint32_t pages;        // resident stack pages
    bool sleeping;
    bool no_swap;
    bool resident;
    uint32_t id;           // the caller's handle (index into its own table)
};

[[nodiscard]] constexpr bool eligible(const Candidate& c, uint64_t now, uint64_t idle_ticks)
{
    return c.sleeping && !c.no_swap && c.resident && c.holds == 0 && now >= c.sleep_since &&
           now - c.sleep_since >= idle_ticks;
}

// Choose eligible candidates, longest asleep first, until their pages reach
// `need_pages` or `max_out` are chosen. Writes their ids to out; returns how
// many. Sorting is in place on `c` (insertion sort: the scan is bounded).
size_t select(Candidate* c, size_t n, uint64_t now, uint64_t idle_ticks, uint64_t need_pages, uint32_t* out,
              size_t max_out);

// Split `n` chosen stacks of `pages_each` pages into clusters of at most
// `max_cluster_pages` pages: returns the number of stacks in the first
// cluster (call again with the rest).
[[nodiscard]] constexpr size_t cluster_size(size_t n, uint32_t pages_each, uint32_t max_cluster_pages)
{
    if (n == 0 || pages_each == 0)
        return 0;
    size_t per = max_cluster_pages / pages_each;
    if (per == 0)
        per = 1;
    return n < per ? n : per;
}

} // namespace vm::swap_policy
