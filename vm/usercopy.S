/*
 * Raw user copies (vm/usercopy.h does the range checks and SUM). Every load
 * and store that touches user memory has an __ex_table entry sending a fault
 * to the "return -1" path: the trap handler finds it (kern/arch/riscv/fixup.h).
 */
    .section .text
    .balign 4

/* long user_copy_raw(void* dst, const void* src, size_t n): 0, or -1 on a fault. */
    .globl user_copy_raw
user_copy_raw:
    beqz    a2, 3f
    /* Both 8-byte aligned: doublewords while at least 8 bytes are left. */
    or      t1, a0, a1
    andi    t1, t1, 7
    bnez    t1, 2f
1:  li      t1, 8
    bltu    a2, t1, 2f
.Lcopy_ld:
    ld      t0, 0(a1)
.Lcopy_sd:
    sd      t0, 0(a0)
    addi    a0, a0, 8
    addi    a1, a1, 8
    addi    a2, a2, -8
    j       1b
2:  beqz    a2, 3f
.Lcopy_lb:
    lbu     t0, 0(a1)
.Lcopy_sb:
    sb      t0, 0(a0)
    addi    a0, a0, 1
    addi    a1, a1, 1
    addi    a2, a2, -1
    j       2b
3:  li      a0, 0
    ret

/* long user_strncpy_raw(char* dst, const char* src, size_t max): length, -1 fault, -2 too long. */
    .globl user_strncpy_raw
user_strncpy_raw:
    li      t1, 0
1:  beq     t1, a2, 2f
    add     t2, a1, t1
.Lstr_lb:
    lbu     t0, 0(t2)
    add     t2, a0, t1
    sb      t0, 0(t2)
    beqz    t0, 3f
    addi    t1, t1, 1
    j       1b
2:  li      a0, -2
    ret
3:  mv      a0, t1
    ret

user_copy_fault:
    li      a0, -1
    ret

    .section __ex_table, "a"
    .balign 8
    .dword  .Lcopy_ld, user_copy_fault
    .dword  .Lcopy_sd, user_copy_fault
    .dword  .Lcopy_lb, user_copy_fault
    .dword  .Lcopy_sb, user_copy_fault
    .dword  .Lstr_lb, user_copy_fault
