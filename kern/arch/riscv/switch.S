/*
 * switch_context(from, to): save the callee-saved registers and sp of the
 * running thread into *from and resume the thread saved in *to. Everything
 * else was saved by the C++ caller per the calling convention. The kernel has
 * no floating point; user threads' FP registers are saved and loaded by the
 * caller just before (fpu::switch_out/switch_in, kern/arch/riscv/fpu.h).
 */
#include "kern/arch/riscv/asm.h"

    .section .text
    .balign 4
    .globl switch_context
switch_context:
    sd      ra, 0*8(a0)
    sd      sp, 1*8(a0)
    sd      s0, 2*8(a0)
    sd      s1, 3*8(a0)
    sd      s2, 4*8(a0)
    sd      s3, 5*8(a0)
    sd      s4, 6*8(a0)
    sd      s5, 7*8(a0)
    sd      s6, 8*8(a0)
    sd      s7, 9*8(a0)
    sd      s8, 10*8(a0)
    sd      s9, 11*8(a0)
    sd      s10, 12*8(a0)
    sd      s11, 13*8(a0)

    /*
     * The new stack and its limit together: trap entry checks sp against
     * HartLocal.stack_limit, and no instruction between these two touches
     * memory, so no fault can compare one thread's sp with another's limit
     * (interrupts are off across the switch).
     */
    ld      ra, 0*8(a1)
    ld      t0, 14*8(a1)            /* Thread::stack_limit */
    ld      sp, 1*8(a1)
    sd      t0, HARTLOCAL_STACK_LIMIT(tp)
    ld      s0, 2*8(a1)
    ld      s1, 3*8(a1)
    ld      s2, 4*8(a1)
    ld      s3, 5*8(a1)
    ld      s4, 6*8(a1)
    ld      s5, 7*8(a1)
    ld      s6, 8*8(a1)
    ld      s7, 9*8(a1)
    ld      s8, 10*8(a1)
    ld      s9, 11*8(a1)
    ld      s10, 12*8(a1)
    ld      s11, 13*8(a1)
    ret

/*
 * First code of a new thread: switch_context "returned" here with s1 = entry
 * and s2 = argument (set up by thread creation). thread_start() finishes the
 * switch (releases the run-queue lock), enables interrupts and calls entry.
 */
    .globl thread_trampoline
thread_trampoline:
    mv      a0, s1
    mv      a1, s2
    mv      s0, zero        /* end of the frame chain for backtraces */
    call    thread_start
1:  j       1b
