// Run queues and the switch, with the sleep and wakeup paths that switch
// (prepare_sleep, block, the IPC hand-off, wake): one file, so that the
// compiler sees the fast paths whole. The pager's candidate lists are in
// candidates.cc, timeouts in timeout.cc, parking from a trap in park.cc,
// reports in report.cc.
#include "kern/sched/sched.h"

#include "kern/sched/hand_off.h"
#include "kern/sched/runqueue.h"
#include "kern/arch/riscv/csr.h"
#include "kern/arch/riscv/hart.h"
#include "kern/arch/riscv/ipi.h"
#include "kern/sync/lockcheck.h"
#include "kern/console/panic.h"
#include "kern/sync/spinlock.h"
#include "kern/arch/riscv/timer.h"
#include "kern/arch/riscv/trap.h"
#include "vm/kmem.h"
#include "vm/tlb.h"
#include "vm/uspace.h"
#include "kstack/kstack.h"
#include "kstack/swap.h"

extern "C" void switch_context(kern::Context* from, kern::Context* to);
extern "C" void overflow_resume();

namespace kern::sched {

using namespace detail;

namespace {


void enqueue(RunQueue& rq, Thread* t)
{
    rq.prio[t->priority].push_back(*t);
    rq.bitmap |= 1u << t->priority;
    rq.queued++;
}

void dequeue(RunQueue& rq, Thread* t)
{
    rq.prio[t->priority].remove(*t);
    if (rq.prio[t->priority].empty())
        rq.bitmap &= ~(1u << t->priority);
    rq.queued--;
}

Thread* pop_best(RunQueue& rq)
{
    if (!rq.bitmap)
        return nullptr;
    int p = __builtin_ctz(rq.bitmap);
    Thread* t = rq.prio[p].front();
    dequeue(rq, t);
    return t;
}

int best_prio(RunQueue& rq) { return rq.bitmap ? __builtin_ctz(rq.bitmap) : PRIO_LEVELS; }

// An idle hart takes one runnable thread from the busiest other queue. Only
// try_lock: two harts stealing from each other must not deadlock.
Thread* steal(unsigned me)
{
    unsigned best = me;
    unsigned most = 0;
    for (unsigned i = 0; i < cpu::MAX_HARTS; i++) {
        if (i != me && g_rq[i].queued > most) {
            most = g_rq[i].queued;
            best = i;
        }
    }
    if (best == me)
        return nullptr;
    RunQueue& victim = g_rq[best];
    if (!victim.lock.try_lock())
        return nullptr;
    Thread* found = nullptr;
    for (int p = 0; p < PRIO_LEVELS && !found; p++) {
        for (Thread& t : victim.prio[p]) {
            if (!(t.flags & TF_BOUND)) {
                found = &t;
                break;
            }
        }
    }
    if (found)
        dequeue(victim, found);
    victim.lock.unlock();
    if (found)
        g_rq[me].steals++;
    return found;
}

} // namespace

RunQueue detail::g_rq[cpu::MAX_HARTS];
std::atomic<uint64_t> detail::g_sleep_seq {0};
Context detail::g_abandoned_ipc[cpu::MAX_HARTS];
std::atomic<bool> detail::g_started {false};
// Here rather than in timeout.cc: prepare_sleep and block reach them.
ksync::SpinLock detail::g_timeout_lock {"timeouts"};
TimeoutList detail::g_timeouts;

// The lock of t's run queue. t may be a stale pointer to a Thread that has
// exited (kern/sched/thread.cc keeps the memory a Thread): then its state is not
// what the caller looks for, and with zalloc's debug poison its hart is not
// a hart at all, which takes hart 0's lock rather than indexing past the
// queues or chasing a value that never settles.
RunQueue& detail::lock_rq_of(Thread* t)
{
    for (;;) {
        unsigned h = t->hart;
        if (h >= cpu::MAX_HARTS) [[unlikely]]
            h = 0;
        RunQueue& rq = g_rq[h];
        rq.lock.lock();
        unsigned now = t->hart;
        if (now == h || now >= cpu::MAX_HARTS)
            return rq;
        rq.lock.unlock();
    }
}

void detail::hand_over_dead(Thread* dead)
{
    if (dead)
        thread::dead_and_switched_out(dead);
}

namespace {

// The second half of a switch: next (Running, its stack checked by
// before_switch_in) takes this hart from prev. Same contract as
// schedule_locked.
[[nodiscard]] Thread* switch_locked(RunQueue& rq, Thread* prev, Thread* next, Context* save = nullptr)
{
    switch_bookkeeping(rq, cpu::id(), prev, next);
    rq.switched_from = prev;
    switch_context(save ? save : &prev->ctx, &next->ctx);
    // Now running as prev again, possibly on another hart: use that hart's queue.
    return finish_switch(g_rq[cpu::id()]);
}

} // namespace

// The core: pick the next thread and switch to it. Interrupts are off and the
// run-queue lock is held; both stay so across the switch and are released by
// the code the next thread returns into.
Thread* detail::schedule_locked(RunQueue& rq, Context* save)
{
    Thread* prev = rq.current;
    rq.need_resched = false;
    // Running, or Runnable because a wakeup arrived after prepare_sleep() and
    // before this switch (a preemption in that window): either way it must go
    // back on the queue, or it is lost.
    if (prev->state == ThreadState::Running || prev->state == ThreadState::Runnable) {
        prev->state = ThreadState::Runnable;
        if (!(prev->flags & TF_IDLE))
            enqueue(rq, prev);
    }
    Thread* next = pop_best(rq);
    if (!next && !(prev->state == ThreadState::Runnable && !(prev->flags & TF_IDLE)))
        next = steal(cpu::id());
    if (!next)
        next = rq.idle;
    // Only a resident stack is ever queued (wake() hands the others to the
    // swapper; before_switch_in panics otherwise), and pages of it mapped since
    // this hart last ran it (swapped back in, grown elsewhere) may still be
    // cached here as unmapped: they are flushed first.
    if (next->stack)
        kstack::before_switch_in(next->stack, cpu::id());
    next->state = ThreadState::Running;
    next->slice_left = SLICE_TICKS;
    if (next == prev)
        return nullptr;
    return switch_locked(rq, prev, next, save);
}


// Off the timeout list after a sleep, whether the timeout fired or a wakeup
// came first.
void detail::leave_timeouts(Thread* me)
{
    if (me->timeout_node.linked()) {
        ksync::SpinGuard tg(g_timeout_lock);
        if (me->timeout_node.linked())
            g_timeouts.remove(*me);
    }
}

// The running thread, read with one load relative to tp. Reading tp into a
// register first and then loading through it would not do: a preemption in
// between may move the thread to another hart, and the register would still
// point at the first hart's data.
Thread* current_thread()
{
    Thread* t;
    asm volatile("ld %0, %1(tp)" : "=r"(t) : "i"(HARTLOCAL_CURRENT));
    return t;
}

void init_hart(Thread* boot_thread, Thread* idle)
{
    RunQueue& rq = g_rq[cpu::id()];
    boot_thread->state = ThreadState::Running;
    boot_thread->hart = cpu::id();
    boot_thread->on_cpu.store(true);
    boot_thread->slice_left = SLICE_TICKS;
    rq.current = boot_thread;
    this_hart().current = boot_thread;
    rq.idle = idle;
    if (idle) {
        idle->hart = cpu::id();
        idle->state = ThreadState::Runnable;
    } else {
        rq.idle = boot_thread; // a secondary's boot context is its idle thread
    }
    g_started.store(true);
}

bool started() { return g_started.load(); }

void finish_first_switch()
{
    RunQueue& rq = g_rq[cpu::id()];
    Thread* dead = finish_switch(rq);
    rq.lock.unlock();
    hand_over_dead(dead);
}



void enqueue_new(Thread* t)
{
    RunQueue& rq = lock_rq_of(t);
    t->state = ThreadState::Runnable;
    enqueue(rq, t);
    if (t->priority < rq.current->priority || (rq.current->flags & TF_IDLE))
        rq.need_resched = true;
    unsigned target = t->hart;
    bool kick = target != cpu::id() && rq.need_resched;
    rq.lock.unlock();
    if (kick)
        ipi::send(target, ipi::Reason::Ping);
}

void set_idle(Thread* idle)
{
    RunQueue& rq = g_rq[cpu::id()];
    ksync::SpinGuard g(rq.lock);
    idle->hart = cpu::id();
    idle->state = ThreadState::Runnable;
    rq.idle = idle;
}

void mark_dead_and_switch()
{
    RunQueue& rq = g_rq[cpu::id()];
    rq.lock.lock();
    rq.current->state = ThreadState::Dead;
    (void)schedule_locked(rq);
    panic("sched: a dead thread came back");
}

void yield()
{
    unsigned long irq = cpu::irq_save();
    RunQueue& rq = g_rq[cpu::id()];
    rq.lock.lock();
    Thread* dead = schedule_locked(rq);
    g_rq[cpu::id()].lock.unlock();
    cpu::irq_restore(irq);
    hand_over_dead(dead);
}

uint64_t prepare_sleep(const void* channel, const char* reason, uint64_t deadline)
{
    Thread* me = current_thread();
    RunQueue& rq = g_rq[cpu::id()];
    ksync::SpinGuard g(rq.lock);
    uint64_t seq = mark_sleeping_locked(rq, me, channel, reason, deadline);
    if (deadline) {
        // Sorted by deadline, searched from both ends at once: a 1 h sleep
        // among many finds its place at the back, a 10 ms one at the front,
        // so neither walks every timed sleeper with interrupts off (from the
        // front only, 55,000 long sleepers made each new one walk them all;
        // from the back only, 99,000 did the same to every short sleep: both
        // tripped the spin watchdog's second). Before f: all <= deadline;
        // after b: all > deadline; the cursors meet before either runs out.
        ksync::SpinGuard tg(g_timeout_lock);
        Thread* f = g_timeouts.front();
        Thread* b = g_timeouts.back();
        for (;;) {
            if (!f) {
                g_timeouts.push_back(*me);
                break;
            }
            if (f->wait_deadline > deadline) {
                g_timeouts.insert_before(*f, *me);
                break;
            }
            if (b->wait_deadline <= deadline) {
                if (Thread* after = g_timeouts.next(*b))
                    g_timeouts.insert_before(*after, *me);
                else
                    g_timeouts.push_back(*me);
                break;
            }
            f = g_timeouts.next(*f);
            b = g_timeouts.prev(*b);
        }
    }
    return seq;
}

void block()
{
    unsigned long irq = cpu::irq_save();
    RunQueue& rq = g_rq[cpu::id()];
    rq.lock.lock();
    Thread* me = rq.current;
    Thread* dead = nullptr;
    if (me->state == ThreadState::Sleeping)
        dead = schedule_locked(rq);
    else
        me->state = ThreadState::Running; // woken before it could switch away
    g_rq[cpu::id()].lock.unlock();
    cpu::irq_restore(irq);
    hand_over_dead(dead);
    leave_timeouts(me);
}

bool sleep_handing_off(const void* channel, const char* reason, Thread* next, uint64_t seq, uint64_t& my_seq,
                       ksync::SpinLock& held)
{
    RunQueue& rq = g_rq[cpu::id()];
    rq.lock.lock(); // order: the caller's lock (ipc), then runqueue
    Thread* me = rq.current;
    if (!can_hand_off_locked(rq, cpu::id(), me, next, seq)) {
        rq.lock.unlock();
        return false;
    }
    // Asleep and handing over in one section: a waker, which needs this
    // lock, finds this thread either still running (it sees `held` taken) or
    // Sleeping with my_seq. The rest of this thread's time slice goes to
    // next: a pair that keeps handing the hart back and forth still yields to
    // others of its priority when the slice runs out (tick()).
    my_seq = mark_sleeping_locked(rq, me, channel, reason, 0, true);
    held.unlock(); // interrupts stay off: the caller's
    leave_sleepers(rq, next);
    next->wait_timed_out = false;
    kstack::before_switch_in(next->stack, cpu::id());
    next->state = ThreadState::Running;
    next->slice_left = me->slice_left;
    Thread* dead = switch_locked(rq, me, next);
    g_rq[cpu::id()].lock.unlock();
    hand_over_dead(dead);
    return true;
}


bool lock_remote_for_answer(Thread* next, uint64_t seq)
{
    if (next->hart == cpu::id())
        return false;
    RunQueue& rq = lock_rq_of(next);
    if (next->hart == cpu::id() || next->state != ThreadState::Sleeping || next->sleep_seq != seq ||
        next->on_cpu.load(std::memory_order_acquire) || !next->stack ||
        kstack::state(next->stack) != kstack::StackState::Resident || next->wait_deadline ||
        (next->flags & TF_IDLE)) {
        rq.lock.unlock();
        return false;
    }
    // This hart writes the frame: stale entries of the stack's pages here go first.
    kstack::before_switch_in(next->stack, cpu::id());
    return true;
}

void wake_answered_locked(Thread* next)
{
    RunQueue& rq = g_rq[next->hart];
    next->state = ThreadState::Runnable;
    next->wait_timed_out = false;
    leave_sleepers(rq, next);
    enqueue(rq, next);
    bool kick = next->priority <= rq.current->priority || (rq.current->flags & TF_IDLE);
    if (kick)
        rq.need_resched = true;
    unsigned target = next->hart;
    rq.lock.unlock();
    if (kick)
        ipi::send(target, ipi::Reason::Ping);
}

void sleep_after_answer(const void* channel, const char* reason, uint64_t& my_seq, TrapFrame* my_frame,
                        ksync::SpinLock& held)
{
    RunQueue& rq = g_rq[cpu::id()];
    rq.lock.lock(); // order: ipc, then runqueue
    Thread* me = rq.current;
    my_seq = mark_sleeping_locked(rq, me, channel, reason, 0, true);
    held.unlock(); // interrupts stay off: the caller's
    me->ctx.sp = resume_at(reinterpret_cast<uint64_t>(my_frame), Resume::Ipc);
    // Asleep from here to the switch under this lock, which any waker needs:
    // it is never picked again before it has switched away.
    (void)schedule_locked(rq, &g_abandoned_ipc[cpu::id()]);
    panic("sched: a thread that slept in the IPC fast path came back from its switch");
}

bool wake(Thread* t, uint64_t seq, bool timed_out)
{
    // Interrupts stay off from the run-queue lock until a thread whose stack
    // is out has been handed to a swap-in (woken() below): in between it is
    // Runnable on no queue, and only this call will ever queue it. A waker
    // preempted there would strand it for as long as the waker does not run
    // (a low-priority waker behind busy threads: indefinitely).
    unsigned long irq = cpu::irq_save();
    RunQueue& rq = lock_rq_of(t);
    if (t->state != ThreadState::Sleeping || (seq && t->sleep_seq != seq)) {
        rq.lock.unlock();
        cpu::irq_restore(irq);
        return false;
    }
    t->state = ThreadState::Runnable;
    t->wait_timed_out = timed_out;
    leave_sleepers(rq, t);
    bool kick = false;
    kstack::swap::Wake w = kstack::swap::Wake::Run;
    if (!t->on_cpu.load(std::memory_order_acquire)) {
        // A stack that is out (or on its way) goes to the swapper first; the
        // thread is Runnable but on no queue until its stack is back.
        if (t->stack && kstack::state(t->stack) != kstack::StackState::Resident)
            w = kstack::swap::on_wake_locked(t);
        if (w == kstack::swap::Wake::Run) {
            enqueue(rq, t);
            if (t->priority <= rq.current->priority || (rq.current->flags & TF_IDLE)) {
                rq.need_resched = true;
                kick = t->hart != cpu::id();
            }
        }
    }
    // else: it is between prepare_sleep() and block() on its hart; block()
    // sees Runnable and carries on.
    unsigned target = t->hart;
    rq.lock.unlock();
    if (kick)
        ipi::send(target, ipi::Reason::Ping);
    if (w == kstack::swap::Wake::DeferredKick)
        kstack::swap::woken(t);
    cpu::irq_restore(irq);
    return true;
}

void with_thread_locked(Thread* t, lib::FunctionRef<void(Thread*)> fn)
{
    RunQueue& rq = lock_rq_of(t);
    fn(t);
    rq.lock.unlock();
}

void with_threads_locked(Thread* const* ts, size_t n, lib::FunctionRef<void(size_t, Thread*)> fn)
{
    RunQueue* held = nullptr;
    for (size_t i = 0; i < n; i++) {
        Thread* t = ts[i];
        // A thread's hart changes only under its run-queue lock: with hart
        // h's held, t->hart == h stays true (lock_rq_of's own check).
        if (!held || t->hart != unsigned(held - g_rq)) {
            if (held)
                held->lock.unlock();
            held = &lock_rq_of(t);
        }
        fn(i, t);
    }
    if (held)
        held->lock.unlock();
}

// Timer tick on this hart: time slice accounting here, then the timeouts.
void tick()
{
    RunQueue& rq = g_rq[cpu::id()];
    if (!g_started.load(std::memory_order_relaxed) || !rq.current)
        return;
    {
        ksync::SpinGuard g(rq.lock);
        flush_recent_locked(rq); // IPC sleepers that slept through a tick become candidates
        Thread* cur = rq.current;
        if (cur->flags & TF_IDLE) {
            if (rq.queued)
                rq.need_resched = true;
        } else if (cur->slice_left > 0 && --cur->slice_left == 0) {
            // Only worth a switch if someone of equal or better priority waits.
            if (best_prio(rq) <= cur->priority)
                rq.need_resched = true;
            cur->slice_left = SLICE_TICKS;
        }
    }
    expire_timeouts();
}

void preempt_from_trap(const TrapFrame& tf)
{
    RunQueue& rq = g_rq[cpu::id()];
    if (!g_started.load(std::memory_order_relaxed) || !rq.need_resched || !(tf.sstatus & SSTATUS_SPIE))
        return;
    // Interrupts are off (we are in the trap handler); switching here keeps
    // the trap frame on this thread's stack until it runs again.
    rq.lock.lock();
    Thread* dead = schedule_locked(rq);
    g_rq[cpu::id()].lock.unlock();
    hand_over_dead(dead);
}

} // namespace kern::sched

// ipc_enter_user's call on the new thread's stack, with this hart's run
// queue and the thread handed over (passed along, as finish_switch would
// find them): that thread is off this hart (it only sleeps, never exits,
// there).
extern "C" void sched_finish_hand_off(kern::sched::detail::RunQueue* rq, kern::Thread* prev)
{
    prev->on_cpu.store(false, std::memory_order_release);
    rq->lock.unlock();
}
