/*
 * Memory probes that survive a fault: each access instruction has an
 * __ex_table entry sending a fault to the "return -1" path.
 */
    .section .text
    .balign 4

    .globl probe_read_u64
probe_read_u64:
1:  ld      t0, 0(a0)
    sd      t0, 0(a1)
    li      a0, 0
    ret

    .globl probe_write_u64
probe_write_u64:
2:  sd      a1, 0(a0)
    li      a0, 0
    ret

probe_failed:
    li      a0, -1
    ret

    .section __ex_table, "a"
    .balign 8
    .dword  1b, probe_failed
    .dword  2b, probe_failed
