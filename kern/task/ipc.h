// Synchronous IPC endpoints, L4/seL4 style (docs/user.md, user/abi.h).
//
// An endpoint is a rendezvous: a sender (send or call) and a receiver meet,
// the message moves, and with a call the caller then waits for the reply
// that the receiver sends through a one-shot reply cap.
//
// Designed for swappable kernel stacks: a thread blocked in IPC keeps its
// message in its Record (allocated per thread, like seL4's message registers
// in the TCB), not on its kernel stack, and sleeps with sched::prepare_sleep
// and block(), linked on the endpoint by its Record. It holds no stack hold,
// so the pagedaemon may swap its stack out while it waits.
//
// One lock, "ipc", covers every endpoint queue, handle table and reply cap:
// the rendezvous touches two threads, an endpoint and a task table at once,
// and one leaf lock is the simplest order that cannot deadlock. Lock order:
// ipc -> runqueue -> timeouts (prepare_sleep under it); wakes happen after it
// is released, or under it on the call path (docs/locking.md).
//
// The fast paths (docs/user.md): when a call finds its server waiting, or a
// reply_receive answers a caller and finds nobody queued, the thread going
// to sleep hands its hart straight to that partner instead of waking it
// through the run queue: directly from trap frame to trap frame when both
// sleep that way (ipc_fast_trap, kern/task/ipc_fast.cc), else through the
// general path's sched::sleep_handing_off; when any condition fails, the
// general path runs unchanged.
#pragma once

#include "lib/list.h"
#include "lib/owned.h"
#include "lib/result.h"
#include "user/abi.h"

#include <cstdint>

namespace kern {

struct Thread;
struct Task;
struct TrapFrame;

namespace ipc {

struct Endpoint;

// One per user thread that has used IPC; freed when the thread exits.
struct Record {
    enum class State : uint8_t {
        Idle,       // not in IPC
        Sending,    // queued on ep->senders with a send
        Calling,    // queued on ep->senders with a call
        Receiving,  // queued on ep->receivers
        AwaitReply, // its call was received; a reply cap in `reply_holder` points here
        Done,       // finished: `result` says how
    };
    lib::ListNode ep_node;   // an endpoint's senders or receivers
    lib::ListNode task_node; // its task's records
    Thread* thread;
    Task* task;
    uint64_t seq;            // the sleep to wake (sched::wake)
    State state = State::Idle;
    long result = 0;
    Endpoint* ep = nullptr;  // the endpoint it is queued on
    Task* reply_holder = nullptr; // whose reply cap answers it (AwaitReply)
    unsigned reply_slot = 0;
    // Server side: the filling of the reply slot its last received call took
    // (TaskIpc::reply_fills), so a failed copy-out frees that slot only if
    // no other thread of the task answered it and a later call refilled it.
    uint64_t received_fill = 0;
    // Asleep in the fast path (kern/task/ipc_fast.cc): the trap frame it
    // returns to user mode from, which a partner's fast path answers into
    // directly; null in any other sleep.
    TrapFrame* frame = nullptr;
    uint64_t w[IPC_WORDS];   // the message: register words...
    uint64_t len = 0;        // ... and bytes
    uint8_t buf[IPC_MSG_MAX];
};

// A task's IPC state (kern/task/task.h embeds it). Under the ipc lock.
struct TaskIpc {
    Endpoint* handles[IPC_HANDLES] = {};
    // A reply cap: the caller's record; STALE once that caller gave up (the
    // slot stays taken until the server replies, so a cap never names a
    // later caller by mistake).
    Record* replies[IPC_REPLY_CAPS] = {};
    uint64_t reply_fills[IPC_REPLY_CAPS] = {}; // times each slot was filled
    lib::List<Record, &Record::task_node> records;
};

// The system calls (numbers in user/abi.h); a0..a6 in tf, results written
// back to tf's a1..a5 where the call returns a message. Returns a0.
long sys_create(Task* t);
long sys_destroy(Task* t, uint64_t h);
long sys_send(TrapFrame& tf, bool call);
long sys_receive(TrapFrame& tf);
long sys_reply(TrapFrame& tf);
long sys_reply_receive(TrapFrame& tf);

// The fast path (docs/user.md): hand-offs of this hart straight to the
// partner by a call (to the waiting server) and by a reply_receive (to the
// answered caller), and hand-offs tried that fell back to a wake().
struct FastPathStats {
    uint64_t calls, replies, fallbacks;
    uint64_t direct_calls, direct_replies; // of calls and replies: by the direct path
    uint64_t remote;                       // of those: to a partner on another hart
};
FastPathStats fast_path_stats();

// The direct fast path (kern/task/ipc_fast.cc, docs/user.md) is entered
// from trap entry, not through this header: ipc_fast_trap(tf) takes every
// call and reply_receive from user mode, with interrupts off. When the
// partner sleeps in the fast path on this hart, the message goes straight
// from tf into the partner's trap frame, the caller sleeps with only its
// trap frame live, and the partner returns to user mode; else, with nothing
// changed, the general path runs (trap::user_syscall).
// A thread asleep in the fast path, run again by any other switch (a
// general-path partner, a kill, an endpoint destroyed): its system call
// finished as the general path would, from its trap frame. Interrupts on;
// returns a0.
long resume(TrapFrame& tf);
// Whether such a thread was answered straight into its frame (by a partner
// on another hart): then it just returns to user mode.
[[nodiscard]] bool answered(const Thread* me);
// Test switch (ktests only): off, the direct path always declines, so the same
// calls run through the general path.
void set_fast_path(bool on);

// spawn_ep: the endpoint behind handle h of parent, with a reference for the
// child (give() it as the child's handle 0 or drop() it).
Endpoint* take_ref(Task* parent, uint64_t h);
[[nodiscard]] lib::Status give(Task* child, Endpoint* ep);
void drop(Endpoint* ep);
// One such reference, dropped when its owner goes unless release()d (given).
struct EndpointRefTraits {
    using Handle = Endpoint*;
    static constexpr Handle null = nullptr;
    static void free(Endpoint* ep) { drop(ep); }
};
using EndpointRef = lib::Owned<EndpointRefTraits>;

// Task life: a kill wakes the task's threads blocked in IPC (they return
// -EINTR); a thread's exit frees its record (giving up a call it never came
// back from); the task's end closes its
// handles and fails its pending reply caps (callers get -EPIPE).
void wake_task(Task* t);
void thread_exit(Task* t, Thread* th);
void task_exit(Task* t);

// Test hook (ktests only; none is set otherwise): called by a receive that
// took a call into reply slot `slot` of t, after the ipc lock was dropped and
// before the message is copied out to the user, so a test can let another
// server thread answer that cap and take a new call into the slot meanwhile.
using CopyOutHook = void (*)(Task* t, unsigned slot);
void set_copy_out_test_hook(CopyOutHook fn);

uint64_t endpoints(); // live endpoints (leak checks)
uint64_t records();   // live records

} // namespace ipc
} // namespace kern
