/*
 * switch_context(from, to): push the callee-saved registers of the running
 * thread on its own stack (a SwitchFrame, kern/sched/thread.h), store its sp
 * in *from, and resume the thread saved in *to. Everything else was saved by
 * the C++ caller per the calling convention. Keeping the registers on the
 * stack rather than in the Thread, they go out to swap with it: a Context is
 * only sp. The kernel has no floating point; user threads' FP registers are
 * saved and loaded by the caller just before (fpu::switch_out/switch_in,
 * kern/arch/riscv/fpu.h).
 *
 * The push is a function prologue's: below the limit it faults and grows the
 * stack like any call would (kstack/grow.h), charged to this stack, since
 * sp and the limit have not changed yet.
 */
#include "kern/arch/riscv/asm.h"

#define SWITCH_FRAME    (14 * 8)        /* sizeof(kern::SwitchFrame) */
#define STACK_LIMIT     (1 * 8)         /* kern::THREAD_STACK_LIMIT_OFFSET */
#define RESUME_MASK     15              /* kern::RESUME_MASK */

    .section .text
    .balign 4
    .globl switch_context
switch_context:
    addi    sp, sp, -SWITCH_FRAME
    sd      ra, 0*8(sp)
    sd      s0, 1*8(sp)
    sd      s1, 2*8(sp)
    sd      s2, 3*8(sp)
    sd      s3, 4*8(sp)
    sd      s4, 5*8(sp)
    sd      s5, 6*8(sp)
    sd      s6, 7*8(sp)
    sd      s7, 8*8(sp)
    sd      s8, 9*8(sp)
    sd      s9, 10*8(sp)
    sd      s10, 11*8(sp)
    sd      s11, 12*8(sp)
    sd      sp, 0(a0)               /* Resume::Frame: the low bits are 0 */

    /*
     * The new stack and its limit together: trap entry checks sp against
     * HartLocal.stack_limit, and no instruction between these two touches
     * memory, so no fault can compare one thread's sp with another's limit
     * (interrupts are off across the switch).
     */
    ld      t0, STACK_LIMIT(a1)
    ld      t1, 0(a1)
    andi    t2, t1, RESUME_MASK
    sub     sp, t1, t2
    sd      t0, HARTLOCAL_STACK_LIMIT(tp)
    bnez    t2, 1f
    ld      ra, 0*8(sp)
    ld      s0, 1*8(sp)
    ld      s1, 2*8(sp)
    ld      s2, 3*8(sp)
    ld      s3, 4*8(sp)
    ld      s4, 5*8(sp)
    ld      s5, 6*8(sp)
    ld      s6, 7*8(sp)
    ld      s7, 8*8(sp)
    ld      s8, 9*8(sp)
    ld      s9, 10*8(sp)
    ld      s10, 11*8(sp)
    ld      s11, 12*8(sp)
    addi    sp, sp, SWITCH_FRAME
    ret

    /*
     * No frame: the thread resumes where kern::Resume in sp's low bits says,
     * with sp as saved and the frame chain ended for backtraces. Interrupts
     * off and the run-queue lock held, as after any switch.
     */
1:  mv      s0, zero
    li      t0, 1                   /* Resume::Start */
    beq     t2, t0, thread_trampoline
    li      t0, 2                   /* Resume::Parked */
    bne     t2, t0, 2f
    tail    overflow_resume
2:  tail    ipc_resume              /* Resume::Ipc */

/*
 * First code of a new thread: switch_context came here with sp at the top of
 * its frames (thread::set_entry). thread_start() finishes the switch
 * (releases the run-queue lock), enables interrupts and calls the thread's
 * entry(arg), which it reads from the Thread.
 */
    .globl thread_trampoline
thread_trampoline:
    mv      s0, zero        /* end of the frame chain for backtraces */
    call    thread_start
1:  j       1b
