// What user tasks make the kernel spend, charged in pages (docs/user.md,
// "Limits and waiting for memory").
//
// Every page a task causes is charged to it and to the subtree of every
// ancestor (the task that spawned it, that one's parent, ...): its user pages
// and page tables (through vm::uspace::PageAccount), a fixed cost per thread
// (its whole kernel stack, its Thread object, IPC record and FP context), per endpoint
// handle it holds and for the Task itself. A charge is refused (NoMemory) when
// it would take the task over its own limit, any ancestor's subtree over its
// limit, or all user tasks together over the user share of RAM, which keeps
// the rest for the kernel and its paging path whatever user tasks do. Tasks
// in a subtree are bounded too (Busy, EAGAIN to the user). The charges are
// made before the memory is taken and undone when it is given back; a task's
// own charge is zero once it is freed.
#pragma once

#include "lib/result.h"
#include "vm/uspace.h"

#include <atomic>
#include <cstddef>
#include <cstdint>

namespace kern {

struct Task;

namespace account {

// A task's charges and limits. Counters are atomics: charges never take a lock.
struct Charges final : vm::uspace::PageAccount {
    explicit Charges(Task* owner) : task(owner) {}
    Task* task;
    std::atomic<size_t> pages {0};          // charged to this task itself
    std::atomic<size_t> subtree_pages {0};  // itself and every descendant
    std::atomic<unsigned> subtree_tasks {0}; // itself and every live descendant
    size_t max_pages = 0, max_subtree_pages = 0;
    unsigned max_subtree_tasks = 0;

    [[nodiscard]] lib::Status charge(size_t n) override;
    void uncharge(size_t n) override;
};

struct Limits {
    size_t task_pages;      // one task
    size_t subtree_pages;   // a task and its descendants
    unsigned subtree_tasks; // tasks in a subtree
    size_t user_pages;      // all user tasks together
};

// Boot, once RAM is known: the defaults from it.
void init();
[[nodiscard]] Limits defaults();
// Pages charged to all user tasks now.
[[nodiscard]] size_t user_pages();

// Fixed costs, in pages.
[[nodiscard]] size_t thread_pages();
constexpr size_t ENDPOINT_PAGES = 1; // an endpoint handle held (kern/task/ipc.cc checks the size)
[[nodiscard]] size_t task_pages();

// A new task t under parent (nullptr: the kernel's): its limits set, it
// counted in every subtree up the chain and its own cost charged. Busy when
// a subtree holds its limit of tasks, NoMemory when the pages are refused.
[[nodiscard]] lib::Status enter(Task* t, Task* parent);
// Undo enter() (the task is being freed; everything else is uncharged).
void leave(Task* t);

[[nodiscard]] lib::Status charge(Task* t, size_t n);
void uncharge(Task* t, size_t n);

} // namespace account
} // namespace kern
