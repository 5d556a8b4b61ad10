// User tasks against the kernel's resources: waits for memory from a system
// call are bounded and end on a kill; the thread limit holds under races;
// a kill ends every thread however they wait; what tasks make the kernel
// spend is charged and bounded (docs/user.md, "Limits and waiting for
// memory"). Explicit tests (they hoard all memory or take seconds): the
// virt-limits-* boots of test/run_all.py run them, on 1 and 4 harts.
#include "kern/task/ipc.h"
#include "test/kernel/ktest.h"
#include "kern/console/printf.h"
#include "kern/sched/sched.h"
#include "kern/task/task.h"
#include "kern/task/task_account.h"
#include "kern/sched/thread.h"
#include "kern/arch/riscv/timer.h"
#include "kstack/kstack.h"
#include "lib/string.h"
#include "user/abi.h"
#include "vm/kmem.h"
#include "vm/uspace.h"

using namespace kern;

namespace {

constexpr uint64_t MEMHOG_HOLD = 1ul << 32; // user/progs/memhog.cc

// Pages enough to spawn a task (its objects, root table, text and stack).
constexpr size_t SPAWN_PAGES = 256;

// Every Normal page there is, linked through the pages themselves. take()
// tops it up (the pagedaemon frees some by swapping stacks out meanwhile).
struct Hoard {
    uint64_t head = 0;
    size_t n = 0;
    void take()
    {
        for (;;) {
            lib::Result<uint64_t> pa = vm::kmem::alloc_page(vm::kmem::Class::Normal, false);
            if (!pa.ok())
                return;
            *static_cast<uint64_t*>(vm::kmem::phys_to_virt(pa.value())) = head;
            head = pa.value();
            n++;
        }
    }
    // Give back n pages (enough to spawn a task), keep the rest.
    void release(size_t keep_free)
    {
        for (; head && keep_free; keep_free--) {
            uint64_t next = *static_cast<uint64_t*>(vm::kmem::phys_to_virt(head));
            vm::kmem::free_page(head);
            head = next;
            n--;
        }
    }
    void release()
    {
        while (head) {
            uint64_t next = *static_cast<uint64_t*>(vm::kmem::phys_to_virt(head));
            vm::kmem::free_page(head);
            head = next;
            n--;
        }
    }
    ~Hoard() { release(); }
};

// Wait up to timeout_us for tk to end, keeping the hoard full. Whether it ended.
bool wait_hoarding(Task* tk, Hoard& h, uint64_t timeout_us)
{
    uint64_t t0 = timer::now_us();
    while (timer::now_us() - t0 < timeout_us) {
        h.take();
        if (task::wait(tk, 5000).ok())
            return true;
    }
    return false;
}

// Whether a thread of tk sleeps waiting for pages (vm/kmem.cc's queue).
bool in_memory_wait(Task* tk)
{
    ksync::SpinGuard g(tk->lock);
    for (Thread& th : tk->threads)
        if (th.state == ThreadState::Sleeping && th.wait_reason && strcmp(th.wait_reason, "memwait") == 0)
            return true;
    return false;
}

// Ends tk whatever state it is in (memory given back first) and drops it.
void finish(Task* tk, Hoard& h)
{
    h.release();
    task::kill(tk, EXIT_KILLED, "ktest cleanup");
    (void)task::wait(tk);
    task::put(tk);
}

// Wait (up to 5 s) for tasks earlier tests left to end on their own (a
// parent's sleepers outlive it), so a baseline is taken with none running.
void settle()
{
    for (int i = 0; i < 500 && task::count() != 0; i++)
        sched::sleep_us(10000);
}

Task* spawn_checked(ktest::Context& t, const char* program, uint64_t arg)
{
    lib::Result<Task*> r = task::spawn(program, arg);
    if (!r.ok()) {
        t.failf("%s: spawn failed: %s", program, lib::error_name(r.error()));
        return nullptr;
    }
    return r.value();
}

// Take every page but what it takes to start memhog, which then maps the rest.
Task* start_memhog(ktest::Context& t, Hoard& h, uint64_t arg = 0)
{
    h.take();
    h.release(SPAWN_PAGES);
    return spawn_checked(t, "memhog", arg);
}

} // namespace

// With no page to be had, an mmap gives up within the bound (memwait_ms,
// one second by default) with ENOMEM instead of waiting forever.
KTEST_EXPLICIT(limits_mmap_bounded)
{
    Hoard h;
    Task* tk = start_memhog(t, h);
    if (!tk)
        return;
    uint64_t fails0 = vm::kmem::memory_wait_failures();
    uint64_t t0 = timer::now_us();
    bool ended = wait_hoarding(tk, h, 3 * vm::kmem::memwait_us());
    uint64_t took = timer::now_us() - t0;
    int code = tk->exit_code;
    kprintf("ktest: memhog with %zu pages hoarded: %s after %lu ms, code %d\n", h.n,
            ended ? "ended" : "still waiting", took / 1000, code);
    finish(tk, h);
    KEXPECT(ended);
    KEXPECT_EQ(code, ENOMEM);
    KEXPECT(vm::kmem::memory_wait_failures() > fails0);
}

