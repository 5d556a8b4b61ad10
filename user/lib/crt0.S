/*
 * Program entry. The kernel starts the first thread here with sp at the top
 * of the stack it mapped and a0 = the spawn argument; main(arg)'s return
 * value becomes the task's exit code.
 */
#include "user/abi.h"

    .section .text.entry
    .globl _start
_start:
.option push
.option norelax
    la      gp, __global_pointer$
.option pop
    mv      s0, zero
    call    main
    li      a7, SYS_EXIT
    ecall
1:  j       1b

/* Threads made by zest::thread_create start here: a0 = arg, a1 = function. */
    .section .text
    .globl __thread_start
__thread_start:
    mv      s0, zero
    jalr    a1
    li      a7, SYS_THREAD_EXIT
    ecall
2:  j       2b
