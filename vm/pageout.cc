#include "vm/pageout.h"

#include "boot/bootargs.h"
#include "kstack/holdcheck.h"
#include "kern/console/panic.h"
#include "kern/sched/sched.h"
#include "kern/sync/spinlock.h"
#include "kern/sched/thread.h"
#include "kern/arch/riscv/timer.h"
#include "kern/sync/wait.h"
#include "kstack/cache_policy.h"
#include "kstack/grow.h"
#include "kstack/kstack.h"
#include "kstack/shrink.h"
#include "kstack/swap.h"
#include "vm/kmem.h"
#include "vm/swap.h"
#include "zalloc/registry.h"

#include <atomic>

namespace vm::pageout {
namespace {

constexpr uint64_t NO_PROGRESS_BACKOFF_US = 20000;
constexpr unsigned GIVE_UP_ROUNDS = 10; // 200 ms of fruitless rounds above free_min

// The kick: a flag and the pagedaemon's sleep on it, under one lock, so a
// kick between the daemon's look at the flag and its sleep is not lost (it
// was once: the flag stayed set, every later kick saw it set and woke no one,
// and the daemon slept its whole poll second at zero free memory).
ksync::SpinLock g_kick_lock {"pageout-kick"};
bool g_kick = false; // under g_kick_lock
kern::Thread* g_thread;
std::atomic<unsigned long> g_wakeups, g_replenishes, g_polls, g_swap_passes, g_emergency_passes, g_progress;
std::atomic<unsigned long> g_given_back;
std::atomic<int> g_paused {0};

// Short of free_target, counting as taken what the stack-growth caches and
// the swap-in pool will take back at their next refill
// (kstack::grow_cache_wanted, kstack::swap::swapin_pool_wanted): the target
// must still hold once they are full again.
uint64_t short_by()
{
    uint64_t free = kmem::free_pages();
    uint64_t target = kmem::phys().watermarks().free_target + kstack::grow_cache_wanted() +
                      kstack::swap::swapin_pool_wanted();
    return free < target ? target - free : 0;
}

// Swap stacks out until free_target (or nothing more will go). Returns pages freed.
uint64_t swap_until_target(kstack::swap::Scratch& sc, uint64_t idle_us, std::atomic<unsigned long>& passes)
{
    uint64_t freed = 0;
    for (int round = 0; round < 64; round++) {
        uint64_t need = short_by();
        if (need == 0)
            break;
        passes.fetch_add(1, std::memory_order_relaxed);
        kstack::swap::OutResult r = kstack::swap::swap_out(sc, need, idle_us);
        freed += r.pages_freed;
        if (&passes == &g_swap_passes)
            g_progress.fetch_add(r.pages_freed, std::memory_order_relaxed); // the emergency pager watches this
        if (r.pages_freed == 0 || r.full || r.io_error)
            break;
    }
    return freed;
}

// Zones that dipped into their reserves asked for them to be refilled.
void replenish_if_wanted()
{
    if (kmem::replenish_wanted()) {
        zalloc::replenish_all();
        g_replenishes.fetch_add(1, std::memory_order_relaxed);
    }
}

void wait_for_kick(uint64_t timeout_us)
{
    ksync::SpinGuard g(g_kick_lock);
    if (!g_kick)
        (void)ksync::sleep_on(&g_kick, &g_kick_lock, timeout_us, "pageout");
    g_kick = false;
}

void daemon(void*)
{
    uint64_t last_poll = kern::timer::now_us();
    bool paging = false; // fell below free_min, free_target not reached yet
    unsigned idle_rounds = 0;
    // Test boots (and bootarg holdcheck) check the stack-hold rule every poll.
    const bool check_holds = kern::bootargs::has("ktest") || kern::bootargs::has("holdcheck");
    for (;;) {
        // Wait for a kick, at most a second (the poll interval); while paging,
        // a moment (memory may come back from elsewhere, or not).
        wait_for_kick(paging ? NO_PROGRESS_BACKOFF_US : 1000000);
        g_wakeups.fetch_add(1, std::memory_order_relaxed);
        if (g_paused.load(std::memory_order_acquire) > 0)
            continue;
        // Short of memory: cached stacks are the cheapest pages to give back.
        uint64_t cached = kstack::stats().cached_global;
        if (size_t n = kstack::CachePolicy::trim(cached, kmem::phys().below_min()))
            kstack::trim_cache(cached - n);
        replenish_if_wanted();
        // Still below free_min: idle threads' stacks go to swap, up to free_target.
        // A pass that freed nothing is not retried at once: every failing
        // allocation kicks us, and a daemon at system priority that loops on
        // kicks would starve the very threads that could free memory.
        // Once below free_min, keep at it until free_target (hysteresis: a
        // pass that ends a page short must not wait for the next fall below
        // free_min).
        if (kmem::phys().below_min() && !paging) {
            paging = true;
            idle_rounds = 0;
        }
        if (paging) {
            // Stack pages below idle threads' sp first: no I/O, and the
            // threads keep running from memory.
            kstack::GiveBackResult gb =
                kstack::give_back(kstack::swap::scratch(0), short_by(), kstack::swap::idle_us());
            g_given_back.fetch_add(gb.pages, std::memory_order_relaxed);
            g_progress.fetch_add(gb.pages, std::memory_order_relaxed);
            uint64_t swapped = short_by() ? swap_until_target(kstack::swap::scratch(0), kstack::swap::idle_us(),
                                                              g_swap_passes)
                                          : 0;
            // The pass dipped into zone reserves (swap metadata at zero free
            // memory): refill them now, out of what it freed, so that the
            // check below counts them. Refilled later, they would take free
            // memory back below free_target after paging had stopped.
            replenish_if_wanted();
            if (short_by() == 0) {
                paging = false;
            } else if (swapped == 0 && gb.pages == 0) {
                // Nothing to take (no swap, every sleeper held, metadata
                // short for a moment): try again shortly, and give up after
                // a while above free_min, until memory falls below it again.
                if (++idle_rounds >= GIVE_UP_ROUNDS && !kmem::phys().below_min())
                    paging = false;
                kern::sched::sleep_us(NO_PROGRESS_BACKOFF_US);
            } else {
                idle_rounds = 0;
            }
        }
        uint64_t now = kern::timer::now_us();
        if (now - last_poll >= 1000000) {
            zalloc::poll_all(); // releases surplus free slabs, then replenishes
            if (check_holds)
                kern::holdcheck::verify_or_panic();
            g_polls.fetch_add(1, std::memory_order_relaxed);
            last_poll = now;
        }
    }
}

// The emergency pager: looks every quarter second; takes over when memory
// has been short for EMERGENCY_STALL_US and the pagedaemon freed nothing.
void emergency(void*)
{
    constexpr uint64_t LOOK_US = 250000;
    uint64_t short_since = 0;
    unsigned long progress_seen = 0;
    for (;;) {
        kern::sched::sleep_us(LOOK_US);
        uint64_t now = kern::timer::now_us();
        unsigned long progress = g_progress.load(std::memory_order_relaxed);
        if (!vm::swap::enabled() || !kmem::phys().below_min() || progress != progress_seen) {
            short_since = 0;
            progress_seen = progress;
            continue;
        }
        if (!short_since)
            short_since = now;
        if (now - short_since < EMERGENCY_STALL_US)
            continue;
        g_emergency_passes.fetch_add(1, std::memory_order_relaxed);
        kstack::trim_cache(0);
        // Any unheld sleeper will do now: idle threshold zero.
        std::atomic<unsigned long> passes;
        (void)swap_until_target(kstack::swap::scratch(1), 0, passes);
        short_since = 0;
    }
}

} // namespace

void wake()
{
    // No allocation; a leaf-ish lock (docs/locking.md: taken with zone and
    // allocator locks held, before the wait bucket's) and one wakeup.
    ksync::SpinGuard g(g_kick_lock);
    if (g_kick)
        return; // already kicked, and the daemon will look before it sleeps
    g_kick = true;
    if (g_thread)
        ksync::wakeup(&g_kick);
}

void start()
{
    uint64_t v;
    if (kern::bootargs::get_number("swap_idle_ms", v))
        kstack::swap::set_idle_us(v * 1000);
    kstack::swap::start();
    lib::Result<kern::Thread*> t = kern::thread::spawn({.name = "pagedaemon", .entry = daemon,
                                                        .priority = kern::PRIO_SYSTEM,
                                                        .flags = kern::TF_SYSTEM | kern::TF_NO_SWAP |
                                                                  kern::TF_FULL_STACK});
    if (!t.ok())
        panic("cannot start the pagedaemon: %s", lib::error_name(t.error()));
    g_thread = t.value();
    lib::Result<kern::Thread*> e = kern::thread::spawn({.name = "pageout-emerg", .entry = emergency,
                                                        .priority = kern::PRIO_SYSTEM,
                                                        .flags = kern::TF_SYSTEM | kern::TF_NO_SWAP |
                                                                  kern::TF_FULL_STACK});
    if (!e.ok())
        panic("cannot start the emergency pager: %s", lib::error_name(e.error()));
    kmem::set_pageout_hook(wake);
}

void pause() { g_paused.fetch_add(1, std::memory_order_acq_rel); }
void resume() { g_paused.fetch_sub(1, std::memory_order_acq_rel); }

Stats stats()
{
    return {g_wakeups.load(),     g_replenishes.load(),      g_polls.load(),
            g_swap_passes.load(), g_emergency_passes.load(), g_progress.load(), g_given_back.load()};
}

} // namespace vm::pageout
