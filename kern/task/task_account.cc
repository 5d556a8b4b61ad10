#include "kern/task/task_account.h"
#include "kern/arch/riscv/fpu.h"

#include "kern/task/ipc.h"
#include "kern/task/task.h"
#include "kern/sched/thread.h"
#include "kstack/layout.h"
#include "vm/kmem.h"
#include "vm/layout.h"

namespace kern::account {
namespace {

constexpr size_t pages_for(size_t bytes) { return (bytes + PAGE_SIZE - 1) / PAGE_SIZE; }

Limits g_limits {};
std::atomic<size_t> g_user_pages {0};

// Add n to c, refused (and undone) if that takes it over max.
bool add_within(std::atomic<size_t>& c, size_t n, size_t max)
{
    size_t now = c.fetch_add(n, std::memory_order_relaxed) + n;
    if (now <= max)
        return true;
    c.fetch_sub(n, std::memory_order_relaxed);
    return false;
}

Charges& of(Task* t) { return t->charges; }

} // namespace

void init()
{
    size_t ram = vm::kmem::total_pages();
    // A quarter of RAM stays the kernel's whatever user tasks do (its objects,
    // zone reserves, the paging path); a subtree (a task and what it spawned)
    // may have half of what users may have.
    g_limits.user_pages = ram - ram / 4;
    // A task: room for TASK_MAX_PAGES user pages and their overhead (tables,
    // threads, handles) on a large machine, an eighth of RAM on a small one.
    size_t task = ram / 8 < TASK_MAX_PAGES + 1024 ? ram / 8 : TASK_MAX_PAGES + 1024;
    // At least 8 MiB of user pages and their overhead, however small RAM is.
    constexpr size_t FLOOR = TASK_MAX_PAGES / 2 + 1024;
    g_limits.task_pages = task < FLOOR ? FLOOR : task;
    g_limits.subtree_pages = g_limits.user_pages / 2;
    g_limits.subtree_tasks = 64;
}

Limits defaults() { return g_limits; }
size_t user_pages() { return g_user_pages.load(std::memory_order_relaxed); }
// The FP context is charged with the thread although only a thread that uses
// FP gets one (kern/arch/riscv/fpu.h): its first FP instruction cannot fail
// for a charge.
size_t thread_pages()
{
    return kstack::STACK_PAGES + pages_for(sizeof(Thread)) + pages_for(sizeof(ipc::Record)) +
           pages_for(sizeof(FpContext));
}
size_t task_pages() { return pages_for(sizeof(Task)); }

lib::Status Charges::charge(size_t n)
{
    if (!add_within(pages, n, max_pages))
        return lib::Error::NoMemory;
    Task* at = task;
    for (; at; at = at->up)
        if (!add_within(of(at).subtree_pages, n, of(at).max_subtree_pages))
            break;
    if (!at && add_within(g_user_pages, n, g_limits.user_pages))
        return {};
    // Refused somewhere: undo what was added below `at`.
    for (Task* u = task; u != at; u = u->up)
        of(u).subtree_pages.fetch_sub(n, std::memory_order_relaxed);
    pages.fetch_sub(n, std::memory_order_relaxed);
    return lib::Error::NoMemory;
}

void Charges::uncharge(size_t n)
{
    pages.fetch_sub(n, std::memory_order_relaxed);
    for (Task* at = task; at; at = at->up)
        of(at).subtree_pages.fetch_sub(n, std::memory_order_relaxed);
    g_user_pages.fetch_sub(n, std::memory_order_relaxed);
}

lib::Status charge(Task* t, size_t n) { return of(t).charge(n); }
void uncharge(Task* t, size_t n) { of(t).uncharge(n); }

lib::Status enter(Task* t, Task* parent)
{
    Charges& c = of(t);
    c.max_pages = g_limits.task_pages;
    c.max_subtree_pages = g_limits.subtree_pages;
    c.max_subtree_tasks = g_limits.subtree_tasks;
    t->up = parent;
    Task* at = t;
    for (; at; at = at->up) {
        unsigned now = of(at).subtree_tasks.fetch_add(1, std::memory_order_relaxed) + 1;
        if (now > of(at).max_subtree_tasks) {
            of(at).subtree_tasks.fetch_sub(1, std::memory_order_relaxed);
            break;
        }
    }
    lib::Status st = at ? lib::Status(lib::Error::Busy) : charge(t, task_pages());
    if (st.ok()) {
        if (parent)
            parent->refs.fetch_add(1, std::memory_order_relaxed); // its counters outlive it for us
        return {};
    }
    for (Task* u = t; u != at; u = u->up)
        of(u).subtree_tasks.fetch_sub(1, std::memory_order_relaxed);
    t->up = nullptr;
    return st;
}

void leave(Task* t)
{
    uncharge(t, task_pages());
    for (Task* at = t; at; at = at->up)
        of(at).subtree_tasks.fetch_sub(1, std::memory_order_relaxed);
}

} // namespace kern::account
