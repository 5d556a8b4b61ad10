// Shell: the user side. `ps` lists tasks next to threads (kern/shell/ps.cc calls
// print_tasks); `kill ID` ends a task; `spawn NAME [ARG]` starts a program.
#include "kern/console/printf.h"
#include "kern/task/programs.h"
#include "kern/sched/sched.h"
#include "kern/shell/shell.h"
#include "kern/task/syscall.h"
#include "kern/task/task.h"
#include "kern/shell/task_shell.h"
#include "lib/string.h"
#include "user/abi.h"
#include "vm/kmem.h"

using namespace kern;

namespace {

bool parse_id(const char* s, uint64_t& out)
{
    uint64_t v = 0;
    if (!*s)
        return false;
    for (; *s; s++) {
        if (*s < '0' || *s > '9' || v > (~0ull - 9) / 10)
            return false;
        v = v * 10 + uint64_t(*s - '0');
    }
    out = v;
    return true;
}

void print_task(Task& t)
{
    const char* state = t.done.load() ? "done" : t.exiting.load() ? "exiting" : "running";
    const account::Charges& c = t.charges;
    kprintf("%5lu %-16s %-8s %6lu %7u %6zu %4zu %6zu/%-6zu %6zu/%-6zu %3u/%-3u %10lu  ", t.id, t.name, state,
            t.parent, t.nthreads, t.as.pages(), t.as.table_pages(), c.pages.load(), c.max_pages,
            c.subtree_pages.load(), c.max_subtree_pages, c.subtree_tasks.load(), c.max_subtree_tasks,
            t.syscalls.load());
    // Threads by id (under the task lock: they may be exiting).
    ksync::SpinGuard g(t.lock);
    unsigned n = 0;
    for (Thread& th : t.threads)
        kprintf("%s%lu", n++ ? "," : "", th.id);
    if (t.exit_set)
        kprintf("%s(%s)", n ? " " : "", t.why);
    kprintf("\n");
}

} // namespace

namespace kern::task_shell {

void print_tasks()
{
    kprintf("%5s %-16s %-8s %6s %7s %6s %4s %13s %13s %7s %10s  %s\n", "task", "name", "state", "parent", "threads",
            "pages", "pt", "charged/max", "subtree/max", "tasks", "syscalls", "thread ids");
    task::for_each(print_task);
    account::Limits l = account::defaults();
    kprintf("user tasks charged %zu of %zu pages (their share of RAM); defaults: %zu a task, %zu a subtree, %u tasks "
            "a subtree\n",
            account::user_pages(), l.user_pages, l.task_pages, l.subtree_pages, l.subtree_tasks);
    kprintf("%lu tasks; %lu spawned since boot, %lu system calls, ASIDs %s\n", task::count(), task::spawned_total(),
            syscall::total(), vm::uspace::asid_bits() ? "on" : "off (flush on switch)");
}

} // namespace kern::task_shell

SHELL_COMMAND(kill, "<task id> | -t <task id>",
              "end a user task (its threads leave at their next return to user mode); -t: and every task it spawned")
{
    uint64_t id;
    bool tree = argc == 3 && strcmp(argv[1], "-t") == 0;
    if (argc != 2 + tree || !parse_id(argv[1 + tree], id))
        return 1;
    Task* t = task::find(id);
    if (!t) {
        kprintf("kill: no task %s\n", argv[1 + tree]);
        return 0;
    }
    if (tree)
        kprintf("kill: %u tasks killed\n", task::kill_subtree(t, EXIT_KILLED, "killed from the shell"));
    else if (t->done.load() || !task::kill(t, EXIT_KILLED, "killed from the shell"))
        kprintf("kill: task %lu (%s) is already ending (%s)\n", t->id, t->name, t->why);
    task::put(t);
    return 0;
}

namespace {
uint64_t g_free_baseline;
} // namespace

SHELL_COMMAND(memcheck, "set | <percent>",
              "set: remember free pages now; <percent>: once no task is exiting (up to a minute), compare free pages "
              "with that (within the percent?)")
{
    if (argc != 2)
        return 1;
    uint64_t free = vm::kmem::free_pages();
    if (strcmp(argv[1], "set") == 0) {
        g_free_baseline = free;
        kprintf("memcheck: baseline %lu free pages\n", free);
        return 0;
    }
    uint64_t pct;
    if (!parse_id(argv[1], pct))
        return 1;
    // Killed tasks take a moment to end (each frees its address space with
    // TLB shootdowns of every hart): up to a minute for none to be
    // left exiting.
    unsigned exiting = 0;
    for (int i = 0; i < 600; i++) {
        exiting = 0;
        task::for_each([&](Task& t) { exiting += t.exiting.load() && !t.done.load(); });
        if (!exiting)
            break;
        sched::sleep_us(100000);
    }
    free = vm::kmem::free_pages();
    bool within = free * 100 >= g_free_baseline * (100 - pct);
    kprintf("memcheck: %lu free pages, baseline %lu: %s %lu%%; %lu tasks, %u exiting; user tasks charged %zu pages\n",
            free, g_free_baseline, within ? "within" : "NOT within", pct, task::count(), exiting,
            account::user_pages());
    return 0;
}

SHELL_COMMAND(spawn, "<program> [arg]", "start a user program (embedded in the kernel) as a new task; no name lists them")
{
    if (argc < 2) {
        kprintf("programs:");
        for (size_t i = 0; i < programs::count(); i++)
            kprintf(" %s", programs::at(i).name);
        kprintf("\n");
        return 0;
    }
    uint64_t arg = 0;
    if (argc > 3 || (argc == 3 && !parse_id(argv[2], arg)))
        return 1;
    lib::Result<Task*> r = task::spawn(argv[1], arg);
    if (!r.ok()) {
        kprintf("spawn: %s: %s\n", argv[1], r.error() == lib::Error::NotFound ? "no such program" : lib::error_name(r.error()));
        return 0;
    }
    kprintf("spawn: task %lu (%s)\n", r.value()->id, r.value()->name);
    task::put(r.value()); // it runs on; ps shows it until it ends
    return 0;
}
