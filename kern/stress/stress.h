// The memory-pressure stress workload that kernel-stack swapping is shown and
// tested with.
//
// Sleeper threads each build a deep stack of frames, every frame holding a
// checksummed block of data that depends on (seed, thread, round, level), and
// sleep at the bottom with sched::sleep_us: a timed sleep links only the
// Thread object (on the timeout list), nothing on the stack, so the stack holds
// no kstack::Hold and the pagedaemon may swap it out. Meanwhile a memory hog
// takes every Normal page it can get and holds them, so free memory sits at
// the Normal floor while the sleepers are idle. Once awake, every frame checks
// its block on the way back up: a stack that came back from swap with a wrong
// byte shows up as a mismatch naming the thread, round and level.
//
// The shell runs it as `stress [threads [depth_kib [rounds]]]`;
// test/kernel/stress_test.cc runs short versions.
#pragma once

#include "lib/result.h"

#include <cstdint>

namespace kern::stress {

struct Params {
    unsigned threads = 64;           // sleeper threads
    unsigned depth_bytes = 8192;     // stack each builds before sleeping (<= MAX_DEPTH_BYTES)
    unsigned rounds = 3;             // sleep/wake rounds per thread
    uint64_t sleep_us = 3000000;     // each sleep: long, so the pagedaemon sees them idle >= 2 s
    bool hog = true;                 // take Normal pages until the allocator says no, each round
    bool hog_to_zero = true;         // then the reserves too: free memory at zero
    uint64_t hog_hold_us = 2000000;  // how long the hog holds its pages each round
    uint64_t seed = 1;
    bool progress = true;            // one progress line per second
    bool samples = false;            // a sample line every 100 ms (kern/stress/samples.h)
    // Test hook: while sleeper 0 sleeps its first round, another thread flips
    // one byte of its deepest frame (sleeper 0 is made unswappable, so the
    // byte is resident). The checker must then report exactly one mismatch.
    bool corrupt_for_test = false;
};

// Stacks are 16 KiB; a sleeper's own frames stay within 12 KiB so the sleep
// path, a trap frame and the interrupt handler below them always fit.
constexpr unsigned MAX_DEPTH_BYTES = 12 * 1024;
constexpr unsigned MAX_THREADS = 4096;

struct Result {
    unsigned threads_started;  // sleepers that ran
    unsigned wakes_verified;   // wakes after which every frame checked out
    unsigned wakes_expected;   // threads_started x rounds
    unsigned mismatches;       // frames whose block was wrong after a wake
    unsigned threads_failed;   // sleepers that could not be created
    uint64_t hog_pages_max;    // most pages the hog held in one round
    uint64_t min_free_pages;   // lowest vm::kmem::free_pages() seen
    uint64_t elapsed_us;
    uint64_t swap_outs, swap_ins; // kernel stacks swapped during the run (all threads)
    [[nodiscard]] bool ok() const;
};

// Run the workload and wait for every sleeper; blocks the caller for about
// rounds x sleep_us. Errors: Invalid (threads or rounds 0, threads above
// MAX_THREADS, depth above MAX_DEPTH_BYTES); NoMemory, or the spawn error,
// when not one sleeper could be created. Sleepers that could not be created
// are counted in threads_failed (and make ok() false); the others run to the
// end. Every thread is joined and every page and byte given back.
[[nodiscard]] lib::Result<Result> run(const Params& p);

// One checked walk, the unit every sleeper repeats (the soak, kern/stress/soak.h,
// walks too): frames down to depth_bytes below walk()'s own, each holding a
// block of words derived from (seed, id, round, level) and their checksum;
// at_bottom runs in the deepest frame (a sleeper sleeps there); on the way
// back up every block is checked and each wrong one printed, prefixed `who`.
// Returns whether all were right (mismatches counts the wrong ones).
struct Walk {
    const char* who;
    uint64_t seed;
    unsigned id, round, depth_bytes; // depth_bytes <= MAX_DEPTH_BYTES
    void (*at_bottom)(Walk& w, volatile uint64_t* deepest);
    void* ctx;                       // for at_bottom
    unsigned mismatches = 0;
    uintptr_t top = 0;               // walk()'s frame, the depth is measured from it
};
[[gnu::noinline]] bool walk(Walk& w);

} // namespace kern::stress
