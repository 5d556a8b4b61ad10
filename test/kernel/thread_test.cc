// Kernel tests of threads, the scheduler and the sleep/wakeup primitives.
#include "kern/arch/riscv/hart.h"
#include "kstack/holdcheck.h"
#include "test/kernel/ktest.h"
#include "kern/console/printf.h"
#include "kern/sched/sched.h"
#include "kern/sched/thread.h"
#include "kern/arch/riscv/timer.h"
#include "kern/sync/wait.h"
#include "kstack/grow.h"
#include "kstack/kstack.h"
#include "kstack/swap.h"
#include "lib/string.h"
#include "vm/kmem.h"
#include "vm/pageout.h"
#include "vm/swap.h"
#include "zalloc/registry.h"
#include "zalloc/stats.h"

using namespace kern;

namespace {

void set_flag(void* arg) { static_cast<std::atomic<int>*>(arg)->store(7); }

int exit_with(void* arg)
{
    thread::exit(static_cast<int>(reinterpret_cast<uintptr_t>(arg)));
}

void exit_entry(void* arg) { exit_with(arg); }

} // namespace

KTEST(thread_spawn_and_join)
{
    std::atomic<int> flag {0};
    auto r = thread::spawn({.name = "t-join", .entry = set_flag, .arg = &flag, .joinable = true});
    KEXPECT(r.ok());
    KEXPECT_EQ(thread::join(r.value()), 0);
    KEXPECT_EQ(flag.load(), 7);
    auto r2 = thread::spawn({.name = "t-exit", .entry = exit_entry, .arg = reinterpret_cast<void*>(42),
                             .joinable = true});
    KEXPECT(r2.ok());
    KEXPECT_EQ(thread::join(r2.value()), 42);
}

namespace {
struct Churn {
    std::atomic<uint64_t> ran {0};
};
void churn_entry(void* arg) { static_cast<Churn*>(arg)->ran.fetch_add(1, std::memory_order_relaxed); }
} // namespace

namespace {
struct ZoneTotals {
    size_t pages;
    size_t thread_used;
};
zalloc::ZoneStats g_zs[64];
ZoneTotals zone_totals()
{
    size_t n = zalloc::snapshot_zones(g_zs, 64);
    ZoneTotals z {0, 0};
    for (size_t i = 0; i < n && i < 64; i++) {
        z.pages += g_zs[i].pages;
        if (strcmp(g_zs[i].name, "thread") == 0)
            z.thread_used = g_zs[i].used;
    }
    return z;
}
} // namespace

