// The direct IPC fast path (docs/user.md): a call to a server asleep in the
// fast path's reply_receive, and a reply_receive that answers a caller
// asleep in the fast path's call and then waits for the next, on one hart,
// register words only, no timeout. It runs from trap entry (ipc_fast_trap,
// at the end) before anything else: the words go from the trap frame
// straight into the partner's trap frame, the thread going to sleep keeps
// nothing live but its own frame (it is resumed from there, in ipc_resume,
// by whatever switch runs it next: resume() in kern/task/ipc.cc then
// finishes its call the general way), and the partner returns to user mode
// from its frame. No record-to-record move, no kernel stack to unwind on
// either side, no run-queue work.
//
// Everything it does is what the general path would do for the same calls:
// the same checks in the same order where they can fail (here they only
// decide to decline, and the general path then gives the error), the same
// record states, reply caps and counters, the same lock order (ipc, then
// runqueue). Anything unusual declines, before anything changed.
#include "kern/task/ipc_internal.h"

#include "kern/sched/hand_off.h"
#include "kern/sched/thread.h"
#include "kern/task/ipc_args.h"
#include "kern/task/syscall.h"
#include "kern/task/task.h"
#include "kern/arch/riscv/trap.h"

namespace kern::ipc {

using namespace detail;
using State = Record::State;

namespace {

// The calls it takes: a call or reply_receive moving register words only
// (len and cap 0, so no buffer is read) with no timeout, from a thread with
// a record, whose task is not being killed, and no copy-out test hook.
bool simple(const TrapFrame& tf, uint64_t tag_bits_used, Thread* me)
{
    return (tf.x[9] & ~tag_bits_used) == 0 && tf.x[15] == 0 && me->ipc_record &&
           !me->task->exiting.load(std::memory_order_acquire) &&
           !g_copy_out_hook.load(std::memory_order_relaxed) && !g_direct_off.load(std::memory_order_relaxed);
}

// The handle's endpoint, live, under g_lock.
Endpoint* endpoint_locked(Task* t, uint64_t h)
{
    Endpoint* ep = t->ipc.handles[h];
    return ep && !ep->dead ? ep : nullptr;
}

void copy_words(TrapFrame* to, const TrapFrame& from)
{
    for (unsigned i = 0; i < IPC_WORDS; i++)
        to->x[10 + i] = from.x[10 + i];
    to->x[14] = 0; // the length: words only
}

// The general path's form of the same message: in the record.
void take_words(Record* to, const TrapFrame& from)
{
    for (unsigned i = 0; i < IPC_WORDS; i++)
        to->w[i] = from.x[10 + i];
    to->len = 0;
}

// Sleep as `r` with only tf live, handing the hart to `next`, which returns
// to user mode from its frame. With g_lock and the hand-off lock held.
[[noreturn, gnu::always_inline]] inline void sleep_and_switch(sched::detail::RunQueue& rq, unsigned hart, Record* r,
                                                              TrapFrame& tf, const char* why, Record* next,
                                                              TrapFrame* next_frame)
{
    r->frame = &tf;
    next->frame = nullptr;
    syscall::count(r->task->syscalls);
    sched::hand_off_to_user(rq, hart, r, why, r->seq, &tf, next->thread, next_frame, g_lock);
}

// The same with the partner on another hart (its frame written, under its
// run-queue lock): woken there with one IPI, and this thread sleeps.
[[noreturn]] void answer_remote_and_sleep(Record* r, TrapFrame& tf, const char* why, Record* next)
{
    r->frame = &tf;
    next->frame = nullptr;
    syscall::count(r->task->syscalls);
    g_remote.fetch_add(1, std::memory_order_relaxed);
    sched::wake_answered_locked(next->thread);
    sched::sleep_after_answer(r, why, r->seq, &tf, g_lock);
}

// The call: to the server at the front of its endpoint's receivers.
bool call(TrapFrame& tf, Thread* me)
{
    // Bits 0..15: the handle, below IPC_HANDLES; len, cap and reserved 0.
    if (!simple(tf, 0xffff, me) || tf.x[9] >= IPC_HANDLES)
        return false;
    Record* r = me->ipc_record;
    unsigned hart = cpu::id();
    sched::detail::RunQueue& rq = sched::queue_of(hart);
    g_lock.lock_irqs_off(hart); // interrupts are off: the trap's
    Endpoint* ep = endpoint_locked(me->task, tf.x[9]);
    Record* rx = ep ? ep->receivers.front() : nullptr;
    // The server's record asleep in the fast path, with a reply slot free
    // (the first, nearly always: a server holds few unanswered calls).
    if (!rx) {
        g_lock.unlock(hart);
        return false;
    }
    Task* server = rx->task;
    unsigned slot = 0;
    while (slot < IPC_REPLY_CAPS && server->ipc.replies[slot])
        slot++;
    bool remote = false;
    if (slot == IPC_REPLY_CAPS || server->exiting.load(std::memory_order_acquire) ||
        (!sched::lock_for_hand_off(rq, hart, rx->thread, rx->seq) &&
         !(remote = rx->frame && sched::lock_remote_for_answer(rx->thread, rx->seq)))) {
        g_lock.unlock(hart);
        return false;
    }
    // As send_rendezvous and receive_locked, with the message in frames.
    ep->receivers.remove(*rx);
    rx->state = State::Idle; // back from its receive
    rx->ep = nullptr;
    server->ipc.replies[slot] = r;
    rx->received_fill = ++server->ipc.reply_fills[slot];
    r->state = State::AwaitReply;
    r->reply_holder = server;
    r->reply_slot = slot;
    TrapFrame* to = rx->frame;
    if (to) {
        copy_words(to, tf);
        to->x[9] = slot + 1; // the reply cap
    } else {
        // Asleep in the general path (its first receive): it takes the
        // message from its record when it runs, as after a wake.
        take_words(rx, tf);
        rx->state = State::Done;
        rx->result = slot + 1;
    }
    g_direct_calls.fetch_add(1, std::memory_order_relaxed);
    if (remote)
        answer_remote_and_sleep(r, tf, "ipc-call", rx);
    sleep_and_switch(rq, hart, r, tf, "ipc-call", rx, to);
}

// reply_receive: answer the caller behind the cap, then wait on the endpoint
// (nobody queued there: else the general path takes the next call).
bool reply_receive(TrapFrame& tf, Thread* me)
{
    // Bits 0..15 the handle, 48..55 the cap; len, cap and 56..63 zero.
    uint64_t tag = tf.x[9];
    uint64_t h = tag & 0xffff, rc = (tag >> 48) & 0xff;
    if (!simple(tf, 0xffff | (0xffull << 48), me) || h >= IPC_HANDLES || rc < 1 || rc > IPC_REPLY_CAPS)
        return false;
    Record* r = me->ipc_record;
    Task* t = me->task;
    unsigned slot = unsigned(rc - 1);
    unsigned hart = cpu::id();
    sched::detail::RunQueue& rq = sched::queue_of(hart);
    g_lock.lock_irqs_off(hart); // interrupts are off: the trap's
    Endpoint* ep = endpoint_locked(t, h);
    Record* c = t->ipc.replies[slot];
    bool remote = false;
    if (!ep || !ep->senders.empty() || !c || c == STALE || c->task->exiting.load(std::memory_order_acquire) ||
        (!sched::lock_for_hand_off(rq, hart, c->thread, c->seq) &&
         !(remote = c->frame && sched::lock_remote_for_answer(c->thread, c->seq)))) {
        g_lock.unlock(hart);
        return false;
    }
    // As answer_locked and receive_locked.
    t->ipc.replies[slot] = nullptr;
    c->reply_holder = nullptr;
    c->state = State::Idle; // back from its call
    TrapFrame* to = c->frame;
    if (to) {
        copy_words(to, tf);
        to->x[9] = 0;
    } else {
        take_words(c, tf); // a caller asleep in the general path, as above
        c->state = State::Done;
        c->result = 0;
    }
    r->state = State::Receiving;
    r->ep = ep;
    ep->receivers.push_back(*r);
    g_direct_replies.fetch_add(1, std::memory_order_relaxed);
    if (remote)
        answer_remote_and_sleep(r, tf, "ipc-recv", c);
    sleep_and_switch(rq, hart, r, tf, "ipc-recv", c, to);
}

} // namespace

} // namespace kern::ipc

// Trap entry's way in for a call or reply_receive from user mode
// (kern/arch/riscv/trapentry.S), with interrupts off: the direct path, and
// when it declines the system call as any other (trap::user_syscall).
extern "C" void ipc_fast_trap(kern::TrapFrame* tf)
{
    using namespace kern;
    Thread* me = this_hart().current;
    tf->sepc += 4; // return after the ecall
    if (tf->x[16] == SYS_IPC_CALL ? ipc::call(*tf, me) : ipc::reply_receive(*tf, me))
        __builtin_unreachable(); // taken: another thread returned to user mode
    trap::user_syscall(me, *tf);
}