// A kill ends a thread's wait for memory at once, well before the bound.
KTEST_EXPLICIT(limits_kill_memwait)
{
    Hoard h;
    Task* tk = start_memhog(t, h);
    if (!tk)
        return;
    bool waiting = false;
    for (uint64_t t0 = timer::now_us(); !waiting && timer::now_us() - t0 < 2000000;) {
        h.take();
        sched::sleep_us(1000);
        waiting = in_memory_wait(tk);
    }
    uint64_t t0 = timer::now_us();
    task::kill(tk, EXIT_KILLED, "killed by ktest");
    bool ended = wait_hoarding(tk, h, 2000000);
    uint64_t took = timer::now_us() - t0;
    kprintf("ktest: memhog waiting for pages ended %lu ms after the kill\n", took / 1000);
    finish(tk, h);
    KEXPECT(waiting);
    KEXPECT(ended);
    if (ended && took > 300000)
        t.failf("the kill took %lu us to end the wait", took);
}

// 200 thread creations race at the thread limit from four threads while
// pages trickle in: exactly the limit is reached, never more.
KTEST_EXPLICIT(limits_thread_race)
{
    Hoard h;
    h.take();
    // Cached kernel stacks taken too, so every creation builds one and waits
    // for its page: the window in which racing creations could all pass the
    // limit check.
    constexpr size_t MAX_STACKS = 512;
    static kstack::Stack* stacks[MAX_STACKS];
    size_t nstacks = 0;
    while (nstacks < MAX_STACKS) {
        lib::Result<kstack::Stack*> s = kstack::alloc(false);
        if (!s.ok())
            break;
        stacks[nstacks++] = s.value();
    }
    h.take();
    h.release(SPAWN_PAGES + 220); // threadrace's 204 thread stacks are in its image
    Task* tk = spawn_checked(t, "threadrace", 50000);
    if (!tk) {
        for (size_t i = 0; i < nstacks; i++)
            kstack::free(stacks[i]);
        return;
    }
    h.take(); // what the spawn left: it starts racing 50 ms from now
    uint64_t waits0 = vm::kmem::memory_waits();
    unsigned most = 0;
    bool ended = false;
    for (uint64_t t0 = timer::now_us(); !ended && timer::now_us() - t0 < 30000000;) {
        // Pages in bursts: the creators all wait for memory in between, each
        // past the limit check, and a burst lets several finish at once.
        h.release(8);
        sched::sleep_us(20000);
        ended = tk->done.load(std::memory_order_acquire);
        unsigned n;
        {
            ksync::SpinGuard g(tk->lock);
            n = unsigned(tk->threads.size());
        }
        most = n > most ? n : most;
    }
    int code = tk->exit_code;
    uint64_t waits = vm::kmem::memory_waits() - waits0;
    kprintf("ktest: threadrace under pressure (%zu cached stacks taken, %lu waits for pages): exit code %d, at "
            "most %u threads seen\n",
            nstacks, waits, code, most);
    finish(tk, h);
    for (size_t i = 0; i < nstacks; i++)
        kstack::free(stacks[i]);
    KEXPECT(ended);
    KEXPECT_EQ(code, 0);
    KEXPECT(most <= TASK_MAX_THREADS);
    KEXPECT(waits > 0); // it did run short of memory
}

// A kill ends a task with more threads blocked in IPC than the default
// thread limit (the limit raised for the test): every one returns -EINTR.
KTEST_EXPLICIT(limits_ipc_kill)
{
    constexpr unsigned THREADS = TASK_MAX_THREADS + 36;
    Task* tk = spawn_checked(t, "ipcblock", 100000);
    if (!tk)
        return;
    {
        ksync::SpinGuard g(tk->lock);
        tk->max_threads = THREADS; // before it creates any (it sleeps 100 ms first)
    }
    unsigned blocked = 0;
    for (uint64_t t0 = timer::now_us(); blocked < THREADS && timer::now_us() - t0 < 10000000;) {
        sched::sleep_us(10000);
        ksync::SpinGuard g(tk->lock);
        blocked = 0;
        for (Thread& th : tk->threads)
            if (th.state == ThreadState::Sleeping && th.wait_reason && strcmp(th.wait_reason, "ipc-recv") == 0)
                blocked++;
    }
    uint64_t t0 = timer::now_us();
    task::kill(tk, EXIT_KILLED, "killed by ktest");
    // Each exit frees a kernel stack (a TLB shootdown of every hart): allow
    // for a slow host with four harts.
    bool ended = task::wait(tk, 30000000).ok();
    uint64_t took = timer::now_us() - t0;
    unsigned left = tk->nthreads;
    kprintf("ktest: ipcblock: %u threads blocked in IPC, %s %lu ms after the kill (%u left)\n", blocked,
            ended ? "ended" : "still exiting", took / 1000, left);
    if (!ended) {
        // Left asleep: end them the way the test cannot count on the kill to.
        bool gone = false;
        for (int i = 0; i < 100 && !gone; i++) {
            ipc::wake_task(tk);
            gone = task::wait(tk, 10000).ok();
        }
        (void)task::wait(tk);
    }
    task::put(tk);
    KEXPECT_EQ(blocked, THREADS);
    KEXPECT(ended);
}

