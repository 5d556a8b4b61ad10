/*
 * fpu_save(ctx) / fpu_load(ctx): the 32 FP registers and fcsr to or from a
 * FpContext (kern/arch/riscv/fpu.h). The kernel is built without floating
 * point, so these are the only FP instructions in it: the D extension is
 * enabled for this file alone, and FS is turned on around the accesses and
 * Off again before returning (the kernel runs with FS Off). Interrupts are
 * off in the callers, so nothing sees FS on.
 */
#include "kern/arch/riscv/asm.h"

#define FS_INITIAL (ZEST_UL(1) << 13)

/* FS on for the accesses (Initial: the register state is about to be defined). */
.macro FS_ON
    li      t1, FS_INITIAL
    csrs    sstatus, t1
.endm
.macro FS_OFF
    li      t1, SSTATUS_FS
    csrc    sstatus, t1
.endm
/* op f0..f31 at 0..31*8(a0): fsd to save, fld to load. */
.macro EACH_FREG op
    .irp n, 0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30,31
    \op    f\n, \n*8(a0)
    .endr
.endm

    .section .text
    .option push
    .option arch, +d
    .balign 4
    .globl fpu_save
fpu_save:
    FS_ON
    EACH_FREG fsd
    frcsr   t0
    sd      t0, 32*8(a0)
    FS_OFF
    ret

    .globl fpu_load
fpu_load:
    FS_ON
    EACH_FREG fld
    ld      t0, 32*8(a0)
    fscsr   t0
    FS_OFF
    ret
    .option pop
