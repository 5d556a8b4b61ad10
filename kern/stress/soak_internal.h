// The soak's pieces (kern/stress/soak.h), shared by its files: the state the
// workers and the monitor share, the kernel workers (soak_workers.cc), the
// memory balance (soak_books.cc) and the monitor (soak_monitor.cc); soak.cc
// runs them and checks the result.
#pragma once

#include "kern/console/printf.h"
#include "kern/sched/thread.h"
#include "kern/stress/soak.h"

#include <atomic>
#include <cstddef>
#include <cstdint>

namespace kern::soak::detail {

constexpr uint64_t TICK_US = 10000;

// Everything the workers and the monitor share.
struct Shared {
    const Params* p;
    std::atomic<bool> stop {false};
    std::atomic<uint64_t> wakes_started {0}, wakes_verified {0}, walks_verified {0}, mismatches {0};
    std::atomic<uint64_t> threads {0};
    std::atomic<uint64_t> lost {0}; // burst threads whose stack could not be read back
    std::atomic<uint64_t> hog_pages {0}, hog_waves {0};
    char fail[160] = {};
    std::atomic<unsigned> failed {0}; // word-sized: exchange() on a byte needs libatomic

    // The first failure's reason wins (fmt: a literal, checked at the call).
    template <typename... A>
    void failf(const char* fmt, A... a)
    {
        if (failed.exchange(1))
            return;
        ksnprintf(fail, sizeof fail, fmt, a...);
    }
    std::atomic<uint64_t> min_free {~0ull};
    void note_free(uint64_t f)
    {
        for (uint64_t m = min_free.load(std::memory_order_relaxed);
             f < m && !min_free.compare_exchange_weak(m, f, std::memory_order_relaxed);)
            ;
    }
    bool stopping() const { return stop.load(std::memory_order_relaxed); }
};

// ---- Kernel workers (soak_workers.cc) ------------------------------------

enum class Kind : uint8_t { Sleeper, Grower, Churn, Hog };

struct Worker {
    Shared* sh;
    Kind kind;
    unsigned id;
    Thread* thread = nullptr;
    uint64_t sleep_us = 0;          // this round's sleep at the bottom (sleepers, growers)
    std::atomic<unsigned> in_walk {0}; // a sleeper's round started and not checked yet
};

// Thread entries, arg a Worker.
void sleeper_main(void* arg);
void grower_main(void* arg);
void churn_main(void* arg);
void hog_main(void* arg);

// ---- The memory balance (soak_books.cc) ----------------------------------

constexpr size_t MAX_ZONES = 64;

struct Books {
    struct Zone {
        const char* name; // the zone's own, static
        size_t used;
    } zones[MAX_ZONES];
    size_t nzones;
    uint64_t free_pages, zone_pages, stack_pages, cached_stacks, grow_cache, pool;
    uint64_t tasks, threads, user_pages, swap_used, stacks_swapped;
};

// A moment's sleep, then every zone polled: the books are taken after it.
void settle();
// Into b (static: with every zone's count it is a KiB or so).
void take_books(Books& b);
size_t used_at_start(const Books& b0, const char* name);
// The first zone with more items in use than at the start (a leak), or null.
const Books::Zone* zone_grown(const Books& b0, const Books& b1);

// ---- The monitor (soak_monitor.cc) ---------------------------------------

// Keep the workers and tasks going for p.seconds, then end them all. False
// if tasks or threads were still there at the end: they point into the
// monitor's static storage and into sh, which must then never go away.
[[nodiscard]] bool run_monitor(const Params& p, Shared& sh, Result& res);

} // namespace kern::soak::detail
