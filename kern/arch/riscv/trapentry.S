/*
 * Trap entry. stvec points here for traps from both modes.
 *
 * From S-mode: all 31 registers and the trap CSRs go into a TrapFrame on the
 * current stack and trap_dispatch(frame) runs. On return the (possibly
 * edited) frame is restored, so a handler can redirect sepc, as the fault
 * fixup table does. tp is not restored (it is the hart's, and the thread may
 * have moved to another hart).
 *
 * The sscratch protocol tells the two modes apart with one instruction:
 *   - in S-mode sscratch is 0 (the kernel path also borrows it for t0);
 *   - in U-mode it holds the hart's HartLocal pointer (the kernel tp).
 * Entry swaps tp and sscratch. Non-zero tp: we came from U-mode, tp is now
 * the kernel's and sscratch holds the user tp. Zero: we came from S-mode;
 * swap back (tp = HartLocal, sscratch = 0) and take the kernel path.
 *
 * From U-mode: the user sp is parked in HartLocal.user_sp (interrupts are off
 * in the trap, nothing else can use it), sp becomes the top of the thread's
 * kernel stack (HartLocal.stack_top, switched with the thread by the
 * scheduler; the top page of a running thread's stack is always mapped, so no
 * limit check is needed for the one frame), and the user registers, user tp
 * and user sp included, go into a TrapFrame right at the top. sscratch goes
 * back to 0 and user_trap(frame) runs (kern/arch/riscv/user_trap.cc), or for
 * an IPC call or reply_receive ipc_fast_trap(frame) (kern/task/ipc_fast.cc). It returns through
 * user_return, which is also how a new user thread first enters U-mode:
 * interrupts off, sscratch = HartLocal, every register from the frame
 * (tp and sp included), sret to the frame's sepc with its sstatus (SPP = 0).
 *
 * Both paths clear sstatus.SUM for the handler (the saved sstatus keeps it
 * for the interrupted code): a user copy preempted with SUM set must not
 * hand SUM to the thread that runs next. From U-mode, FS is cleared too: the
 * kernel runs with FP off (a stray FP instruction in it traps), and the
 * user's FS, Dirty if it wrote FP registers, stays in the saved sstatus for
 * the scheduler (kern/arch/riscv/fpu.h) and comes back with it on return.
 */
#include "kern/arch/riscv/asm.h"
#include "user/abi.h"

    .section .text
    .balign 4
/* Save every register but sp (x2) and t0 (x5), and the trap CSRs, at 0(sp). */
.macro SAVE_MOST
    sd      x1, 0*8(sp)
    sd      x3, 2*8(sp)
    sd      x4, 3*8(sp)
    sd      x6, 5*8(sp)
    sd      x7, 6*8(sp)
    sd      x8, 7*8(sp)
    sd      x9, 8*8(sp)
    sd      x10, 9*8(sp)
    sd      x11, 10*8(sp)
    sd      x12, 11*8(sp)
    sd      x13, 12*8(sp)
    sd      x14, 13*8(sp)
    sd      x15, 14*8(sp)
    sd      x16, 15*8(sp)
    sd      x17, 16*8(sp)
    sd      x18, 17*8(sp)
    sd      x19, 18*8(sp)
    sd      x20, 19*8(sp)
    sd      x21, 20*8(sp)
    sd      x22, 21*8(sp)
    sd      x23, 22*8(sp)
    sd      x24, 23*8(sp)
    sd      x25, 24*8(sp)
    sd      x26, 25*8(sp)
    sd      x27, 26*8(sp)
    sd      x28, 27*8(sp)
    sd      x29, 28*8(sp)
    sd      x30, 29*8(sp)
    sd      x31, 30*8(sp)
    csrr    t0, sepc
    sd      t0, TF_SEPC(sp)
    csrr    t0, sstatus
    sd      t0, TF_SSTATUS(sp)
    csrr    t0, scause
    sd      t0, TF_SCAUSE(sp)
    csrr    t0, stval
    sd      t0, TF_STVAL(sp)
.endm

/*
 * sepc, sstatus and every register from the frame at 0(sp) except tp (x4)
 * and sp (x2), which the two ways out treat differently.
 */
