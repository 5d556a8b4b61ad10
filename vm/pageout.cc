#include "vm/pageout.h"

#include "kern/bootargs.h"
#include "kern/holdcheck.h"
#include "kern/panic.h"
#include "kern/sched.h"
#include "kern/thread.h"
#include "kern/timer.h"
#include "kern/wait.h"
#include "kstack/cache_policy.h"
#include "kstack/kstack.h"
#include "vm/kmem.h"
#include "zalloc/registry.h"

#include <atomic>

namespace vm::pageout {
namespace {

std::atomic<uint32_t> g_kick {0}; // uint32: RISC-V has no byte-sized atomic swap
kern::Thread* g_thread;
std::atomic<unsigned long> g_wakeups, g_replenishes, g_polls;
std::atomic<int> g_paused {0};

void daemon(void*)
{
    uint64_t last_poll = kern::timer::now_us();
    // Test boots (and bootarg holdcheck) check the stack-hold rule every poll.
    const bool check_holds = kern::bootargs::has("ktest") || kern::bootargs::has("holdcheck");
    for (;;) {
        // Wait for a kick, at most a second (the poll interval).
        if (!g_kick.exchange(0, std::memory_order_acq_rel))
            (void)kern::sleep_on(&g_kick, nullptr, 1000000, "pageout");
        g_wakeups.fetch_add(1, std::memory_order_relaxed);
        if (g_paused.load(std::memory_order_acquire) > 0)
            continue;
        // Short of memory: cached stacks are the cheapest pages to give back.
        uint64_t cached = kstack::stats().cached_global;
        if (size_t n = kstack::CachePolicy::trim(cached, kmem::phys().below_min()))
            kstack::trim_cache(cached - n);
        if (kmem::replenish_wanted()) {
            zalloc::replenish_all();
            g_replenishes.fetch_add(1, std::memory_order_relaxed);
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

} // namespace

void wake()
{
    // No lock, no allocation: an atomic flag and a wakeup of one channel.
    if (!g_kick.exchange(1, std::memory_order_acq_rel) && g_thread)
        kern::wakeup(&g_kick);
}

void start()
{
    lib::Result<kern::Thread*> t = kern::thread::spawn({.name = "pagedaemon", .entry = daemon,
                                                        .priority = kern::PRIO_SYSTEM,
                                                        .flags = kern::TF_SYSTEM | kern::TF_NO_SWAP});
    if (!t.ok())
        panic("cannot start the pagedaemon: %s", lib::error_name(t.error()));
    g_thread = t.value();
    kmem::set_pageout_hook(wake);
}

void pause() { g_paused.fetch_add(1, std::memory_order_acq_rel); }
void resume() { g_paused.fetch_sub(1, std::memory_order_acq_rel); }

Stats stats() { return {g_wakeups.load(), g_replenishes.load(), g_polls.load()}; }

} // namespace vm::pageout