namespace {

} // namespace

// A page-table bloater (one page per 2 MiB region) is stopped by its charge,
// page tables included, and everything charged comes back when it ends.
KTEST_EXPLICIT(limits_ptbloat)
{
    settle();
    size_t user0 = account::user_pages();
    Task* tk = spawn_checked(t, "ptbloat", 1);
    if (!tk)
        return;
    // It sleeps once refused: wait for its page count to settle.
    size_t last = ~size_t(0);
    for (int i = 0; i < 400 && tk->as.pages() != last; i++) {
        last = tk->as.pages();
        sched::sleep_us(50000);
    }
    size_t pages = tk->as.pages(), tables = tk->as.table_pages(), charged = tk->charges.pages.load();
    size_t max = tk->charges.max_pages;
    kprintf("ktest: ptbloat holds %zu user pages and %zu page-table pages; charged %zu of %zu\n", pages, tables,
            charged, max);
    task::kill(tk, EXIT_KILLED, "killed by ktest");
    KEXPECT(task::wait(tk, 10000000).ok());
    task::put(tk);
    KEXPECT(pages + tables + 1 <= max); // and the root
    KEXPECT(charged >= pages + tables + 1 + account::thread_pages() + account::task_pages());
    KEXPECT_EQ(account::user_pages(), user0);
}

// A fork bomb is bounded by its subtree's task limit (EAGAIN), and killing
// the subtree gives every task and page back.
KTEST_EXPLICIT(limits_forkbomb)
{
    settle();
    size_t user0 = account::user_pages();
    uint64_t tasks0 = task::count();
    Task* tk = spawn_checked(t, "forkbomb", 3);
    if (!tk)
        return;
    unsigned last = 0;
    for (int i = 0; i < 100; i++) {
        sched::sleep_us(50000);
        unsigned n = tk->charges.subtree_tasks.load();
        if (i > 10 && n == last)
            break;
        last = n;
    }
    unsigned n = tk->charges.subtree_tasks.load();
    size_t sub = tk->charges.subtree_pages.load();
    kprintf("ktest: forkbomb subtree: %u tasks (limit %u), %zu pages (limit %zu)\n", n,
            tk->charges.max_subtree_tasks, sub, tk->charges.max_subtree_pages);
    KEXPECT(n <= tk->charges.max_subtree_tasks);
    KEXPECT(n >= 17); // it did reach past one level
    (void)task::kill_subtree(tk, EXIT_KILLED, "subtree killed by ktest");
    KEXPECT(task::wait(tk, 10000000).ok());
    task::put(tk);
    // The others end on their own (their parents reaped nothing: they are
    // released when each parent ends).
    for (int i = 0; i < 200 && task::count() != tasks0; i++)
        sched::sleep_us(50000);
    KEXPECT_EQ(task::count(), tasks0);
    KEXPECT_EQ(account::user_pages(), user0);
}

namespace {
// program(arg) ends by itself within timeout_us with exit code 0.
void expect_exit_0(ktest::Context& t, const char* program, uint64_t arg, uint64_t timeout_us)
{
    Task* tk = spawn_checked(t, program, arg);
    if (!tk)
        return;
    bool ended = task::wait(tk, timeout_us).ok();
    int code = tk->exit_code;
    if (!ended) {
        task::kill(tk, EXIT_KILLED, "ktest timeout");
        (void)task::wait(tk);
    }
    task::put(tk);
    KEXPECT(ended);
    KEXPECT_EQ(code, 0);
}
} // namespace

// task_wait's timeout puts the child back in the slot it kept, so the
// parent can never have more than its limit of children.
KTEST_EXPLICIT(limits_wait_slot)
{
    expect_exit_0(t, "limitsmisc", 1, 20000000);
}

