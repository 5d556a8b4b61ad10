// The pager's view of the scheduler: each hart's swap candidates (its
// sleepers with a resident, unheld, swappable stack, oldest first) and its
// sleepers whose stacks are on swap, both under the hart's run-queue lock;
// and the restart of a thread whose swapped-out stack is lost.
#include "kern/sched/sched.h"

#include "kern/sched/runqueue.h"
#include "kern/console/panic.h"
#include "kstack/kstack.h"

namespace kern::sched {

using namespace detail;

namespace {

// Whether a sleeping thread is a swap candidate: its stack resident and
// unheld (a thread with a Waiter on its stack holds it for the whole sleep),
// and not a no-swap thread.
bool swap_candidate(const Thread* t)
{
    return t->stack && !(t->flags & TF_NO_SWAP) && !t->stack_holds.held() &&
           kstack::state(t->stack) == kstack::StackState::Resident;
}

// One of a hart's sleeper lists, under its run-queue lock, until fn says stop.
template <typename L>
void walk_list(unsigned hart, L RunQueue::*list, lib::FunctionRef<bool(Thread&)> fn)
{
    RunQueue& rq = g_rq[hart];
    ksync::SpinGuard g(rq.lock);
    flush_recent_locked(rq);
    for (Thread& t : rq.*list)
        if (!fn(t))
            return;
}

} // namespace

void for_each_sleeper(unsigned hart, lib::FunctionRef<bool(Thread&)> fn) { walk_list(hart, &RunQueue::sleepers, fn); }

void drop_sleeper_locked(Thread* t) { leave_sleepers(g_rq[t->hart], t); }

void for_each_swapped(unsigned hart, lib::FunctionRef<bool(Thread&)> fn) { walk_list(hart, &RunQueue::swapped, fn); }

void add_swapped_locked(Thread* t)
{
    if (t->state == ThreadState::Sleeping && !t->swapped_node.linked())
        g_rq[t->hart].swapped.push_back(*t);
}

void add_sleeper_locked(Thread* t)
{
    if (t->state != ThreadState::Sleeping || t->sleep_node.linked() || !swap_candidate(t))
        return;
    // Back in its place by sleep_since. Those put back (a stack kept
    // resident by the pager, or swapped in before its wakeup) have slept
    // long: their place is near the front.
    SleepList& l = g_rq[t->hart].sleepers;
    Thread* pos = l.front();
    while (pos && pos->sleep_since <= t->sleep_since)
        pos = l.next(*pos);
    if (pos)
        l.insert_before(*pos, *t);
    else
        l.push_back(*t);
}

void detail::flush_recent_locked(RunQueue& rq)
{
    for (unsigned i = 0; i < rq.recent_n; i++) {
        // Still in the sleep noted (a Thread is type-stable memory, so a
        // noted thread that has exited since is only a stale sleep here).
        Thread* t = rq.recent[i].t;
        if (t->state != ThreadState::Sleeping || t->sleep_seq != rq.recent[i].seq || t->sleep_node.linked() ||
            !swap_candidate(t))
            continue;
        // By sleep_since, from the back: it went to sleep just before the
        // ones noted after it, but sleeps listed at once since may be younger.
        SleepList& l = rq.sleepers;
        Thread* pos = l.back();
        while (pos && pos->sleep_since > t->sleep_since)
            pos = l.prev(*pos);
        if (!pos)
            l.push_front(*t);
        else if (Thread* after = l.next(*pos))
            l.insert_before(*after, *t);
        else
            l.push_back(*t);
    }
    rq.recent_n = 0;
}

void restart_locked(Thread* t, void (*entry)(void*), void* arg)
{
    if (t->on_cpu.load(std::memory_order_acquire) || t->run_node.linked() ||
        (t->state != ThreadState::Sleeping && t->state != ThreadState::Runnable))
        panic("sched: restart of thread %lu (%s) in state %s", t->id, t->name, state_name(t->state));
    leave_sleepers(g_rq[t->hart], t);
    leave_timeouts(t); // the timeout lock under the run-queue lock, as prepare_sleep takes it
    t->state = ThreadState::Runnable;
    t->wait_timed_out = false;
    thread::set_entry(t, entry, arg, 0);
}

} // namespace kern::sched
