/*
 * The system-call interface, shared by the kernel (kern/task/syscall.cc) and user
 * programs (user/lib). Plain C, no includes: both sides compile it.
 *
 * Calling convention: ecall from U-mode with the number in a7 and up to six
 * arguments in a0..a5; the result comes back in a0. A negative result is
 * -ERROR (below); anything else is success. Registers other than a0 are
 * preserved.
 *
 * Numbers: 0-31 tasks, threads, time, console and memory; 32-63 IPC
 * (synchronous endpoints, docs/user.md). The IPC calls also take a6 and
 * return words in a1..a5.
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
#define SYS_TASK_KILL     12 /* task_kill(task id) -> tasks killed: an unreaped child and every task under it */
#define SYS_COUNT         13

/* IPC (32..63): synchronous endpoints, L4/seL4 style (docs/user.md).
 * A message is up to IPC_WORDS register words plus up to IPC_MSG_MAX bytes
 * copied from a buffer. The first argument is a tag: IPC_TAG(handle, len,
 * cap) = the endpoint handle (or reply cap), the bytes to send from the
 * buffer, and the room in the buffer for what comes back; bits 48..63 must be
 * zero. Words go in a1..a4, the buffer in a5, the timeout (microseconds, 0 =
 * forever, IPC_POLL = do not wait) in a6. Results: a0 as below, a1..a4 the
 * words received, a5 the bytes received (a longer message is cut to cap).
 */
#define SYS_IPC_CREATE    32 /* ipc_create() -> endpoint handle */
#define SYS_IPC_DESTROY   33 /* ipc_destroy(handle) -> 0; its waiters get -EIDRM */
#define SYS_IPC_SEND      34 /* send(tag, w0..w3, buf, timeout) -> 0 once received */
#define SYS_IPC_RECEIVE   35 /* receive(tag, -, buf, timeout) -> reply cap (>0) for a call, 0 for a send */
#define SYS_IPC_CALL      36 /* call(tag, w0..w3, buf, timeout) -> 0 with the reply in a1..a5 and buf */
#define SYS_IPC_REPLY     37 /* reply(IPC_TAG(cap, len, 0), w0..w3, buf) -> 0; -EPIPE if the caller left */
#define SYS_SPAWN_EP      38 /* spawn_ep(name, arg, handle) -> task id; the child gets the endpoint as handle 0 */
#define SYS_IPC_REPLY_RECEIVE 39 /* reply_receive(IPC_TAG(h, len, cap) | IPC_TAG_REPLY(rc), w0..w3, buf, timeout)
                                  * -> as receive on h, once w0..w3 and len bytes of buf went to reply cap rc;
                                  * a reply error (EBADF, EPIPE) is returned with nothing received */
#define SYS_IPC_LAST      39

#define IPC_WORDS      4
#define IPC_MSG_MAX    4096
#define IPC_HANDLES    16        /* endpoint handles per task: 0..15 */
#define IPC_REPLY_CAPS 16        /* reply caps per task: 1..16 */
#define IPC_POLL       (~0ul)    /* timeout: fail with EAGAIN rather than wait */
#define IPC_TIMEOUT_MAX SLEEP_MAX_US
#define IPC_TAG(h, len, cap) ((unsigned long)(h) | ((unsigned long)(len) << 16) | ((unsigned long)(cap) << 32))
#define IPC_TAG_REPLY(rc)    ((unsigned long)(rc) << 48) /* reply_receive only: bits 48..55; 56..63 zero */


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
#define EINTR   4   /* the task is ending (kill, exit): the call was abandoned */
#define EBADF   9   /* not an endpoint handle / reply cap of this task */
#define EPIPE   32  /* the IPC partner exited mid-call */
#define EIDRM   43  /* the endpoint was destroyed */
#define EMSGSIZE 90 /* message over IPC_MSG_MAX, or a bad tag */

/* Exit codes of a task the kernel killed. */
#define EXIT_KILLED_FAULT  (-1000) /* a fault in user mode */
#define EXIT_KILLED        (-1001) /* kill from the shell, a test or the parent (task_kill) */
#define EXIT_BAD_IMAGE     (-1002) /* never started: the ELF image was refused */

#endif