// A polled call a server took but never answers ends (ETIMEDOUT) rather
// than waiting for the reply forever.
KTEST_EXPLICIT(limits_poll_call)
{
    expect_exit_0(t, "limitsmisc", 2, IPC_TIMEOUT_MAX + 5000000);
}

// A kill at any moment around a sleep syscall wakes the sleeper: the check
// of `exiting` and the sleep are one step under the task lock.
KTEST_EXPLICIT(limits_sleep_kill)
{
    unsigned slow = 0;
    for (unsigned i = 0; i < 60; i++) {
        Task* tk = spawn_checked(t, "sleeper", 0); // 10 s
        if (!tk)
            return;
        sched::sleep_us((i % 20) * 150); // kills landing before, in and after the sleep's start
        uint64_t t0 = timer::now_us();
        task::kill(tk, EXIT_KILLED, "killed by ktest");
        bool ended = task::wait(tk, 3000000).ok();
        if (!ended || timer::now_us() - t0 > 2000000)
            slow++;
        if (!ended)
            (void)task::wait(tk);
        task::put(tk);
    }
    KEXPECT_EQ(slow, 0u);
}

namespace {
struct TreeState {
    unsigned tasks = 0, busy = 0, exiting = 0;
};

// Tasks, those not yet asleep for good (running or waiting for pages), and
// those exiting.
TreeState tree_state()
{
    TreeState s;
    task::for_each([&s](Task& t) {
        s.tasks++;
        if (t.exiting.load() && !t.done.load())
            s.exiting++;
        ksync::SpinGuard g(t.lock);
        for (Thread& th : t.threads)
            if (th.state != ThreadState::Sleeping || !th.wait_reason || strcmp(th.wait_reason, "usleep") != 0) {
                s.busy++;
                break;
            }
    });
    return s;
}
} // namespace

// 33 tasks each mapping all they may: every loop ends within a few seconds
// (memory or ENOMEM), and after the kill free memory is back within 10% and
// no task is left exiting.
KTEST_EXPLICIT(limits_hogtree)
{
    settle();
    uint64_t free0 = vm::kmem::free_pages();
    size_t user0 = account::user_pages();
    Task* tk = spawn_checked(t, "hogtree", 2);
    if (!tk)
        return;
    TreeState s;
    uint64_t t0 = timer::now_us(), last_pages = 0;
    // Done when all 33 sleep for good and user pages stopped growing (each
    // sleeps half a second before it maps: that sleep must not count).
    for (; timer::now_us() - t0 < 20000000;) {
        sched::sleep_us(100000);
        s = tree_state();
        uint64_t pages = vm::uspace::total_pages();
        bool still = pages == last_pages;
        last_pages = pages;
        if (s.tasks == 33 && s.busy == 0 && still && account::user_pages() > 33 * 64)
            break;
    }
    uint64_t took = timer::now_us() - t0;
    uint64_t free_full = vm::kmem::free_pages();
    kprintf("ktest: hogtree: %u tasks, %u still mapping after %lu ms; free pages %lu (from %lu), user charged %zu of "
            "%zu\n",
            s.tasks, s.busy, took / 1000, free_full, free0, account::user_pages(), account::defaults().user_pages);
    (void)task::kill_subtree(tk, EXIT_KILLED, "killed by ktest");
    bool ended = task::wait(tk, 30000000).ok();
    task::put(tk);
    for (int i = 0; i < 3000 && task::count() != 0; i++)
        sched::sleep_us(10000);
    TreeState after = tree_state();
    uint64_t free1 = vm::kmem::free_pages();
    kprintf("ktest: hogtree killed: %u tasks left (%u exiting), free pages %lu (before %lu)\n", after.tasks,
            after.exiting, free1, free0);
    KEXPECT_EQ(s.tasks, 33u);
    KEXPECT_EQ(s.busy, 0u);
    KEXPECT(took < 10000000);
    KEXPECT(ended);
    KEXPECT_EQ(after.tasks, 0u);
    KEXPECT(free1 * 10 >= free0 * 9);
    KEXPECT_EQ(account::user_pages(), user0);
}

// The hostile programs killed by their parent (task_kill) and reaped: after
// them tasks, charges, endpoints, IPC records and user pages are back.
KTEST_EXPLICIT(limits_parent_kills)
{
    settle();
    size_t user0 = account::user_pages();
    uint64_t eps0 = ipc::endpoints(), recs0 = ipc::records(), upages0 = vm::uspace::total_pages();
    expect_exit_0(t, "parentkill", 0, 60000000);
    settle();
    KEXPECT_EQ(task::count(), 0u);
    KEXPECT_EQ(account::user_pages(), user0);
    KEXPECT_EQ(ipc::endpoints(), eps0);
    KEXPECT_EQ(ipc::records(), recs0);
    KEXPECT_EQ(vm::uspace::total_pages(), upages0);
}
