// Traps from U-mode (kern/arch/riscv/trapentry.S saved the user registers in a frame at
// the top of the thread's kernel stack): interrupts, system calls, and faults,
// which kill the task with a message naming task, thread, cause, pc and
// address. On the way back, a thread whose task is ending leaves instead.
#include "kern/arch/riscv/csr.h"
#include "kern/arch/riscv/fpu.h"
#include "kern/console/printf.h"
#include "kern/sched/sched.h"
#include "kern/task/ipc.h"
#include "kern/task/syscall.h"
#include "kern/task/task.h"
#include "kern/sched/thread.h"
#include "kern/arch/riscv/trap.h"
#include "user/abi.h"
#include "vm/layout.h"
#include "vm/sv39.h"
#include "vm/tlb.h"

using namespace kern;

namespace {

// A page fault on a page that is mapped with the right permission now: this
// hart cached the "not mapped" from before (Sv39 allows that until an
// sfence.vma). Flush and retry rather than kill.
bool stale_tlb(Task* t, const TrapFrame& tf)
{
    uint64_t need;
    switch (tf.scause) {
    case trap::LOAD_PAGE_FAULT: need = vm::sv39::R; break;
    case trap::STORE_PAGE_FAULT: need = vm::sv39::W; break;
    case trap::INSN_PAGE_FAULT: need = vm::sv39::X; break;
    default: return false;
    }
    uint64_t pa, flags;
    if (!vm::layout::is_user_range(tf.stval, 1) || !t->as.lookup(tf.stval, pa, flags))
        return false;
    if (!(flags & vm::sv39::U) || !(flags & need))
        return false;
    vm::tlb::flush_local(tf.stval);
    return true;
}

// Out of line: its message buffer would otherwise be part of every system
// call's frame.
[[gnu::noinline]] void user_fault(Thread* me, TrapFrame& tf)
{
    Task* t = me->task;
    if (stale_tlb(t, tf))
        return;
    // A thread's first FP instruction: retried with FP on (kern/arch/riscv/fpu.h).
    if (tf.scause == trap::ILLEGAL_INSN && fpu::first_use(me, tf))
        return;
    char why[160];
    if (tf.scause == trap::ILLEGAL_INSN)
        ksnprintf(why, sizeof why, "%s at pc 0x%lx (instruction bits 0x%lx), in thread %lu (%s)",
                  trap::cause_name(tf.scause), tf.sepc, tf.stval, me->id, me->name);
    else
        ksnprintf(why, sizeof why, "%s at pc 0x%lx, address 0x%lx%s, in thread %lu (%s)", trap::cause_name(tf.scause),
                  tf.sepc, tf.stval, vm::layout::is_user_range(tf.stval, 1) ? "" : " (not user memory)", me->id,
                  me->name);
    task::kill(t, EXIT_KILLED_FAULT, why);
}

// The way back to user mode from any trap: a thread whose task is ending
// leaves instead.
[[gnu::always_inline]] inline void leave_to_user(Thread* me, TrapFrame* tf)
{
    if (me->task->exiting.load(std::memory_order_acquire))
        task::exit_thread(-1);
    // The frame says "from U-mode with interrupts on", so this may switch.
    sched::preempt_from_trap(*tf);
    if (me->task->exiting.load(std::memory_order_acquire))
        task::exit_thread(-1);
}

// A system call: dispatched with interrupts on.
[[gnu::always_inline]] inline void syscall_from_user(Thread* me, TrapFrame& tf)
{
    cpu::irq_restore(cpu::IRQS_ON);
    tf.x[9] = static_cast<uint64_t>(syscall::dispatch(tf));
    (void)cpu::irq_save();
    leave_to_user(me, &tf);
}

} // namespace

void trap::user_syscall(Thread* me, TrapFrame& tf) { syscall_from_user(me, tf); }

extern "C" void user_trap(TrapFrame* tf)
{
    Thread* me = sched::current_thread();
    if (tf->scause & SCAUSE_INTERRUPT) {
        trap::handle_interrupt(*tf);
    } else if (tf->scause == trap::ECALL_U) {
        // (A call or reply_receive came through ipc_fast_trap instead.)
        tf->sepc += 4; // return after the ecall
        syscall_from_user(me, *tf);
        return;
    } else {
        // Interrupts on: the stale-TLB check takes the address space's mutex,
        // a first FP instruction allocates the thread's FP context.
        cpu::irq_restore(cpu::IRQS_ON);
        user_fault(me, *tf);
        (void)cpu::irq_save();
    }
    leave_to_user(me, tf);
}

// A thread that slept in the IPC fast path, run again by any switch
// (ipc_resume, kern/arch/riscv/trapentry.S): interrupts off and the run-queue
// lock held, as after any switch. Its system call ends here, and it returns
// to user mode as from user_trap.
extern "C" void ipc_resume_c(TrapFrame* tf)
{
    sched::finish_first_switch();
    Thread* me = thread::current();
    if (!ipc::answered(me)) {
        cpu::irq_restore(cpu::IRQS_ON);
        tf->x[9] = static_cast<uint64_t>(ipc::resume(*tf));
        (void)cpu::irq_save();
    }
    leave_to_user(me, tf);
}
