// The scheduler's own state, shared by its files (kern/sched/*.cc) and by no
// one else: the per-hart run queues with their sleeper lists, and the list of
// timed sleeps. sched.h is the interface.
#pragma once

#include "kern/arch/riscv/hart.h"
#include "kern/sched/thread.h"
#include "kern/sync/spinlock.h"
#include "lib/list.h"

#include <atomic>
#include <cstdint>

namespace kern {
struct Context;
}

namespace kern::sched::detail {

using RunList = lib::List<Thread, &Thread::run_node>;
using SleepList = lib::List<Thread, &Thread::sleep_node>;
using SwappedList = lib::List<Thread, &Thread::swapped_node>;

struct alignas(64) RunQueue {
    ksync::SpinLock lock {"runqueue"};
    RunList prio[PRIO_LEVELS];
    uint32_t bitmap = 0;      // bit p set: prio[p] is not empty
    unsigned queued = 0;
    Thread* current = nullptr;
    Thread* idle = nullptr;
    Thread* switched_from = nullptr; // for finish_switch on the other side
    bool need_resched = false;
    uint64_t switches = 0;
    uint64_t steals = 0;
    uint64_t idle_switches = 0;
    // The swap candidates among this hart's sleepers, oldest sleep first:
    // asleep with a resident stack, unheld, swappable. The pagedaemon reads
    // the oldest (for_each_sleeper) instead of walking every thread.
    SleepList sleepers;
    // This hart's sleepers whose stacks are on swap and not yet wanted, in
    // the order they went out: what the swapper brings back early once
    // memory has recovered (for_each_swapped).
    SwappedList swapped;
    // IPC sleepers not yet on `sleepers`: most are handed the hart back
    // within microseconds, so they are only noted here (a store, where the
    // list costs a link and an unlink per sleep), and the ones still asleep
    // move to `sleepers`, in sleep order, at the next tick or pager walk of
    // this hart, or when this fills (flush_recent_locked).
    static constexpr unsigned RECENT = 8;
    struct Recent {
        Thread* t;
        uint64_t seq; // the sleep noted: a later one of the same thread is not this
    } recent[RECENT] = {};
    unsigned recent_n = 0;
};

extern RunQueue g_rq[cpu::MAX_HARTS];
extern std::atomic<bool> g_started;

// Timed sleeps, sorted by deadline: prepare_sleep links them, the tick
// expires them (kern/sched/timeout.cc). Taken after the run-queue lock
// (prepare_sleep links a timed sleeper under it, the wait-queue lock held
// too) or alone (the tick, retire, leave_timeouts); nothing is taken under it
// (kern/sync/lockorder.cc).
using TimeoutList = lib::List<Thread, &Thread::timeout_node>;
extern ksync::SpinLock g_timeout_lock;
extern TimeoutList g_timeouts;

// kern/sched/sched.cc: the lock of t's run queue (t may be a stale pointer to
// an exited Thread); the switch to the best runnable thread with that lock
// held and interrupts off (save: where the abandoned context goes, for
// park_from_trap), which returns an exited previous thread for
// hand_over_dead() once the lock is dropped.
RunQueue& lock_rq_of(Thread* t);
[[nodiscard]] Thread* schedule_locked(RunQueue& rq, Context* save = nullptr);
void hand_over_dead(Thread* dead);
// kern/sched/candidates.cc: note the current thread's IPC sleep for the
// sleepers list (RunQueue::recent), and move the noted sleeps still going on
// there, with the run-queue lock held.
void flush_recent_locked(RunQueue& rq);
[[gnu::always_inline]] inline void note_recent_locked(RunQueue& rq, Thread* me)
{
    if (rq.recent_n == RunQueue::RECENT) [[unlikely]]
        flush_recent_locked(rq);
    rq.recent[rq.recent_n++] = {me, me->sleep_seq};
}
// A sleep ends (woken, handed the hart, restarted): off the sleepers, and
// off the swapped ones (a woken thread's stack is wanted: the swapper's
// queue or the wake-time read takes it from here).
inline void leave_sleepers(RunQueue& rq, Thread* t)
{
    if (t->sleep_node.linked()) // resident, so not on the swapped list too
        rq.sleepers.remove(*t);
    else if (t->swapped_node.linked())
        rq.swapped.remove(*t);
}
// Off the timeout list after a sleep, whether the timeout fired or not.
void leave_timeouts(Thread* me);

// kern/sched/timeout.cc: from the tick, wake the timed sleeps whose deadline
// has passed.
void expire_timeouts();

} // namespace kern::sched::detail