.macro RESTORE_MOST
    ld      t0, TF_SEPC(sp)
    csrw    sepc, t0
    ld      t0, TF_SSTATUS(sp)
    csrw    sstatus, t0
    ld      x1, 0*8(sp)
    ld      x3, 2*8(sp)
    ld      x5, 4*8(sp)
    ld      x6, 5*8(sp)
    ld      x7, 6*8(sp)
    ld      x8, 7*8(sp)
    ld      x9, 8*8(sp)
    ld      x10, 9*8(sp)
    ld      x11, 10*8(sp)
    ld      x12, 11*8(sp)
    ld      x13, 12*8(sp)
    ld      x14, 13*8(sp)
    ld      x15, 14*8(sp)
    ld      x16, 15*8(sp)
    ld      x17, 16*8(sp)
    ld      x18, 17*8(sp)
    ld      x19, 18*8(sp)
    ld      x20, 19*8(sp)
    ld      x21, 20*8(sp)
    ld      x22, 21*8(sp)
    ld      x23, 22*8(sp)
    ld      x24, 23*8(sp)
    ld      x25, 24*8(sp)
    ld      x26, 25*8(sp)
    ld      x27, 26*8(sp)
    ld      x28, 27*8(sp)
    ld      x29, 28*8(sp)
    ld      x30, 29*8(sp)
    ld      x31, 30*8(sp)
.endm

/*
 * Back to the kernel code the trap interrupted. Not tp: it points at the
 * hart's HartLocal, and a thread preempted here may resume on another hart,
 * where the saved tp would be wrong.
 */
.macro RESTORE_AND_SRET
    RESTORE_MOST
    ld      x2, 1*8(sp)
    sret
.endm

    .globl trap_entry
trap_entry:
    csrrw   tp, sscratch, tp
    bnez    tp, from_user
    csrrw   tp, sscratch, tp
    /*
     * Before storing anything: is there room for a trap frame on this stack?
     * The hart-local stack limit is the lowest usable address of the running
     * stack. If sp is already below it (an overflow ran into the guard page,
     * and this is the fault) or the frame would cross it, nothing may be
     * written here: go to the hart's own overflow stack. t0 is borrowed
     * through sscratch, which is always zero in the kernel.
     */
    csrw    sscratch, t0
    ld      t0, HARTLOCAL_STACK_LIMIT(tp)
    addi    t0, t0, TF_SIZE + 16
    bltu    sp, t0, stack_overflow
    /*
     * An interrupt needs room for its handler too (and, when it preempts,
     * for the switch): with less than IRQ_ROOM above the limit it runs on the
     * overflow stack instead, so an interrupt never grows the stack it
     * arrives on (it may come at zero free pages, kstack/grow.h).
     */
    csrr    t0, scause
    bgez    t0, 1f
    ld      t0, HARTLOCAL_STACK_LIMIT(tp)
    addi    t0, t0, IRQ_ROOM / 2
    addi    t0, t0, IRQ_ROOM / 2
    bltu    sp, t0, stack_overflow
1:
    csrr    t0, sscratch
    csrw    sscratch, zero

    addi    sp, sp, -TF_SIZE
    sd      t0, 4*8(sp)
    addi    t0, sp, TF_SIZE
    sd      t0, 1*8(sp)
    SAVE_MOST
    li      t0, SSTATUS_SUM
    csrc    sstatus, t0

    /* A frame record linking the interrupted code, so backtraces cross the trap. */
    ld      t0, TF_SEPC(sp)
    addi    sp, sp, -16
    sd      t0, 8(sp)
    sd      s0, 0(sp)
    addi    s0, sp, 16

    addi    a0, sp, 16
    call    trap_dispatch
    addi    sp, sp, 16

    RESTORE_AND_SRET
    .globl trap_entry_end
trap_entry_end:

/*
 * No room on the running stack: build the frame on this hart's overflow stack
 * (each hart has its own, so two harts overflowing at once cannot trample
 * each other). stack_overflow_trap() either grows the stack and returns, and
 * the trap is retried with room, or reports an overflow and never returns.
 */
stack_overflow:
    mv      t0, sp
    ld      sp, HARTLOCAL_OVERFLOW_TOP(tp)
    addi    sp, sp, -TF_SIZE
    sd      t0, 1*8(sp)
    csrr    t0, sscratch
    csrw    sscratch, zero
    sd      t0, 4*8(sp)
    SAVE_MOST
    li      t0, SSTATUS_SUM
    csrc    sstatus, t0
    mv      s0, zero
    mv      a0, sp
    call    stack_overflow_trap
    RESTORE_AND_SRET

