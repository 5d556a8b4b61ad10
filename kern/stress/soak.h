// The soak: every load the paging path has to survive, at once, for a while.
//
// Parts (each can be switched off, so a run can isolate one):
//   sleepers  kernel threads that build checksummed stacks (kern/stress/stress.h's
//             walk) at random depths, sleep long enough to be swapped, check
//             every frame on waking; each does a few rounds, exits, is joined
//             and replaced
//   ipc       slow IPC servers (user/progs/ipcsoak.cc) whose clients sit
//             blocked in ipc-call long enough for their stacks to go out,
//             and check every answer
//   fuzz      the system-call fuzzer (user/progs/fuzz.cc), two at a time
//   kill      a spinning task always present, and a random task of the
//             soak's killed every second or so
//   threads   short kernel threads created and joined in bursts, and the
//             user program that creates and joins threads (mmthreads)
//   grow      one thread per hart walking to random depths and back (stack
//             growth on demand, and give-back while it sleeps)
//   hog       memory taken in waves: to the Normal floor, or to zero (the
//             reserves too), held, given back
//
// At the end every thread is joined, every task waited for, and free pages,
// zones, tasks, threads and swap space are compared with the start.
// The shell runs it as `soak [seconds] [-part...]`.
#pragma once

#include "lib/result.h"

#include <cstdint>

namespace kern::soak {

enum Part : uint32_t {
    SLEEPERS = 1u << 0,
    IPC = 1u << 1,
    FUZZ = 1u << 2,
    KILL = 1u << 3,
    THREADS = 1u << 4,
    GROW = 1u << 5,
    HOG = 1u << 6,
    ALL_PARTS = (1u << 7) - 1,
};
// "sleepers", "ipc", ...: the part of that name, or 0.
uint32_t part_named(const char* name);
const char* part_name(unsigned bit);

struct Params {
    uint64_t seconds = 60;
    uint32_t parts = ALL_PARTS;
    uint64_t seed = 1;
    uint64_t progress_us = 5000000; // 0: no progress lines
    bool samples = false;           // a sample line every 100 ms (kern/stress/samples.h)
};

struct Result {
    uint64_t wakes_verified;  // sleeper rounds whose every frame checked out
    uint64_t walks_verified;  // grow and churn walks, checked the same way
    uint64_t mismatches;      // frames found wrong (each printed)
    uint64_t swap_outs, swap_ins;
    uint64_t kills;           // random kills that took effect
    uint64_t tasks, threads;  // user tasks spawned, kernel threads created
    uint64_t ipc_calls;       // calls answered and checked (clients that finished)
    uint64_t ipc_clients_seen_swapped; // once-a-second looks: clients in ipc-call with their stack out
    uint64_t write_errors, read_errors; // swap I/O errors seen (blkdebug)
    uint64_t stacks_lost;     // threads ended because their stack could not be read back
    uint64_t refused_memory;  // tasks that exited with ENOMEM: a bounded wait for pages ran out
    uint64_t min_free_pages;
    int64_t unaccounted_pages; // free pages against the start, caches taken into account
    char fail[160];           // empty on PASS: the first reason
    [[nodiscard]] bool ok() const { return fail[0] == '\0'; }
};

// Run for p.seconds (at least 1) and check. Blocks the caller. Invalid if
// no part is on.
[[nodiscard]] lib::Result<Result> run(const Params& p);

} // namespace kern::soak
