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
     * loader may release every hart (some U-Boot setups do), and OpenSBI 1.1
     * sends a hart here instead of to _secondary_start when its hart_start
     * finds the hart not yet waiting (it marks the start pending before it
     * writes the address). Losers wait for their release.
     */
    la      t0, boot_lottery
    li      t1, 1
    amoswap.w t1, t1, (t0)
    bnez    t1, wait_for_release

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

/*
 * A hart that lost the boot lottery, with a0 = its hart id: it waits until
 * the boot hart publishes a HartLocal with that hart id in hart_release
 * (boot/harts.cc), then goes on as if SBI had started it there. The boot hart
 * sends IPIs while it waits, which end the wfi (sie.SSIE on, sstatus.SIE off:
 * a pending IPI wakes the hart without trapping).
 */
wait_for_release:
    li      t0, SIE_SSIE
    csrw    sie, t0
1:  la      t0, hart_release
    li      t1, HART_SLOTS
2:  ld      t2, 0(t0)
    fence   r, rw
    beqz    t2, 3f
    lwu     t3, HARTLOCAL_HARTID(t2)
    beq     t3, a0, 4f
3:  addi    t0, t0, 8
    addi    t1, t1, -1
    bnez    t1, 2b
    wfi
    csrw    sip, zero
    j       1b
4:  sd      zero, 0(t0)         /* taken: tells the boot hart which way it came */
    mv      a1, t2
    j       _secondary_start

    .section .data
    .balign 8
/* HartLocal pointers the boot hart has released (boot/harts.cc); in .data,
 * not .bss, so a hart that waits before the boot hart clears .bss reads
 * zeros from the image. */
    .globl hart_release
hart_release:
    .zero   8 * HART_SLOTS
boot_lottery:
    .word   0
