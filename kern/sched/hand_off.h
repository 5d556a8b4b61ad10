// The switch primitives that the scheduler (sched.cc) and the IPC fast path
// (kern/task/ipc_fast.cc) share, inline, so that the fast path compiles into
// one function with no calls but the locks' slow paths: the bookkeeping of a
// switch, a sleep's marking, the hand-off checks, and the fast path's
// hand-off itself (lock_for_hand_off, hand_off_to_user). Only those two
// files include it; sched.h is the interface for everyone else.
#pragma once

#include "kern/arch/riscv/csr.h"
#include "kern/arch/riscv/fpu.h"
#include "kern/arch/riscv/hart.h"
#include "kern/console/panic.h"
#include "kern/sched/runqueue.h"
#include "kern/sched/sched.h"
#include "kern/sync/lockcheck.h"
#include "kstack/kstack.h"
#include "vm/kmem.h"
#include "vm/uspace.h"

extern "C" void switch_context(kern::Context* from, kern::Context* to);
extern "C" void ipc_resume();
extern "C" [[noreturn]] void ipc_enter_user(kern::TrapFrame* frame, uint64_t stack_limit,
                                            kern::sched::detail::RunQueue* rq, kern::Thread* prev);

namespace kern::sched {
namespace detail {

extern std::atomic<uint64_t> g_sleep_seq;
// Where hand_off_to_user's switch to a general-path sleeper saves the
// context it abandons: never resumed.
extern Context g_abandoned_ipc[cpu::MAX_HARTS];

// Completes a switch on the new thread's side: the thread we switched away
// from is now off this hart (its on_cpu clears, so a waker may queue it
// elsewhere). Runs with the run-queue lock held; returns the previous thread
// if it exited, for the caller to hand to the reaper once the lock is free
// (that wakes someone, which takes run-queue locks).
inline Thread* finish_switch(RunQueue& rq)
{
    Thread* prev = rq.switched_from;
    rq.switched_from = nullptr;
    if (!prev)
        return nullptr;
    prev->on_cpu.store(false, std::memory_order_release);
    return prev->state == ThreadState::Dead ? prev : nullptr;
}

// Everything a switch does but the switch of registers and stack, and the
// note of prev for the other side (rq.switched_from = prev, for
// finish_switch; the fast path's switch hands prev over in registers).
// top: next's stack top when the caller knows it (a user thread's trap frame
// sits right below it), else 0. hart: this hart's index (cpu::id()), which
// the fast path reads once.
[[gnu::always_inline]] inline void switch_bookkeeping(RunQueue& rq, unsigned hart, Thread* prev, Thread* next,
                                                      uintptr_t top = 0)
{
    next->hart = hart;
    next->on_cpu.store(true, std::memory_order_relaxed);
    next->switches++;
    rq.current = next;
    rq.switches++;
    if (next->flags & TF_IDLE)
        rq.idle_switches++;
    // For reports and current_thread(); the stack limit that trap entry
    // checks is switched by switch_context together with sp.
    HartLocal& h = this_hart();
    h.current = next;
    h.stack_top = top ? top : next->stack ? kstack::frames_top(next->stack) : h.boot_stack_top;
    // Address space: a user thread runs on its task's root, any other thread
    // on the kernel's. Kernel mappings are the same in every root, so this
    // stack stays mapped across the change; activate() skips a root that is
    // already loaded (two threads of one task, or kernel to kernel).
    vm::uspace::activate(next->satp ? next->satp : vm::kmem::kernel_satp());
    // Only the run-queue lock crosses a switch (finish_switch releases it on
    // the other side): any other spinlock held here is a sleep under a spinlock.
    if (ksync::lockcheck::enabled())
        ksync::lockcheck::before_switch();
    // User FP registers: prev's saved if it changed them, next's loaded if it
    // has any (kern/arch/riscv/fpu.h); a thread that never used FP costs a
    // test each. Here, so the IPC hand-off (below) switches them too.
    fpu::switch_out(prev);
    fpu::switch_in(next);
}

// Whether the running thread `me` may hand this hart straight to `next` in
// sleep `seq` (sleep_handing_off()). Only a thread that is this hart's to run
// (it sleeps on this queue, fully switched out, so no other hart can touch it
// while we hold the lock), with its stack resident (else the swapper must
// bring it back first), no timeout armed, and nothing better waiting here
// (no queued priority above next's: a bit test, where best_prio() would cost
// a software count of trailing zeros on cores without Zbb): anything else
// goes through wake().
[[gnu::always_inline]] inline bool can_hand_off_locked(RunQueue& rq, unsigned hart, Thread* me, Thread* next,
                                                       uint64_t seq)
{
    return me->state == ThreadState::Running && next != me && next->hart == hart &&
           next->state == ThreadState::Sleeping && next->sleep_seq == seq &&
           !next->on_cpu.load(std::memory_order_acquire) && next->stack &&
           kstack::state(next->stack) == kstack::StackState::Resident && !next->wait_deadline &&
           !(next->flags & TF_IDLE) && !(rq.bitmap & ((1u << next->priority) - 1));
}

// The current thread's sleep (prepare_sleep), with its run-queue lock held.
// It goes to the back of the hart's sleepers: sleeps on one hart start in
// time order, so the list stays oldest first.
[[gnu::always_inline]] inline uint64_t mark_sleeping(Thread* me, const void* channel, const char* reason,
                                                     uint64_t deadline)
{
    me->wait_channel = channel;
    me->wait_reason = reason;
    me->wait_deadline = deadline;
    me->sleep_since = csr::rdtime();
    me->sleep_seq = g_sleep_seq.fetch_add(1, std::memory_order_relaxed) + 1;
    me->state = ThreadState::Sleeping;
    return me->sleep_seq;
}

// swap_candidate(), less the residency check: a running thread's stack is
// resident (and this is on every sleep's path, the IPC fast path's too).
[[gnu::always_inline]] inline bool sleeper_swappable(const Thread* me)
{
    return me->stack && !(me->flags & TF_NO_SWAP) && !me->stack_holds.held();
}

[[gnu::always_inline]] inline uint64_t mark_sleeping_locked(RunQueue& rq, Thread* me, const void* channel,
                                                            const char* reason, uint64_t deadline, bool lazy = false)
{
    uint64_t seq = mark_sleeping(me, channel, reason, deadline);
    if (!sleeper_swappable(me))
        return seq;
    if (lazy)
        note_recent_locked(rq, me); // an IPC sleep: most last microseconds
    else
        rq.sleepers.push_back(*me);
    return seq;
}

} // namespace detail

// The IPC fast path's hand-off to a thread asleep as a continuation: one
// that returns to user mode straight from its trap frame when it runs
// (kern/task/ipc_fast.cc). With `held` (the ipc lock) taken and interrupts
// off since before it was: lock_for_hand_off() takes this hart's run-queue
// lock and checks next is this hart's to run in sleep `seq` (as
// sleep_handing_off does, and nothing needs a reschedule here); false, with
// nothing changed and the lock released, if not. With it true the caller
// writes next's frame, then either gives up (unlock_hand_off()) or calls
// hand_off_to_user(): the current thread goes to sleep on `channel` (my_seq
// set before `held` is released), to be resumed by any later switch in
// ipc_resume (kern/arch/riscv/trapentry.S) with sp = my_frame, and next
// returns to user mode from next_frame on this hart, or, with next_frame
// nullptr, resumes from its own sleep as after any switch. Does not return.
// The same hand-off to a partner asleep this way on another hart: one IPI.
// lock_remote_for_answer() takes next's run-queue lock (the caller holds
// `held`, the ipc lock, and no run-queue lock) and checks it sleeps in sleep
// `seq` there, off its hart, stack resident, no timeout; false, with the
// lock released, if not (or next is on this hart). With it true the caller
// writes next's frame, then wake_answered_locked() makes next Runnable on
// its queue, releases the lock and kicks its hart (one IPI, if next is worth
// a reschedule there): next returns to user mode from its frame
// (ipc_resume_c sees it answered). sleep_after_answer() then puts the
// current thread to sleep as hand_off_to_user() does, taking its own
// run-queue lock, and switches to whatever this hart runs next.
[[nodiscard]] bool lock_remote_for_answer(Thread* next, uint64_t seq);
void wake_answered_locked(Thread* next);
[[noreturn]] void sleep_after_answer(const void* channel, const char* reason, uint64_t& my_seq, TrapFrame* my_frame,
                                     ksync::SpinLock& held);

// hart: cpu::id(), read once by the caller (an asm load the compiler does
// not merge), and rq its run queue (queue_of(hart)); interrupts are off
// (the fast path runs from trap entry, before they are turned on), so the
// run-queue lock is taken without saving them.
[[nodiscard, gnu::always_inline]] inline detail::RunQueue& queue_of(unsigned hart)
{
    detail::RunQueue* rq = &detail::g_rq[hart];
    // Opaque from here: else the compiler, short of registers, recomputes
    // g_rq + hart * sizeof(RunQueue) (four instructions) at every use.
    asm("" : "+r"(rq));
    return *rq;
}

[[nodiscard, gnu::always_inline]] inline bool lock_for_hand_off(detail::RunQueue& rq, unsigned hart, Thread* next,
                                                                uint64_t seq)
{
    rq.lock.lock_irqs_off(hart); // order: the caller's lock (ipc), then runqueue
    if (rq.need_resched || !detail::can_hand_off_locked(rq, hart, rq.current, next, seq)) [[unlikely]] {
        rq.lock.unlock(hart);
        return false;
    }
    // Pages of next's stack mapped since this hart last ran it may still be
    // cached here as unmapped: flushed before the caller writes its frame.
    kstack::before_switch_in(next->stack, hart);
    return true;
}

inline void unlock_hand_off(detail::RunQueue& rq) { rq.lock.unlock(); }

[[noreturn, gnu::always_inline]] inline void hand_off_to_user(detail::RunQueue& rq, unsigned hart, const void* channel,
                                                              const char* reason, uint64_t& my_seq, TrapFrame* my_frame,
                                                              Thread* next, TrapFrame* next_frame,
                                                              ksync::SpinLock& held)
{
    Thread* me = rq.current;
    my_seq = detail::mark_sleeping(me, channel, reason, 0);
    bool noted = detail::sleeper_swappable(me);
    // A partner that went to sleep just before (a ping-pong's other half)
    // is the last noted, in this sleep (so not on the sleepers list): its
    // note goes, rather than wait for a flush, and this sleep's note (an IPC
    // sleep: noted, not listed) takes its place.
    unsigned n = rq.recent_n;
    detail::RunQueue::Recent* last = n ? &rq.recent[n - 1] : nullptr;
    if (last && last->t == next && last->seq == next->sleep_seq) {
        if (noted)
            *last = {me, my_seq};
        else
            rq.recent_n = n - 1;
    } else {
        detail::leave_sleepers(rq, next);
        if (noted)
            detail::note_recent_locked(rq, me);
    }
    held.unlock(hart); // interrupts stay off: the caller's
    // Resumed by any switch (a wake, a hand-off from the general path) in
    // ipc_resume (kern/arch/riscv/trapentry.S), which finishes its system
    // call from the frame: nothing below the frame is live any more.
    me->ctx.sp = resume_at(reinterpret_cast<uint64_t>(my_frame), Resume::Ipc);
    next->wait_timed_out = false;
    next->state = ThreadState::Running;
    next->slice_left = me->slice_left;
    detail::switch_bookkeeping(rq, hart, me, next, next_frame ? reinterpret_cast<uintptr_t>(next_frame + 1) : 0);
    // The stack and its limit together (as switch_context does); next's
    // first code on its own stack finishes the switch (sched_finish_hand_off)
    // and returns to user mode from next_frame.
    if (next_frame)
        ipc_enter_user(next_frame, next->stack_limit, &rq, me);
    // next sleeps the general way: resumed where it switched away, as by any
    // switch (finish_switch); what switch_context saves of this thread is
    // never resumed.
    rq.switched_from = me;
    switch_context(&detail::g_abandoned_ipc[hart], &next->ctx);
    panic("sched: a thread that slept in the IPC fast path came back from its switch");
}

} // namespace kern::sched
