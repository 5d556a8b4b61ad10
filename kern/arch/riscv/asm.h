/* Constants shared by assembly and C++ (kept in sync by static_asserts in kern/arch/riscv/hart.h). */
#pragma once

#define SSTATUS_SIE     (1 << 1)
#define SSTATUS_SPIE    (1 << 5)
#define SSTATUS_SPP     (1 << 8)
#define SSTATUS_FS      (3 << 13)
#define SSTATUS_SUM     (1 << 18)

#define BOOT_STACK_SIZE 16384

/* Offsets into kern::HartLocal. */
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
