/*
 * Kernel entry. OpenSBI (directly, or through U-Boot's booti) jumps here in
 * S-mode with a0 = hart id and a1 = physical address of the device tree,
 * paging off. The first 64 bytes are the RISC-V Linux Image header that booti
 * checks; its first instruction jumps over the header.
 */
#include "kern/arch/riscv/asm.h"

    .section .text.head, "ax"
    .globl _start
_start:
    /* code0/code1: jump to the real entry (4 bytes) and a pad word. */
    j       _start_kernel
    .word   0
    .dword  0x200000            /* text_offset: load at RAM base + 2 MiB */
    .dword  _image_size         /* image_size, BSS included */
    .dword  0                   /* flags: little endian */
    .word   2                   /* header version 0.2 */
    .word   0                   /* res1 */
    .dword  0                   /* res2 */
    .ascii  "RISCV\0\0\0"       /* magic (deprecated, still written) */
    .ascii  "RSC\x05"           /* magic2: what U-Boot checks */
    .word   0                   /* res3 */

/*
 * What every hart does first: interrupts off, sscratch zero (trap entry relies
 * on it), supervisor FP off (the kernel is built without FP, so any FP
 * instruction traps), and gp for the small-data section.
 */
.macro HART_EARLY_SETUP
    csrw    sie, zero
    csrw    sip, zero
    csrw    sscratch, zero
    li      t0, SSTATUS_FS
    csrc    sstatus, t0
.option push
.option norelax
    la      gp, __global_pointer$
.option pop
.endm

    .section .text.entry, "ax"
_start_kernel:
    HART_EARLY_SETUP

    /*
     * Only one hart may boot the kernel. OpenSBI starts just one, but a boot
     * loader that releases every hart (some U-Boot setups do) must not run two
     * copies of early boot: losers park here forever.
     */
    la      t0, boot_lottery
    li      t1, 1
    amoswap.w t1, t1, (t0)
    bnez    t1, park

    /* Clear BSS before anything reads a global. */
    la      t0, _bss_start
    la      t1, _bss_end
1:  bgeu    t0, t1, 2f
    sd      zero, 0(t0)
    addi    t0, t0, 8
    j       1b
2:
    /* Boot stack: hart slot 0's stack; tp: hart slot 0's HartLocal. */
    la      sp, boot_stacks
    li      t0, BOOT_STACK_SIZE
    add     sp, sp, t0
    la      tp, hart_locals
    mv      s0, zero
    /* kmain(hartid, fdt) never returns. */
    call    kmain
    j       park

/*
 * Secondary harts arrive here from SBI HSM hart_start, with a0 = hart id and
 * a1 = the opaque value we passed: the address of their HartLocal. Their
 * stack top is the HartLocal's boot_stack_top field.
 */
    .globl _secondary_start
_secondary_start:
    HART_EARLY_SETUP
    mv      tp, a1
    ld      sp, HARTLOCAL_BOOT_STACK_TOP(tp)
    mv      s0, zero
    call    secondary_main
park:
    wfi
    j       park

    .section .data
    .balign 4
boot_lottery:
    .word   0
