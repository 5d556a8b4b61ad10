// Parking from a trap: a thread interrupted on its hart's overflow stack
// (its own stack had too little room) gives up the hart with its registers
// kept at the top of its stack (ThreadTop, kern/sched/thread.h), and overflow_resume
// (kern/arch/riscv/trapentry.S) returns into the interrupted code when it
// runs again.
#include "kern/sched/sched.h"

#include "kern/sched/runqueue.h"
#include "kern/arch/riscv/trap.h"

extern "C" void overflow_resume();

namespace kern::sched {

using namespace detail;

namespace {
// Where park_from_trap's switch saves the context it abandons: never resumed.
Context g_abandoned[cpu::MAX_HARTS];
} // namespace

void park_from_trap(const TrapFrame& tf, const void* channel, const char* reason, uint64_t deadline)
{
    Thread* me = current_thread();
    // Both callers park only a thread with a stack (kern/arch/riscv/trap.cc).
    top_of(me).parked = tf;
    // Its live sp is in ThreadTop::parked until it runs again: no swap-out or give-back
    // (both read ctx.sp) meanwhile.
    me->stack_holds.acquire();
    if (channel)
        (void)prepare_sleep(channel, reason, deadline);
    RunQueue& rq = g_rq[cpu::id()];
    rq.lock.lock();
    if (!channel || me->state == ThreadState::Sleeping) {
        // The next switch to it resumes in overflow_resume (kern/arch/riscv/trapentry.S),
        // which needs no sp; sp as interrupted, for the stack's give-back
        // (none while parked: it holds the stack) and backtraces, which take
        // the rest from ThreadTop::parked (thread::saved_regs).
        me->ctx.sp = resume_at(tf.x[1], Resume::Parked);
        (void)schedule_locked(rq, &g_abandoned[cpu::id()]);
        // Back here only if nothing else could run: carry on at once.
    }
    me->state = ThreadState::Running;
    g_rq[cpu::id()].lock.unlock();
    me->stack_holds.release();
    leave_timeouts(me);
}

// Only a Running thread is parked. One that is Sleeping (or Runnable again:
// woken before its switch) was interrupted on its way into its own switch,
// which comes next and honours need_resched; parked instead, it would sleep
// as parked, holding its stack resident for the whole sleep.
void preempt_from_overflow(const TrapFrame& tf)
{
    RunQueue& rq = g_rq[cpu::id()];
    Thread* me = rq.current;
    if (!g_started.load(std::memory_order_relaxed) || !rq.need_resched || !(tf.sstatus & SSTATUS_SPIE) ||
        !me || !me->stack || (me->flags & TF_IDLE) || me->state != ThreadState::Running)
        return;
    park_from_trap(tf, nullptr, nullptr, 0);
}

} // namespace kern::sched

// A parked thread's first code when it runs again (from overflow_resume, on
// this hart's overflow stack, interrupts off, the run-queue lock held as
// after any switch): finish the switch and hand its registers back for
// overflow_resume to restore. The retried instruction grows the stack (or
// parks it again), or the interrupted code simply carries on.
extern "C" void overflow_resume_c(kern::TrapFrame* tf)
{
    using namespace kern;
    sched::finish_first_switch();
    Thread* me = sched::current_thread();
    *tf = top_of(me).parked;
    me->stack_holds.release();
    sched::leave_timeouts_of(me);
}
