// The system calls. Each handler validates every argument (kern/task/sysarg.h for
// the rules that need no hardware, vm/usercopy.h for user memory) before it
// touches anything, and answers bad input with -error, never a fault.
#include "kern/task/syscall.h"

#include "kern/console/console.h"
#include "kern/task/ipc.h"
#include "kern/console/printf.h"
#include "kern/sched/sched.h"
#include "kern/task/sysarg.h"
#include "kern/task/task.h"
#include "kern/sched/thread.h"
#include "kern/arch/riscv/trap.h"
#include "kern/sync/wait.h"
#include "user/abi.h"
#include "vm/layout.h"
#include "vm/usercopy.h"

#include <atomic>

namespace kern::syscall {

std::atomic<uint64_t> g_total;

namespace {

using sysarg::to_errno;

struct Call {
    Thread* me;
    Task* task;
    const uint64_t* a; // a0..a5
    TrapFrame* tf;     // IPC: a6 in, a1..a5 out
};

constexpr unsigned MAX_CHILDREN = 16;

long sys_exit(Call& c)
{
    char why[48];
    ksnprintf(why, sizeof why, "exited with code %d", int(c.a[0]));
    task::set_exit(c.task, int(c.a[0]), why);
    task::exit_thread(int(c.a[0]));
}

long sys_thread_exit(Call& c) { task::exit_thread(int(c.a[0])); }

long sys_yield(Call&)
{
    sched::yield();
    return 0;
}

long sys_sleep(Call& c)
{
    if (long e = sysarg::check_sleep(c.a[0]))
        return e;
    if (c.a[0] == 0) {
        sched::yield();
        return 0;
    }
    // On the task's exit channel: a kill wakes it at once. `exiting` is
    // checked and the thread queued under the task lock, under which a kill
    // sets it before it wakes the channel: the kill cannot fall in between.
    ksync::SpinGuard g(c.task->lock);
    if (!c.task->exiting.load())
        (void)ksync::sleep_on(&c.task->exiting, &c.task->lock, c.a[0], "usleep");
    return 0;
}

long sys_write(Call& c)
{
    uint64_t buf = c.a[0], len = c.a[1];
    if (long e = sysarg::check_write(buf, len))
        return e;
    char chunk[256];
    for (uint64_t done = 0; done < len;) {
        uint64_t n = len - done < sizeof chunk ? len - done : sizeof chunk;
        lib::Status st = vm::copy_from_user(chunk, buf + done, n);
        if (!st.ok())
            return done ? long(done) : to_errno(st.error());
        kprintf("%.*s", int(n), chunk);
        done += n;
    }
    return long(len);
}

long sys_thread_create(Call& c)
{
    if (long e = sysarg::check_thread_create(c.a[0], c.a[1]))
        return e;
    lib::Result<Thread*> r = task::create_thread(c.task, c.a[0], c.a[1], c.a[2], c.a[3]);
    if (!r.ok())
        return r.error() == lib::Error::Busy ? -EAGAIN : to_errno(r.error());
    return long(r.value()->id);
}

// spawn, and spawn_ep with ep0: the endpoint the child gets as handle 0.
long spawn_common(Call& c, ipc::Endpoint* ep0)
{
    char name[SPAWN_NAME_MAX];
    lib::Result<size_t> n = vm::strncpy_from_user(name, c.a[0], sizeof name);
    if (!n.ok()) {
        if (ep0)
            ipc::drop(ep0);
        return to_errno(n.error());
    }
    {
        ksync::SpinGuard g(c.task->lock);
        if (c.task->nchildren >= MAX_CHILDREN) {
            if (ep0)
                ipc::drop(ep0);
            return -EAGAIN;
        }
        c.task->nchildren++; // held for the child while it is made
    }
    lib::Result<Task*> r = task::spawn(name, c.a[1], c.task, ep0);
    ksync::SpinGuard g(c.task->lock);
    if (!r.ok()) {
        c.task->nchildren--;
        return to_errno(r.error());
    }
    // The parent keeps the reference spawn() returned until it task_waits.
    c.task->children.push_back(*r.value());
    return long(r.value()->id);
}

long sys_spawn(Call& c) { return spawn_common(c, nullptr); }

long sys_spawn_ep(Call& c)
{
    if (c.a[2] >= IPC_HANDLES)
        return -EBADF;
    ipc::Endpoint* ep = ipc::take_ref(c.task, c.a[2]);
    if (!ep)
        return -EBADF;
    return spawn_common(c, ep);
}

long sys_ipc_create(Call& c) { return ipc::sys_create(c.task); }
long sys_ipc_destroy(Call& c) { return ipc::sys_destroy(c.task, c.a[0]); }
long sys_ipc_send(Call& c) { return ipc::sys_send(*c.tf, false); }
long sys_ipc_call(Call& c) { return ipc::sys_send(*c.tf, true); }
long sys_ipc_receive(Call& c) { return ipc::sys_receive(*c.tf); }
long sys_ipc_reply(Call& c) { return ipc::sys_reply(*c.tf); }
long sys_ipc_reply_receive(Call& c) { return ipc::sys_reply_receive(*c.tf); }

long sys_mmap(Call& c)
{
    uint64_t addr = c.a[0], len = c.a[1], prot = c.a[2];
    if (long e = sysarg::check_mmap(addr, len, prot))
        return e;
    if (addr) {
        lib::Status st = c.task->as.map_anon(addr, len, uint32_t(prot), TASK_MAX_PAGES);
        return st.ok() ? long(addr) : to_errno(st.error());
    }
    // Next free range in the mmap area, with a guard page between ranges.
    for (int tries = 0; tries < 64; tries++) {
        uint64_t at;
        {
            ksync::SpinGuard g(c.task->lock);
            at = c.task->mmap_next;
            if (at + len > vm::layout::USER_MMAP_END)
                at = vm::layout::USER_MMAP_BASE;
            c.task->mmap_next = at + len + PAGE_SIZE;
        }
        lib::Status st = c.task->as.map_anon(at, len, uint32_t(prot), TASK_MAX_PAGES);
        if (st.ok())
            return long(at);
        if (st.error() != lib::Error::Exists)
            return to_errno(st.error());
    }
    return -ENOMEM;
}

long sys_munmap(Call& c)
{
    if (long e = sysarg::check_munmap(c.a[0], c.a[1]))
        return e;
    return long(c.task->as.unmap(c.a[0], c.a[1]));
}

long sys_getpid(Call& c) { return long(c.task->id); }
long sys_gettid(Call& c) { return long(c.me->id); }

long sys_task_wait(Call& c)
{
    uint64_t timeout = c.a[1];
    if (long e = sysarg::check_sleep(timeout))
        return e;
    task::Ref child(task::take_child(c.task, c.a[0]));
    if (!child)
        return -ESRCH;
    uint64_t waited = 0;
    while (!child->done.load() && !c.task->exiting.load() && (!timeout || waited < timeout)) {
        (void)ksync::sleep_on(&child->done, nullptr, 10000, "task-wait");
        waited += 10000;
    }
    {
        ksync::SpinGuard g(c.task->lock);
        if (!child->done.load()) {
            // Still the parent's to wait for: back in the slot it kept meanwhile.
            c.task->children.push_back(*child.release());
            return -ETIMEDOUT;
        }
        c.task->nchildren--; // reaped: its slot is free
    }
    return child->exit_code;
}

// A parent ends a child it has not reaped, and everything under it (a kill
// ends one task; the child's own children would live on). It still reaps
// the child with task_wait.
long sys_task_kill(Call& c)
{
    task::Ref child;
    {
        ksync::SpinGuard g(c.task->lock);
        for (Task& t : c.task->children)
            if (t.id == c.a[0]) {
                t.refs.fetch_add(1, std::memory_order_relaxed); // the list's may go meanwhile
                child.reset(&t);
                break;
            }
    }
    if (!child)
        return -ESRCH;
    return long(task::kill_subtree(child.get(), EXIT_KILLED, "killed by its parent"));
}

using Handler = long (*)(Call&);
// In number order (user/abi.h).
constexpr Handler TABLE[SYS_COUNT] = {
    sys_exit,
    sys_thread_exit,
    sys_yield,
    sys_sleep,
    sys_write,
    sys_thread_create,
    sys_spawn,
    sys_mmap,
    sys_munmap,
    sys_getpid,
    sys_gettid,
    sys_task_wait,
    sys_task_kill,
};

// 32..SYS_IPC_LAST, in number order.
constexpr Handler IPC_TABLE[SYS_IPC_LAST - SYS_IPC_CREATE + 1] = {
    sys_ipc_create, sys_ipc_destroy, sys_ipc_send,  sys_ipc_receive,
    sys_ipc_call,   sys_ipc_reply,   sys_spawn_ep,  sys_ipc_reply_receive,
};

} // namespace

long dispatch(TrapFrame& tf)
{
    uint64_t nr = tf.x[16]; // a7
    Call c {thread::current(), thread::current()->task, &tf.x[9], &tf};
    g_total.fetch_add(1, std::memory_order_relaxed);
    c.task->syscalls.fetch_add(1, std::memory_order_relaxed);
    if (nr >= SYS_IPC_CREATE && nr <= SYS_IPC_LAST)
        return IPC_TABLE[nr - SYS_IPC_CREATE](c);
    if (nr >= SYS_COUNT || !TABLE[nr])
        return -ENOSYS;
    return TABLE[nr](c);
}

uint64_t total() { return g_total.load(); }

} // namespace kern::syscall