// Create and reap 100,000 threads: every one runs, every one is reaped, the
// thread zone's objects in use and the stacks in use return to where they
// were, and every page not held by a zone or the stack cache is free again.
KTEST(threads_create_and_reap_100k)
{
    static Churn c;
    c.ran = 0;
    constexpr uint64_t N = 100000;
    ktest::Quiet quiet;
    uint64_t live0 = thread::count();
    uint64_t reaped0 = thread::reaped_total();
    kstack::Stats ks0 = kstack::stats();
    uint64_t grow0 = kstack::grow_cache_pages();
    ZoneTotals z0 = zone_totals();
    uint64_t free0 = vm::kmem::free_pages();
    for (uint64_t i = 0; i < N; i++) {
        auto r = thread::spawn({.name = "churn", .entry = churn_entry, .arg = &c});
        if (!r.ok()) {
            t.failf("spawn %lu failed: %s", i, lib::error_name(r.error()));
            return;
        }
        // Keep at most a few hundred alive: the point is churn, not a crowd.
        if (i % 256 == 255)
            while (thread::created_total() - thread::reaped_total() > 512)
                sched::sleep_us(1000);
    }
    uint64_t deadline = timer::now_us() + 60000000;
    while (thread::reaped_total() - reaped0 < N && timer::now_us() < deadline)
        sched::sleep_us(2000);
    KEXPECT_EQ(c.ran.load(), N);
    KEXPECT_EQ(thread::reaped_total() - reaped0, N);
    KEXPECT_EQ(thread::count(), live0);
    kstack::Stats ks1 = kstack::stats();
    KEXPECT_EQ(ks1.in_use, ks0.in_use);
    // Let the last threads be reaped; zones give surplus slabs back after
    // hold_polls quiet polls.
    sched::sleep_us(20000);
    for (int i = 0; i < 4; i++)
        zalloc::poll_all();
    ZoneTotals z1 = zone_totals();
    KEXPECT_EQ(z1.thread_used, z0.thread_used);
    uint64_t free1 = vm::kmem::free_pages();
    // Stack pages: those of cached stacks (stacks grow on demand, so not a
    // fixed number each) and the harts' growth page caches.
    int64_t cached_pages = int64_t(ks1.object_pages) - int64_t(ks0.object_pages) + int64_t(kstack::grow_cache_pages()) -
                           int64_t(grow0);
    int64_t zone_pages = int64_t(z1.pages) - int64_t(z0.pages);
    int64_t unaccounted = int64_t(free0) - int64_t(free1) - cached_pages - zone_pages;
    // What may stay: the stack region's page tables and slot tables, built the
    // first time the region grows and kept by design (a few pages).
    if (unaccounted < -8 || unaccounted > 32)
        t.failf("%ld pages unaccounted for after the churn (free %lu -> %lu, stack cache %+ld, zones %+ld)",
                long(unaccounted), free0, free1, long(cached_pages), long(zone_pages));
    kprintf("ktest: 100000 threads: stack cache hits %lu, misses %lu; %ld pages kept for stack page tables\n",
            ks1.cache_hits - ks0.cache_hits, ks1.cache_misses - ks0.cache_misses, long(unaccounted));
}

namespace {
struct YieldStorm {
    std::atomic<uint64_t> total {0};
    unsigned per_thread = 2000;
};
void yielder(void* arg)
{
    auto* s = static_cast<YieldStorm*>(arg);
    for (unsigned i = 0; i < s->per_thread; i++) {
        s->total.fetch_add(1, std::memory_order_relaxed);
        sched::yield();
    }
}
} // namespace

KTEST(context_switch_storm)
{
    static YieldStorm s;
    s.total = 0;
    constexpr int NT = 16;
    Thread* ts[NT];
    for (int i = 0; i < NT; i++) {
        auto r = thread::spawn({.name = "yielder", .entry = yielder, .arg = &s, .hart = int(i % cpu::count()),
                                .joinable = true});
        KEXPECT(r.ok());
        ts[i] = r.value();
    }
    for (auto* th : ts)
        KEXPECT_EQ(thread::join(th), 0);
    KEXPECT_EQ(s.total.load(), uint64_t(NT) * s.per_thread);
}

namespace {
// Ping-pong through a mutex and condition variable: each side waits for its
// turn. A lost wakeup shows up as a stall (the test times out) or a count
// mismatch.
struct PingPong {
    ksync::Mutex m {"pingpong"};
    ksync::CondVar cv {"pingpong"};
    uint64_t turn = 0; // even: ping's turn, odd: pong's
    uint64_t rounds = 3000;
    std::atomic<uint64_t> timeouts {0};
};
void ping(void* arg)
{
    auto* p = static_cast<PingPong*>(arg);
    for (uint64_t i = 0; i < p->rounds; i++) {
        ksync::MutexGuard g(p->m);
        while (p->turn % 2 != 0)
            if (!p->cv.wait(p->m, 2000000).ok())
                p->timeouts.fetch_add(1);
        p->turn++;
        p->cv.broadcast();
    }
}
void pong(void* arg)
{
    auto* p = static_cast<PingPong*>(arg);
    for (uint64_t i = 0; i < p->rounds; i++) {
        ksync::MutexGuard g(p->m);
        while (p->turn % 2 != 1)
            if (!p->cv.wait(p->m, 2000000).ok())
                p->timeouts.fetch_add(1);
        p->turn++;
        p->cv.broadcast();
    }
}
} // namespace

