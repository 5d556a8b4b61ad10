/* Constants shared by assembly and C++, each defined here only: the CSR bits
 * (C++ also reaches them through kern/arch/riscv/csr.h), boot stack sizes, and
 * the offsets assembly uses into kern::HartLocal and the trap frame (kept in
 * sync by static_asserts in kern/arch/riscv/hart.h and trap.h). */
#pragma once

/* 64-bit constants: unsigned long in C++, plain numbers for the assembler. */
#ifdef __ASSEMBLY__
#define ZEST_UL(x) x
#else
#define ZEST_UL(x) x##ul
#endif

/* sstatus */
#define SSTATUS_SIE     (ZEST_UL(1) << 1)   /* interrupts on in S-mode */
#define SSTATUS_SPIE    (ZEST_UL(1) << 5)   /* SIE before the trap */
#define SSTATUS_SPP     (ZEST_UL(1) << 8)   /* the trap came from S-mode */
#define SSTATUS_FS      (ZEST_UL(3) << 13)  /* floating-point state (off in the kernel) */
#define SSTATUS_SUM     (ZEST_UL(1) << 18)  /* S-mode may touch user pages */

/* sie and sip: one bit per interrupt source */
#define SIE_SSIE        (ZEST_UL(1) << 1)   /* software (IPI) */
#define SIE_STIE        (ZEST_UL(1) << 5)   /* timer */
#define SIE_SEIE        (ZEST_UL(1) << 9)   /* external (PLIC) */

/* scause: set for interrupts, clear for exceptions */
#define SCAUSE_INTERRUPT (ZEST_UL(1) << 63)
#define SCAUSE_ECALL_U  8                   /* ecall from U-mode */

/* satp: the address-space id field */
#define SATP_ASID_SHIFT 44
#define SATP_ASID_MASK  (ZEST_UL(0xffff) << SATP_ASID_SHIFT)

#define BOOT_STACK_SIZE 16384

/* Slots for harts (cpu::MAX_HARTS; hart.h checks the two agree). */
#define HART_SLOTS 8

/* Offsets into kern::HartLocal. */
#define HARTLOCAL_HARTID 4
#define HARTLOCAL_BOOT_STACK_TOP 8
#define HARTLOCAL_STACK_LIMIT 16
#define HARTLOCAL_OVERFLOW_TOP 24
#define HARTLOCAL_STACK_TOP 88
#define HARTLOCAL_CURRENT 96
#define HARTLOCAL_EXEC_FIXUP 104
#define HARTLOCAL_USER_SP 112

#define OVERFLOW_STACK_SIZE 8192
/* Room above the stack limit an interrupt needs to run on the stack it
 * arrives on; with less it runs on the overflow stack (kern/arch/riscv/trapentry.S). */
#define IRQ_ROOM 3072

/* Trap frame: x1..x31, then sepc, sstatus, scause, stval. */
#define TF_SEPC     (31 * 8)
#define TF_SSTATUS  (32 * 8)
#define TF_SCAUSE   (33 * 8)
#define TF_STVAL    (34 * 8)
#define TF_SIZE     (36 * 8)
