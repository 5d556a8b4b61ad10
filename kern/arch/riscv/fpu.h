// User floating point: lazily allocated, lazily enabled FP state per thread.
//
// The kernel has no floating point (rv64imac): sstatus.FS is Off whenever the
// kernel runs (trap entry clears it, kern/arch/riscv/trapentry.S), so the FP
// registers hold whatever the last user thread with FP state left in them,
// and FS in a user thread's saved sstatus (its TrapFrame, where the frames
// on its kernel stack start: kstack::frames_top) is the only record of what
// that thread did with them:
//   - a new thread has no context (Thread::fpu null) and FS Off, so its
//     first FP instruction traps (illegal instruction with FS Off);
//     first_use() gives it a zeroed context from a zone, loads the zeroed
//     registers and sets FS Initial in the saved sstatus: the instruction is
//     retried and runs. An illegal instruction with FS already on is a real
//     one (user_trap kills the task as for any fault);
//   - switching away, a thread's registers are saved only if its FS is Dirty
//     (then it becomes Clean); switching in, a thread's context is loaded
//     only if it has one. A thread without one still has FS Off: the previous
//     thread's values in the registers are unreadable to it;
//   - the context is freed when the thread exits (task::exit_thread), and is
//     charged to the task as part of account::thread_pages().
// The context lives in a zone item, never on the (swappable) kernel stack.
#pragma once

#include "kern/sched/thread.h"

#include <cstddef>
#include <cstdint>

namespace kern {

struct TrapFrame;

// f0-f31 and fcsr, as fpu_regs.S stores them.
struct FpContext {
    uint64_t f[32];
    uint64_t fcsr;
};
static_assert(offsetof(FpContext, fcsr) == 32 * 8, "kern/arch/riscv/fpu_regs.S");

namespace fpu {

// Boot: the context zone.
void init();

// The two halves of a context switch from prev to next (both threads, kernel
// or user; prev the one running on this hart). Every switch between threads
// must call both, in this order, with interrupts off, while still running on
// prev's kernel stack (prev's user frame at its top is read and written),
// before the switch of registers and stack (switch_context):
//
//     fpu::switch_out(prev);   // saves prev's registers if its FS is Dirty
//     fpu::switch_in(next);    // loads next's registers if it has a context
//     switch_context(&prev->ctx, &next->ctx);
//
// Every switch makes them in sched::detail::switch_bookkeeping
// (kern/sched/hand_off.h), which the scheduler's switch_locked and the IPC
// fast path's hand-off (straight into the partner's user frame) both call; a
// new way of switching threads must call it or make the same two calls at
// the same point. Neither touches user
// memory, so which address space is loaded does not matter, and neither
// sleeps or takes a lock. The checks are inline: a thread that never used FP
// costs a load and a branch in each.
void save_if_dirty(Thread* prev);
void load(const FpContext* ctx);

inline void switch_out(Thread* prev)
{
    if (prev->fpu) [[unlikely]]
        save_if_dirty(prev);
}
inline void switch_in(Thread* next)
{
    if (next->fpu) [[unlikely]]
        load(next->fpu);
}

// An illegal-instruction trap from U-mode: if the thread's FS was Off, give it
// a zeroed context and FS Initial and return true (the instruction is
// retried); false if FS was on (a real illegal instruction) or no memory
// could be had (the task is told why: kills it). Interrupts on.
[[nodiscard]] bool first_use(Thread* me, TrapFrame& tf);

// The thread is exiting: free its context. Its FS stays whatever it was, but
// it never enters U-mode again.
void release(Thread* me);

// Contexts allocated and not yet released (tests: laziness and freeing).
[[nodiscard]] uint64_t live();

} // namespace fpu
} // namespace kern