KTEST(sleep_wakeup_storm_no_lost_wakeup)
{
    constexpr int PAIRS = 4;
    static PingPong pp[PAIRS];
    Thread* ts[2 * PAIRS];
    for (int i = 0; i < PAIRS; i++) {
        pp[i].turn = 0;
        pp[i].timeouts = 0;
        auto a = thread::spawn({.name = "ping", .entry = ping, .arg = &pp[i], .hart = int((2 * i) % cpu::count()),
                                .joinable = true});
        auto b = thread::spawn({.name = "pong", .entry = pong, .arg = &pp[i],
                                .hart = int((2 * i + 1) % cpu::count()), .joinable = true});
        KEXPECT(a.ok() && b.ok());
        ts[2 * i] = a.value();
        ts[2 * i + 1] = b.value();
    }
    for (auto* th : ts)
        thread::join(th);
    for (auto& p : pp) {
        KEXPECT_EQ(p.turn, 2 * p.rounds);
        // A timed wait that expired means a wakeup went missing for 2 s.
        KEXPECT_EQ(p.timeouts.load(), 0u);
    }
}

namespace {
struct Counter {
    ksync::Mutex m {"counter"};
    uint64_t value = 0;
    unsigned per_thread = 5000;
};
void count_under_mutex(void* arg)
{
    auto* c = static_cast<Counter*>(arg);
    for (unsigned i = 0; i < c->per_thread; i++) {
        ksync::MutexGuard g(c->m);
        uint64_t v = c->value;
        if (i % 64 == 0)
            sched::yield(); // hold the mutex across a switch: waiters must sleep
        c->value = v + 1;
    }
}
} // namespace

KTEST(mutex_excludes_across_harts)
{
    static Counter c;
    c.value = 0;
    constexpr int NT = 8;
    Thread* ts[NT];
    for (int i = 0; i < NT; i++) {
        auto r = thread::spawn({.name = "mutexer", .entry = count_under_mutex, .arg = &c,
                                .hart = int(i % cpu::count()), .joinable = true});
        KEXPECT(r.ok());
        ts[i] = r.value();
    }
    for (auto* th : ts)
        thread::join(th);
    KEXPECT_EQ(c.value, uint64_t(NT) * c.per_thread);
}

KTEST(wait_queue_timeout)
{
    ksync::WaitQueue q("ktest-timeout");
    uint64_t start = timer::now_us();
    lib::Status st = q.wait(nullptr, 30000);
    uint64_t took = timer::now_us() - start;
    KEXPECT(st.error() == lib::Error::TimedOut);
    KEXPECT(took >= 30000);
    KEXPECT(took < 2000000);
}

namespace {
std::atomic<bool> g_spin_stop;
std::atomic<uint64_t> g_spins;
void spinner(void*)
{
    while (!g_spin_stop.load())
        g_spins.fetch_add(1, std::memory_order_relaxed);
}
} // namespace

// A thread that never sleeps or yields must not keep another off its hart:
// the timer tick preempts it when its slice ends.
KTEST(preemption_by_time_slice)
{
    g_spin_stop = false;
    g_spins = 0;
    auto r = thread::spawn({.name = "spinner", .entry = spinner, .flags = TF_BOUND, .hart = int(cpu::id()),
                            .joinable = true});
    KEXPECT(r.ok());
    // We share this hart with the spinner; we only get back here if it is preempted.
    for (int i = 0; i < 5; i++)
        sched::yield();
    g_spin_stop = true;
    thread::join(r.value());
    KEXPECT(g_spins.load() > 0);
}

namespace {
struct Spread {
    std::atomic<unsigned> harts_seen {0};
    std::atomic<bool> go {false};
};
void note_hart(void* arg)
{
    auto* s = static_cast<Spread*>(arg);
    uint64_t end = timer::now_us() + 200000;
    while (timer::now_us() < end) {
        s->harts_seen.fetch_or(1u << cpu::id());
        sched::yield();
    }
}
} // namespace

