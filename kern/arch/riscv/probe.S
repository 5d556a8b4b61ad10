/*
 * Memory probes that survive a fault: each access instruction has an
 * __ex_table entry sending a fault to the "return -1" path.
 */
#include "kern/arch/riscv/asm.h"

    .section .text
    .balign 4

    .globl probe_read_u64
probe_read_u64:
.Lprobe_load:
    ld      t0, 0(a0)
    sd      t0, 0(a1)
    li      a0, 0
    ret

    .globl probe_write_u64
probe_write_u64:
.Lprobe_store:
    sd      a1, 0(a0)
    li      a0, 0
    ret

/*
 * probe_exec(addr): call addr, which must hold a `ret`. Returns 0 if it ran,
 * -1 if fetching it faulted: the trap handler sends an instruction fault that
 * arrives while exec_fixup is set to that address, with a0 = -1 (an
 * instruction fault has no faulting instruction of ours to list in __ex_table).
 */
    .globl probe_exec
probe_exec:
    addi    sp, sp, -16
    sd      ra, 8(sp)
    sd      s0, 0(sp)
    addi    s0, sp, 16
    la      t0, .Lexec_back
    sd      t0, HARTLOCAL_EXEC_FIXUP(tp)
    mv      t1, a0
    li      a0, 0
    jalr    t1
.Lexec_back:
    sd      zero, HARTLOCAL_EXEC_FIXUP(tp)
    ld      ra, 8(sp)
    ld      s0, 0(sp)
    addi    sp, sp, 16
    ret

    .globl probe_ret_only
probe_ret_only:
    ret

probe_failed:
    li      a0, -1
    ret

    .section __ex_table, "a"
    .balign 8
    .dword  .Lprobe_load, probe_failed
    .dword  .Lprobe_store, probe_failed