/*
 * A thread parked from a trap (sched::park_from_trap) runs again here:
 * switch_context "returned" with interrupts off and the run-queue lock held.
 * On this hart's overflow stack (free: interrupts are off), overflow_resume_c
 * finishes the switch and copies the saved registers into a frame, and the
 * interrupted code resumes as after any trap.
 */
    .globl overflow_resume
overflow_resume:
    ld      sp, HARTLOCAL_OVERFLOW_TOP(tp)
    addi    sp, sp, -TF_SIZE
    mv      s0, zero
    mv      a0, sp
    call    overflow_resume_c
    RESTORE_AND_SRET

/*
 * call_on_stack(arg, fn, top): fn(arg) with sp = top, back on this stack
 * after. trap_dispatch grows a stack this way, on the overflow stack.
 */
    .globl call_on_stack
call_on_stack:
    addi    sp, sp, -16
    sd      ra, 8(sp)
    sd      s0, 0(sp)
    addi    s0, sp, 16
    mv      t1, sp
    mv      sp, a2
    addi    sp, sp, -16
    sd      t1, 0(sp)
    jalr    a1
    ld      sp, 0(sp)
    ld      ra, 8(sp)
    ld      s0, 0(sp)
    addi    sp, sp, 16
    ret

/* From U-mode: tp = HartLocal, sscratch = user tp (see the header). */
from_user:
    sd      sp, HARTLOCAL_USER_SP(tp)
    ld      sp, HARTLOCAL_STACK_TOP(tp)
    addi    sp, sp, -TF_SIZE
    sd      t0, 4*8(sp)
    SAVE_MOST                       /* x4 (tp) goes in as the kernel's: fixed below */
    ld      t0, HARTLOCAL_USER_SP(tp)
    sd      t0, 1*8(sp)
    csrrw   t0, sscratch, zero
    sd      t0, 3*8(sp)
    li      t0, SSTATUS_SUM | SSTATUS_FS
    csrc    sstatus, t0
    mv      s0, zero                /* backtraces end here */
    mv      a0, sp
    /*
     * A call or reply_receive (a7, still the user's) goes to the IPC fast
     * path (ipc_fast_trap, kern/task/ipc_fast.cc), which runs it as any
     * system call when it declines; everything else to user_trap.
     */
    csrr    t0, scause
    li      t1, SCAUSE_ECALL_U
    bne     t0, t1, 1f
    li      t1, SYS_IPC_CALL
    beq     a7, t1, 2f
    li      t1, SYS_IPC_REPLY_RECEIVE
    beq     a7, t1, 2f
1:
    call    user_trap
    mv      a0, sp                  /* the frame, still at the top of this thread's kernel stack */
    j       user_return
2:
    call    ipc_fast_trap
    mv      a0, sp
    /* fall through */

/*
 * user_return(frame): enter U-mode with the registers in frame, which sits at
 * the top of the current thread's kernel stack.
 */
    .globl user_return
user_return:
    mv      sp, a0
    csrci   sstatus, SSTATUS_SIE    /* from here until sret nothing may trap */
    csrw    sscratch, tp
    RESTORE_MOST
    ld      x4, 3*8(sp)             /* the user's own tp */
    ld      x2, 1*8(sp)
    sret

/*
 * ipc_enter_user(frame, stack_limit, rq, prev): the IPC fast path's switch
 * (sched::hand_off_to_user, kern/task/ipc_fast.cc) from prev. The scheduler's
 * bookkeeping is done and rq's lock (this hart's run queue) held; the thread taking the
 * hart runs on its own stack from here, right below its trap frame (with its
 * limit, as switch_context switches both), finishes the switch and returns to
 * user mode. The thread handing over needs nothing from its stack any more.
 */
    .globl ipc_enter_user
ipc_enter_user:
    mv      sp, a0
    sd      a1, HARTLOCAL_STACK_LIMIT(tp)
    mv      s0, zero
    mv      a0, a2
    mv      a1, a3
    call    sched_finish_hand_off
    mv      a0, sp
    j       user_return

/*
 * A thread that slept in the IPC fast path, run again by any switch:
 * switch_context "returned" here with sp = its trap frame, interrupts off and
 * the run-queue lock held. ipc_resume_c finishes the switch and the system
 * call (kern/task/ipc.cc), and it returns to user mode as after any trap.
 */
    .globl ipc_resume
ipc_resume:
    mv      s0, zero
    mv      a0, sp
    call    ipc_resume_c
    mv      a0, sp
    j       user_return