// Threads created on one hart spread to the others (idle harts steal work).
KTEST(threads_balance_across_harts)
{
    if (cpu::count() < 2)
        return; // nothing to balance
    static Spread s;
    s.harts_seen = 0;
    constexpr int NT = 8;
    Thread* ts[NT];
    for (auto*& th : ts) {
        auto r = thread::spawn({.name = "spread", .entry = note_hart, .arg = &s, .hart = int(cpu::id()),
                                .joinable = true});
        KEXPECT(r.ok());
        th = r.value();
    }
    for (auto* th : ts)
        thread::join(th);
    unsigned seen = 0;
    for (unsigned m = s.harts_seen.load(); m; m &= m - 1)
        seen++;
    KEXPECT(seen >= 2);
}

// A Mutex on a thread's stack, other threads waiting on it, its owner asleep
// long enough to be a swap candidate. The waiters' entries hold their own
// stacks, but they are linked into a queue on the owner's stack, which the
// wakers and the registry walk also touch: the queue holds that stack, so it
// stays resident however hard the swapper tries, and the hold checker, which
// checks each queue's own address, finds nothing wrong.
namespace {
struct OnStack {
    std::atomic<ksync::Mutex*> m {nullptr};
    std::atomic<unsigned> done {0}, locked {0};
    Thread* owner = nullptr;
};
OnStack g_os;

void on_stack_owner(void*)
{
    ksync::Mutex m("on-stack-mutex");
    m.lock();
    g_os.m.store(&m);
    sched::sleep_us(60000000); // woken by the test
    m.unlock();
    while (g_os.done.load() != 2) // the waiters are done with m before it goes
        sched::sleep_us(1000);
}

void on_stack_waiter(void*)
{
    ksync::Mutex* m;
    while (!(m = g_os.m.load()))
        sched::sleep_us(1000);
    m->lock();
    g_os.locked.fetch_add(1);
    m->unlock();
    g_os.done.fetch_add(1);
}

bool asleep_on(Thread* t, const char* reason)
{
    return t->state == ThreadState::Sleeping && !t->on_cpu.load() && t->wait_reason &&
           !strcmp(t->wait_reason, reason);
}
} // namespace

KTEST(kswap_wait_queue_on_a_stack_holds_it)
{
    if (!vm::swap::enabled()) {
        kprintf("ktest: kswap_wait_queue_on_a_stack_holds_it: no swap device in this boot, nothing to check\n");
        return;
    }
    // Nothing else walks the queues meanwhile (the pagedaemon's hold check).
    vm::pageout::pause();
    g_os.m.store(nullptr);
    g_os.done.store(0);
    g_os.locked.store(0);
    auto o = thread::spawn({.name = "mutex-owner", .entry = on_stack_owner, .joinable = true});
    KEXPECT(o.ok());
    Thread* w[2] = {};
    for (auto& th : w) {
        auto r = thread::spawn({.name = "mutex-waiter", .entry = on_stack_waiter, .joinable = true});
        KEXPECT(r.ok());
        th = r.value();
    }
    while (!asleep_on(o.value(), "sleep") || !asleep_on(w[0], "on-stack-mutex") || !asleep_on(w[1], "on-stack-mutex"))
        sched::sleep_us(1000);
    sched::sleep_us(20000);
    uint32_t holds = o.value()->stack_holds.count();
    // Ask for far more than there is, with no idle threshold: every eligible
    // stack goes.
    (void)kstack::swap::swap_out(kstack::swap::scratch(2), 1u << 20, 0);
    kstack::StackState st = kstack::state(o.value()->stack);
    // Walking the registry reads the queue on the owner's stack: only safe
    // if that stack is still there.
    unsigned violations = st == kstack::StackState::Resident ? holdcheck::verify() : ~0u;
    kprintf("ktest: kswap_wait_queue_on_a_stack_holds_it: owner's stack %s with %u hold(s), %u violation(s)\n",
            kstack::state_name(st), holds, violations);
    (void)sched::wake(o.value());
    thread::join(w[0]);
    thread::join(w[1]);
    thread::join(o.value());
    vm::pageout::resume();
    KEXPECT(st == kstack::StackState::Resident);
    KEXPECT_EQ(holds, 1u);
    KEXPECT_EQ(violations, 0u);
    KEXPECT_EQ(g_os.locked.load(), 2u);
}

