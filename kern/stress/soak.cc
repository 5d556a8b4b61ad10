// The soak (kern/stress/soak.h): the run and its final accounting. The parts'
// workers are in soak_workers.cc, the monitor that keeps them going, kills
// tasks and prints progress in soak_monitor.cc, the memory balance in
// soak_books.cc.
//
// Threads: the caller starts the monitor (no-swap: it holds the books, and a
// read error on its stack would lose them) and joins it. The monitor runs the
// user side itself (spawning, reaping and killing tasks) and keeps one slot
// per kernel worker filled: a worker that ends is joined and replaced until
// the time is up. The hog is a worker too, no-swap for the same reason (the
// chain of pages it holds lives in its frames).
#include "kern/stress/soak.h"
#include "kern/stress/soak_internal.h"
#include "kern/stress/samples.h"

#include "kern/seam/cpu.h"
#include "kern/arch/riscv/timer.h"
#include "kern/console/printf.h"
#include "kern/sched/sched.h"
#include "kern/sched/thread.h"
#include "kern/task/task.h"
#include "kstack/swap.h"
#include "lib/string.h"
#include "vm/swap.h"

#include <atomic>
#include <new>

namespace kern::soak {
namespace {

using namespace detail;

constexpr const char* PART_NAMES[] = {"sleepers", "ipc", "fuzz", "kill", "threads", "grow", "hog"};
static_assert(sizeof PART_NAMES / sizeof PART_NAMES[0] == 7 && ALL_PARTS == (1u << 7) - 1);

// Free pages against the start, once every cache is counted: stack-region
// page tables built for stack slots the soak's extra threads needed are kept
// for good (one page per 2 MiB of slots, a few in all), and the allocator's
// per-hart page lists may hold a few more or fewer than at the start. The
// same bounds as the user tests' baseline check (test/kernel/user_test.cc).
constexpr int64_t UNACCOUNTED_MIN = -8, UNACCOUNTED_MAX = 16;
// Swapped stacks of other threads may take this long to come back at the end
// (the swapper's early swap-in looks every 200 ms, after a second without
// swap-out).
constexpr uint64_t SWAP_SETTLE_US = 10000000;

// One soak at a time, in static storage: the workers point into it (and a
// monitor's books are a few KiB, better not on a kernel stack).
struct State {
    Params p;
    Shared sh;
    Result res;
    Books b0, b1; // at the start and at the end
};
State g_state;
std::atomic<unsigned> g_running {0};

// The monitor's thread: it owns the books from start to finish.
void monitor_main(void*)
{
    State& st = g_state;
    if (run_monitor(st.p, st.sh, st.res))
        return;
    // Workers or tasks left behind still point into the state: say so and
    // never return (the shell's prompt stays stuck, visibly; g_running too).
    kprintf("soak: FAIL %s\n", st.sh.fail);
    for (;;)
        sched::sleep_us(1000000);
}

} // namespace

uint32_t part_named(const char* name)
{
    for (unsigned i = 0; i < sizeof PART_NAMES / sizeof PART_NAMES[0]; i++)
        if (strcmp(PART_NAMES[i], name) == 0)
            return 1u << i;
    return 0;
}

const char* part_name(unsigned bit) { return bit < 7 ? PART_NAMES[bit] : "?"; }

lib::Result<Result> run(const Params& params)
{
    if (!(params.parts & ALL_PARTS) || params.seconds == 0)
        return lib::Error::Invalid;
    stress::samples::Sampler sampler(params.samples || stress::samples::wanted_by_bootargs());
    if (g_running.exchange(1))
        return lib::Error::Busy;
    State& st = g_state;
    st.p = params;
    const Params& p = st.p;
    Shared& sh = *new (&st.sh) Shared();
    sh.p = &p;
    Result& res = st.res;
    res = {};
    settle();
    Books& b0 = st.b0;
    take_books(b0);
    const kstack::swap::Stats sw0 = kstack::swap::stats();
    sh.note_free(b0.free_pages);
    char parts[64] = {};
    size_t len = 0;
    for (unsigned i = 0; i < 7; i++)
        if (p.parts & (1u << i))
            len += size_t(ksnprintf(parts + len, sizeof parts - len, "%s%s", len ? "," : "", PART_NAMES[i]));
    kprintf("soak: %lu s, seed %lu, parts %s; %u harts, free %lu pages, swap %s, idle threshold %lu ms\n",
            p.seconds, p.seed, parts, cpu::count(), b0.free_pages,
            vm::swap::enabled() ? "on" : "off (no stack goes out)", kstack::swap::idle_us() / 1000);

    auto mt = thread::spawn({.name = "soak", .entry = monitor_main, .flags = TF_NO_SWAP, .joinable = true});
    if (!mt.ok()) {
        g_running.store(0);
        return mt.error();
    }
    (void)thread::join(mt.value()); // never returns if workers were stranded

    kstack::swap::Stats sw = kstack::swap::stats();
    res.wakes_verified = sh.wakes_verified.load();
    res.walks_verified = sh.walks_verified.load();
    res.mismatches = sh.mismatches.load();
    res.threads = sh.threads.load();
    res.stacks_lost += sh.lost.load();
    res.swap_outs = sw.swap_outs - sw0.swap_outs;
    res.swap_ins = sw.swap_ins - sw0.swap_ins;
    res.write_errors = sw.write_errors - sw0.write_errors;
    res.read_errors = sw.read_errors - sw0.read_errors + sw.checksum_errors - sw0.checksum_errors;
    if (res.mismatches)
        sh.failf("%lu stack frames came back wrong", res.mismatches);
    if (res.wakes_verified + res.mismatches < sh.wakes_started.load())
        sh.failf("%lu sleeper rounds never checked out", sh.wakes_started.load() - res.wakes_verified);
    if (res.stacks_lost && sw.killed == sw0.killed)
        sh.failf("%lu threads or tasks lost their stacks with no stack read failing", res.stacks_lost);

    // Swapped stacks of other threads come back once memory has recovered.
    for (uint64_t until = timer::now_us() + SWAP_SETTLE_US; timer::now_us() < until;) {
        if (kstack::swap::stats().stacks_swapped <= b0.stacks_swapped &&
            (!vm::swap::enabled() || vm::swap::stats().used <= b0.swap_used) && thread::count() <= b0.threads &&
            task::count() <= b0.tasks)
            break;
        sched::sleep_us(TICK_US);
    }
    settle();
    Books& b1 = st.b1;
    take_books(b1);
    int64_t caches = int64_t(b1.stack_pages - b0.stack_pages) + int64_t(b1.grow_cache - b0.grow_cache) +
                     int64_t(b1.pool - b0.pool) + int64_t(b1.zone_pages - b0.zone_pages);
    res.unaccounted_pages = int64_t(b0.free_pages) - int64_t(b1.free_pages) - caches;
    if (b1.tasks != b0.tasks)
        sh.failf("%lu tasks at the start, %lu now", b0.tasks, b1.tasks);
    else if (b1.threads != b0.threads)
        sh.failf("%lu threads at the start, %lu now", b0.threads, b1.threads);
    else if (const Books::Zone* z = zone_grown(b0, b1))
        sh.failf("zone %s: %zu items in use, %zu at the start", z->name, z->used, used_at_start(b0, z->name));
    else if (b1.user_pages != b0.user_pages)
        sh.failf("%lu user pages at the start, %lu now", b0.user_pages, b1.user_pages);
    else if (b1.swap_used > b0.swap_used)
        sh.failf("%lu swap blocks in use at the start, %lu now", b0.swap_used, b1.swap_used);
    else if (res.unaccounted_pages < UNACCOUNTED_MIN || res.unaccounted_pages > UNACCOUNTED_MAX)
        sh.failf("free pages not back: %ld pages unaccounted for", long(res.unaccounted_pages));
    memcpy(res.fail, sh.fail, sizeof res.fail);
    kprintf("soak: balance: free %lu pages (start %lu), caches %+ld (stacks %+ld, grow %+ld, swap-in pool %+ld, "
            "zones %+ld), %ld unaccounted (allowed %ld..%ld); tasks %lu, threads %lu, swap used %lu (start %lu)\n",
            b1.free_pages, b0.free_pages, long(caches), long(b1.stack_pages - b0.stack_pages),
            long(b1.grow_cache - b0.grow_cache), long(b1.pool - b0.pool), long(b1.zone_pages - b0.zone_pages),
            long(res.unaccounted_pages), long(UNACCOUNTED_MIN), long(UNACCOUNTED_MAX), b1.tasks, b1.threads,
            b1.swap_used, b0.swap_used);
    Result out = res;
    g_running.store(0);
    return out;
}

} // namespace kern::soak
