/*
 * The system-call interface, shared by the kernel (kern/syscall.cc) and user
 * programs (user/lib). Plain C, no includes: both sides compile it.
 *
 * Calling convention: ecall from U-mode with the number in a7 and up to six
 * arguments in a0..a5; the result comes back in a0. A negative result is
 * -ERROR (below); anything else is success. Registers other than a0 are
 * preserved.
 *
 * Numbers: 0-31 tasks, threads, time, console and memory; 32-63 are kept for
 * IPC (endpoints: create, send, receive, call, reply), which comes next.
 */
#ifndef ZEST_USER_ABI_H
#define ZEST_USER_ABI_H

#define SYS_EXIT          0  /* exit(code): the whole task; never returns */
#define SYS_THREAD_EXIT   1  /* thread_exit(code): this thread; the task ends with its last */
#define SYS_YIELD         2  /* yield() -> 0 */
#define SYS_SLEEP         3  /* sleep(microseconds <= SLEEP_MAX_US) -> 0 */
#define SYS_WRITE         4  /* write(buf, len <= WRITE_MAX) -> len: to the console */
#define SYS_THREAD_CREATE 5  /* thread_create(entry, stack_top, a0, a1) -> thread id; starts with a0, a1 set */
#define SYS_SPAWN         6  /* spawn(name, arg) -> task id of a new task running program `name` */
#define SYS_MMAP          7  /* mmap(addr or 0, len, prot) -> addr: zeroed pages */
#define SYS_MUNMAP        8  /* munmap(addr, len) -> pages unmapped */
#define SYS_GETPID        9  /* getpid() -> task id */
#define SYS_GETTID        10 /* gettid() -> thread id */
#define SYS_TASK_WAIT     11 /* task_wait(task id, timeout_us or 0) -> exit code of a task this one spawned */
#define SYS_COUNT         12
/* 32..63: IPC (reserved). */

/* mmap protections; never WRITE and EXEC together. */
#define PROT_READ  1
#define PROT_WRITE 2
#define PROT_EXEC  4

#define WRITE_MAX     4096            /* bytes per write */
#define SLEEP_MAX_US  10000000        /* 10 s */
#define MMAP_MAX      (16 << 20)      /* bytes per mmap */
#define TASK_MAX_PAGES 4096           /* 16 MiB of user pages per task, everything counted */
#define TASK_MAX_THREADS 64
#define SPAWN_NAME_MAX 32

/* Errors (returned negated). The values are the usual errno numbers. */
#define ENOENT  2   /* no program or task by that name/id */
#define ESRCH   3   /* no such task (task_wait) */
#define EAGAIN  11  /* a limit reached (threads, tasks) */
#define ENOMEM  12  /* out of memory or over the task's page limit */
#define EFAULT  14  /* a bad pointer */
#define EEXIST  17  /* mmap over a mapping */
#define EINVAL  22  /* a bad value */
#define ENOSYS  38  /* no such system call */
#define ETIMEDOUT 110

/* Exit codes of a task the kernel killed. */
#define EXIT_KILLED_FAULT  (-1000) /* a fault in user mode */
#define EXIT_KILLED        (-1001) /* kill from the shell or a test */
#define EXIT_BAD_IMAGE     (-1002) /* never started: the ELF image was refused */

#endif
