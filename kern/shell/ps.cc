// Shell: ps (threads) and the thread statistics.
#include "kern/seam/cpu.h"
#include "kern/console/printf.h"
#include "kern/sched/sched.h"
#include "kern/shell/shell.h"
#include "kern/task/task.h"
#include "kern/shell/task_shell.h"
#include "kern/sched/thread.h"
#include "kern/arch/riscv/timer.h"
#include "kstack/kstack.h"

using namespace kern;

namespace {
void print_thread(Thread& t)
{
    const char* sstate = t.stack ? kstack::state_name(kstack::state(t.stack)) : "boot";
    size_t hw = t.stack ? kstack::high_water(t.stack) : 0;
    kprintf("%5lu %-16s %-9s %4u %4u  %-14s %6zu %-9s %5u ", t.id, t.name, state_name(t.state), t.hart, t.priority,
            t.state == ThreadState::Sleeping && t.wait_reason ? t.wait_reason : "-", hw, sstate,
            t.stack_holds.count());
    // Read racily: a user thread may be leaving its task right now.
    Task* task = t.task;
    if (task)
        kprintf("user, task %lu\n", task->id);
    else
        kprintf("kernel\n");
}
} // namespace

SHELL_COMMAND(ps, "", "threads: id, name, state, hart, priority, wait channel, stack high water, stack state, holds, "
                     "kernel or user (and its task); then user tasks: id, name, state, parent, threads, pages, "
                     "page-table pages, system calls, thread ids, how it ended")
{
    if (argc != 1)
        return 1;
    kprintf("%5s %-16s %-9s %4s %4s  %-14s %6s %-9s %5s %s\n", "id", "name", "state", "hart", "prio", "wait", "stack",
            "stack-st", "holds", "mode");
    thread::for_each(print_thread);
    kprintf("%lu threads; %lu created, %lu reaped since boot\n", thread::count(), thread::created_total(),
            thread::reaped_total());
    for (unsigned h = 0; h < cpu::count(); h++) {
        sched::HartStats s = sched::stats(h);
        kprintf("hart %u: %u queued, %lu switches (%lu to idle), %lu steals, running %s\n", h, s.queued, s.switches,
                s.idle_switches, s.steals, s.current ? s.current->name : "-");
    }
    task_shell::print_tasks();
    return 0;
}