// The checker looks at each queue's own address, not only its waiters: a
// queue on this thread's stack, its hold dropped by hand (the bug the hold
// prevents), is named even with nobody waiting on it.
namespace {
struct QueueItself {
    uint32_t with;
    unsigned violations, after;
};
void unheld_queue_body(void* arg)
{
    auto* r = static_cast<QueueItself*>(arg);
    ksync::WaitQueue q("unheld-queue");
    r->with = thread::current()->stack_holds.count(); // the queue's own hold
    if (r->with)
        thread::current()->stack_holds.release();
    r->violations = holdcheck::verify();
    if (r->with)
        thread::current()->stack_holds.acquire();
    r->after = holdcheck::verify();
}
} // namespace

KTEST(kstack_hold_checker_checks_the_queue_itself)
{
    static QueueItself r;
    r = {};
    auto th = thread::spawn({.name = "unheld-queue", .entry = unheld_queue_body, .arg = &r, .joinable = true});
    KEXPECT(th.ok());
    thread::join(th.value());
    KEXPECT_EQ(r.with, 1u);
    KEXPECT_EQ(r.violations, 1u);
    KEXPECT_EQ(r.after, 0u);
}

// Thread memory stays Thread memory: hundreds of threads at once, all gone,
// the zone polled until it would give surplus slabs back: the thread zone
// keeps them, and a stale pointer to a reaped thread, woken with the
// sequence number of a sleep it slept, is safely refused (as a timeout that
// fires late, or an IPC wake done after its lock was dropped, would be).
namespace {
struct Crowd {
    std::atomic<unsigned> started {0};
    std::atomic<bool> go {false};
};
Crowd g_crowd;
void crowd_entry(void*)
{
    g_crowd.started.fetch_add(1);
    while (!g_crowd.go.load())
        sched::sleep_us(2000);
}
zalloc::ZoneStats thread_zone()
{
    size_t n = zalloc::snapshot_zones(g_zs, 64);
    for (size_t i = 0; i < n && i < 64; i++)
        if (strcmp(g_zs[i].name, "thread") == 0)
            return g_zs[i];
    return {};
}
} // namespace

KTEST(threads_stay_type_stable)
{
    constexpr unsigned N = 600;
    static Thread* th[N];
    g_crowd.started.store(0);
    g_crowd.go.store(false);
    uint64_t released0 = thread_zone().slabs_released;
    unsigned n = 0;
    for (; n < N; n++) {
        auto r = thread::spawn({.name = "crowd", .entry = crowd_entry, .joinable = true});
        if (!r.ok())
            break;
        th[n] = r.value();
    }
    while (g_crowd.started.load() != n)
        sched::sleep_us(1000);
    // One of them, asleep: remember the sleep it is in.
    Thread* stale = th[n / 2];
    while (stale->state != ThreadState::Sleeping)
        sched::sleep_us(100);
    uint64_t seq = stale->sleep_seq;
    size_t slabs_full = thread_zone().pages;
    g_crowd.go.store(true);
    for (unsigned i = 0; i < n; i++)
        thread::join(th[i]);
    for (int i = 0; i < 6; i++) {
        zalloc::poll_all();
        sched::sleep_us(2000);
    }
    zalloc::ZoneStats z = thread_zone();
    bool kept = z.slabs_released == released0;
    // Only safe to try if the memory is still the zone's.
    bool refused = kept && !sched::wake(stale, seq);
    kprintf("ktest: threads_stay_type_stable: %u threads; zone %zu pages at the peak, %zu after, %lu slabs "
            "released\n", n, slabs_full, z.pages, z.slabs_released - released0);
    KEXPECT(n >= N / 2);
    KEXPECT(kept);
    KEXPECT(refused);
}

