// kern/sched/: threads (thread.h: spawn, exit, join, stacks from kstack/) and
// the scheduler that runs them (here). It builds on the hart layer
// (kern/arch/riscv), kern/sync's spinlocks and kstack/ (a thread whose stack
// is swapped out is brought back before it runs). Each hart's run queue has a
// spinlock of its own (class `runqueue`), taken with interrupts off; the one
// lock a context switch may hold (docs/locking.md).
//
// The scheduler: per-hart run queues with priorities, time slices enforced by
// the timer tick, idle harts that steal work, and the sleep/wakeup core that
// wait queues, mutexes and channels are built on.
#pragma once

#include "kern/sync/spinlock.h"
#include "kern/sched/thread.h"
#include "lib/function_ref.h"

#include <cstdint>

namespace kern {
struct TrapFrame;
}

namespace kern::sched {

constexpr uint32_t SLICE_TICKS = 2; // 20 ms at 100 Hz

void init_hart(Thread* boot_thread, Thread* idle);
void set_idle(Thread* idle);
// thread::exit(): mark the current thread Dead and switch away for good.
[[noreturn]] void mark_dead_and_switch();
// A new thread's first code: finish the switch that started it.
void finish_first_switch();
Thread* current_thread();

// Put a Runnable (new or woken) thread on a run queue.
void enqueue_new(Thread* t);
// Give up the hart to any thread of the same or higher priority.
void yield();

// Sleeping, in two steps so nothing is lost between them:
//   prepare_sleep() marks the current thread Sleeping (callers hold the lock
//   of whatever structure the thread is linked on, so a waker that finds it
//   there sees Sleeping); block() then switches away unless a wakeup has
//   already made it Runnable again. Returns the sleep's sequence number.
uint64_t prepare_sleep(const void* channel, const char* reason, uint64_t deadline);
void block();
// Direct switch, the IPC fast path (kern/task/ipc.cc): prepare_sleep() (no
// deadline) and the switch in one run-queue section, to `next`, which sleeps
// in sleep `seq` on this hart's queue and runs at once, without a wake() or a
// trip through the run queue. The caller holds `held` (lock order: held, then
// runqueue) with interrupts off since before it took it, so releasing it
// leaves them off. If next may take the hart, the current thread goes to
// sleep on `channel`, my_seq gets the sleep's sequence number before `held`
// is released, and true comes back once the thread is woken (without
// `held`). False, at once and with nothing changed (`held` still held, the
// thread still running), when next is not this hart's to run: not in that
// sleep, another hart's, still on a hart, its stack not resident, a timeout
// armed, a higher priority queued here. The caller then wakes next and
// sleeps the usual way.
[[nodiscard]] bool sleep_handing_off(const void* channel, const char* reason, Thread* next, uint64_t seq,
                                     uint64_t& my_seq, ksync::SpinLock& held);
// The IPC fast path's hand-off (lock_for_hand_off, hand_off_to_user) is in
// kern/sched/hand_off.h, inline.
// Wake a Sleeping thread. With seq != 0, only if it is still in that same
// sleep (timeouts use this: the thread may have moved on). Returns whether
// it was woken.
bool wake(Thread* t, uint64_t seq = 0, bool timed_out = false);

// The lock that orders a thread's state against wake(): the stack swapper
// changes a stack's residency only under it (kstack/swap.h). fn runs with it
// held and interrupts off; it must not sleep or take another run-queue lock.
void with_thread_locked(Thread* t, lib::FunctionRef<void(Thread*)> fn);
// The same for ts[0..n) in turn, fn(i, ts[i]) each: a run-queue lock stays
// held from one thread to the next while they are on the same hart (one lock
// round trip for a swap-out cluster's stacks rather than one per stack), and
// is dropped before the next hart's is taken, so at most one is held.
void with_threads_locked(Thread* const* ts, size_t n, lib::FunctionRef<void(size_t, Thread*)> fn);
// A thread whose frames are gone (its swapped-out stack could not be read
// back, kstack/swapin.cc), with its run-queue lock held (inside
// with_thread_locked): out of its sleep if it is in one (off the sleeper
// lists and the timeout list), Runnable, and pointed at entry(arg) at the
// top of its stack, so that it can still leave the way any thread of its
// kind does. It must be Sleeping or Runnable-but-unqueued, and not on a
// hart; enqueue_new() it once the lock is dropped (a wake() meanwhile finds
// it Runnable and leaves it alone). An entry point plus argument, not a
// FunctionRef: the thread runs it later, long after this call returns.
void restart_locked(Thread* t, void (*entry)(void*), void* arg);

// Swap candidates (kstack/swapout.cc, kstack/shrink.cc): the threads asleep
// on `hart` with a resident, unheld, swappable stack, oldest sleep first,
// under that hart's run-queue lock (interrupts off: fn must be short) until
// fn returns false. A pass that claims a stack takes it off with
// drop_sleeper_locked(); one that gives a stack back resident to a thread
// still asleep puts it back with add_sleeper_locked(). Both with the
// thread's run-queue lock held (inside with_thread_locked).
void for_each_sleeper(unsigned hart, lib::FunctionRef<bool(Thread&)> fn);
void drop_sleeper_locked(Thread* t);
void add_sleeper_locked(Thread* t);
// The sleepers of `hart` whose stacks are on swap and not yet wanted, in the
// order they went out (kstack/swapin.cc's early swap-in), the same way. The
// swap-out puts a thread there once its stack is Swapped
// (add_swapped_locked, with its run-queue lock held); it comes off when it
// is woken, restarted, or its stack is claimed for a swap-in
// (drop_sleeper_locked takes it off either list).
void for_each_swapped(unsigned hart, lib::FunctionRef<bool(Thread&)> fn);
void add_swapped_locked(Thread* t);

// Timer tick on this hart: time slice accounting and expired timeouts.
void tick();
// On the way out of a kernel trap: switch if the tick or a wakeup asked for it
// and the interrupted code could be preempted (it had interrupts on).
void preempt_from_trap(const TrapFrame& tf);

// From a trap handler on this hart's overflow stack (or code running on it),
// interrupts off, when the interrupted code could sleep (it had interrupts
// on, so it holds no spinlock): its registers go into the Thread and it gives
// up the hart, asleep on `channel` until woken or `deadline` (rdtime ticks),
// or with channel nullptr as a preemption (Runnable). When it runs again, on
// any hart, overflow_resume (kern/arch/riscv/trapentry.S) restores the registers and
// returns into the interrupted code, which retries what trapped. Returns,
// without switching, if it was woken before it could sleep or nothing else
// can run: the caller then carries on as if it had been resumed.
void park_from_trap(const TrapFrame& tf, const void* channel, const char* reason, uint64_t deadline);
// An interrupt handled on the overflow stack (its stack had little room):
// the preemption preempt_from_trap() would make, by parking.
void preempt_from_overflow(const TrapFrame& tf);
// Off the timeout list (a parked thread resumed).
void leave_timeouts_of(Thread* t);

// Sleep for a while (timed sleep, no wait queue).
void sleep_us(uint64_t us);

// Print every thread and run queue (hang reports). Takes no lock that a
// hung hart could hold forever: it reads racily, which is fine for a report.
void dump();

struct HartStats {
    unsigned queued;
    uint64_t switches;
    uint64_t steals;
    uint64_t idle_switches;
    Thread* current;
};
HartStats stats(unsigned hart);
[[nodiscard]] bool started();

} // namespace kern::sched