// A wake that finds the stack on swap hands the thread to a swap-in after it
// drops the run-queue lock (kstack::swap::woken); until then the thread is
// Runnable on no queue, and only the waker can queue it. The waker must not be
// preempted in between. Here the waker's stack is made to grow inside wake()
// (which raises the soft interrupt that refills the growth cache) while a
// higher-priority watcher waits on its hart: a preemption at the first
// instant interrupts are on lets the watcher look at the woken thread. Every
// offset of sp from the limit is tried, so the growth falls at every point
// of wake().
namespace {
struct Kick {
    Thread* sleeper = nullptr;
    Thread* watcher = nullptr;
    unsigned off = 0;
    std::atomic<int> seen {-1}; // 0: not woken yet, 1: handed over, 2: stranded
};
Kick g_kick;

void kick_sleeper(void*) { sched::sleep_us(60000000); }

void kick_watcher(void*)
{
    sched::sleep_us(60000000); // woken by the waker, runs when it is preempted
    Thread* s = g_kick.sleeper;
    if (s->state == ThreadState::Sleeping)
        g_kick.seen.store(0);
    else if (s->state == ThreadState::Runnable && !s->run_node.linked() &&
             kstack::state(s->stack) == kstack::StackState::Swapped)
        g_kick.seen.store(2);
    else
        g_kick.seen.store(1);
}

__attribute__((noinline)) void wake_both_at(uintptr_t target)
{
    uintptr_t now;
    asm volatile("mv %0, sp" : "=r"(now));
    size_t pad = now > target ? (now - target) & ~uintptr_t(15) : 0;
    volatile char* p = static_cast<volatile char*>(__builtin_alloca(pad));
    if (pad)
        p[pad - 1] = 0;
    unsigned long irq = cpu::irq_save();
    (void)sched::wake(g_kick.watcher); // queued here, better priority: a switch is due
    cpu::irq_restore(irq);
    (void)sched::wake(g_kick.sleeper);
    asm volatile("" ::"r"(p) : "memory");
}

void kick_waker(void*)
{
    Thread* me = thread::current();
    wake_both_at(kstack::limit(me->stack) + g_kick.off);
}

bool parked(Thread* t) { return t->state == ThreadState::Sleeping && !t->on_cpu.load(); }
} // namespace

KTEST(kswap_deferred_wake_is_never_stranded)
{
    if (!vm::swap::enabled()) {
        kprintf("ktest: kswap_deferred_wake_is_never_stranded: no swap device in this boot, nothing to check\n");
        return;
    }
    vm::pageout::pause();
    unsigned counts[3] = {}, runs = 0, skipped = 0;
    for (unsigned off = 0; off <= 2560; off += 32) {
        g_kick.off = off;
        g_kick.seen.store(-1);
        auto s = thread::spawn({.name = "kick-sleeper", .entry = kick_sleeper, .flags = TF_BOUND, .hart = 0,
                                .joinable = true});
        auto w = thread::spawn({.name = "kick-watcher", .entry = kick_watcher, .priority = PRIO_SYSTEM - 2,
                                .flags = TF_BOUND | TF_NO_SWAP, .hart = 0, .joinable = true});
        KEXPECT(s.ok() && w.ok());
        g_kick.sleeper = s.value();
        g_kick.watcher = w.value();
        while (!parked(s.value()) || !parked(w.value()))
            sched::sleep_us(1000);
        (void)kstack::swap::swap_out(kstack::swap::scratch(2), 1u << 20, 0);
        if (kstack::state(s.value()->stack) != kstack::StackState::Swapped) {
            skipped++; // not out (a device too slow for the wave): nothing to see this time
            (void)sched::wake(w.value());
            (void)sched::wake(s.value());
        } else {
            (void)kstack::drop_caches(); // the waker gets a fresh one-page stack
            auto k = thread::spawn({.name = "kick-waker", .entry = kick_waker, .flags = TF_BOUND, .hart = 0,
                                    .joinable = true});
            KEXPECT(k.ok());
            thread::join(k.value());
            runs++;
        }
        thread::join(w.value());
        thread::join(s.value());
        int seen = g_kick.seen.load();
        if (seen >= 0)
            counts[seen]++;
    }
    vm::pageout::resume();
    kprintf("ktest: kswap_deferred_wake_is_never_stranded: %u runs (%u skipped): watcher saw the sleeper "
            "not yet woken %u, handed to a swap-in %u, stranded on no queue %u times\n",
            runs, skipped, counts[0], counts[1], counts[2]);
    KEXPECT(runs > 0);
    KEXPECT_EQ(counts[2], 0u);
}
