// kern/task/: user mode as the kernel sees it: tasks (here), system calls and
// the checks on every argument (syscall.h, sysarg.h), IPC endpoints (ipc.h),
// the programs embedded in the image (programs.h) and what each task is
// charged for (task_account.h). It builds on vm/ (address spaces, user
// copies), kern/sched (threads) and user/abi.h (the numbers, limits and errors
// shared with user programs). Nothing a task passes in is trusted: docs/user.md.
//
// User tasks: an address space (vm/uspace.h), its threads, a name and an id.
//
// A task is spawned from an embedded program by name (kern/task/programs.h): the
// ELF image is checked (lib/elf.h), its segments mapped and copied, a stack
// mapped, and a first thread started at the entry point. It ends when its
// last thread exits; exit() or a kill marks it so that every thread exits
// the next time it would return to user mode (a sleeping one is woken).
// User faults kill the task with a message naming task, thread, cause, pc and
// address, and the kernel goes on.
//
// Lifetime: reference counted. Each thread holds one; whoever spawned it
// (a kernel caller, or the parent task until it task_waits) holds one. The
// address space goes when the last thread exits; the Task object when the
// last reference goes.
#pragma once

#include "kern/task/ipc.h"
#include "kern/sync/spinlock.h"
#include "kern/task/task_account.h"
#include "kern/sched/thread.h"
#include "lib/function_ref.h"
#include "lib/list.h"
#include "lib/owned.h"
#include "lib/result.h"
#include "user/abi.h"
#include "vm/uspace.h"

#include <atomic>
#include <cstdint>

namespace kern {

struct Task {
    uint64_t id;
    char name[24];
    vm::uspace::AddressSpace as;
    ksync::SpinLock lock {"task"};
    lib::List<Thread, &Thread::task_node> threads; // under lock
    unsigned nthreads = 0;             // threads, and creations under way (under lock)
    unsigned max_threads = TASK_MAX_THREADS; // create_thread's limit (under lock; tests may change it)
    std::atomic<bool> exiting {false}; // exit() or kill: threads leave at their next return to user
    bool exit_set = false;             // exit_code and why are final (under lock)
    int exit_code = 0;
    char why[160] = {};                // how it ended, for ps and tests
    std::atomic<bool> done {false};    // every thread gone, address space freed
    std::atomic<int> refs {1};
    uint64_t parent = 0;               // id of the task that spawned it (0: the kernel)
    uintptr_t mmap_next = 0;           // where mmap(0, ...) looks next
    std::atomic<uint64_t> syscalls {0};
    lib::ListNode all_node;
    lib::ListNode child_node;          // the parent's unreaped children
    lib::List<Task, &Task::child_node> children; // under lock
    unsigned nchildren = 0;
    ipc::TaskIpc ipc;                  // endpoint handles and reply caps (kern/task/ipc.h)
    // What it makes the kernel spend (kern/task/task_account.h). `up` is the task
    // that spawned it, held by a reference until this one is freed, so the
    // charges of a subtree always have somewhere to go.
    Task* up = nullptr;
    account::Charges charges {this};
    bool accounted = false;            // account::enter() done
};

namespace task {

void init();

// Spawn `program` with a0 = arg for its first thread. The caller gets a
// reference (put() it; wait() first for the exit code). A bad image is an
// error (Invalid) with a one-line reason printed.
// ep0, if given, becomes the child's IPC handle 0 (its reference moves to the
// child, or is dropped if the spawn fails).
[[nodiscard]] lib::Result<Task*> spawn(const char* program, uint64_t arg, Task* parent = nullptr,
                                       ipc::Endpoint* ep0 = nullptr);
// The same from an image in memory (tests: corrupted copies).
[[nodiscard]] lib::Result<Task*> spawn_image(const char* name, const uint8_t* image, size_t size, uint64_t arg,
                                             Task* parent = nullptr, ipc::Endpoint* ep0 = nullptr);
void put(Task* t);
// One reference on a task, put() when its owner goes unless release()d.
struct RefTraits {
    using Handle = Task*;
    static constexpr Handle null = nullptr;
    static void free(Task* t) { put(t); }
};
using Ref = lib::Owned<RefTraits>;
// Wait until the task is done (timeout_us 0: forever). TimedOut otherwise.
[[nodiscard]] lib::Status wait(Task* t, uint64_t timeout_us = 0);
// Kill: exit code `code`, `why` recorded and printed. First ending wins:
// false (and nothing printed) if the task's end was already decided.
bool kill(Task* t, int code, const char* why);
// Kill root and every task it spawned, directly or not (a kill ends one
// task: its children live on otherwise). Returns how many this call decided.
unsigned kill_subtree(Task* root, int code, const char* why);
// A new thread in t entering user mode at entry with sp, a0 = arg, a1 = arg2.
[[nodiscard]] lib::Result<Thread*> create_thread(Task* t, uint64_t entry, uint64_t sp, uint64_t arg,
                                                 uint64_t arg2 = 0);
// The current user thread leaves (the task ends with its last thread).
[[noreturn]] void exit_thread(int code);
// Record the task's exit code if none is yet and make every thread leave.
// Returns whether this call decided the exit code.
bool set_exit(Task* t, int code, const char* why);

// By id, with a reference; nullptr if none.
Task* find(uint64_t id);
// A child of parent by id, unlinked from parent's children (task_wait). Its
// slot in nchildren stays taken: the caller either puts it back on the list
// or, once it is reaped, gives the slot back (so a timed-out task_wait can
// always put it back without passing the limit).
Task* take_child(Task* parent, uint64_t id);
void for_each(lib::FunctionRef<void(Task&)> fn);
uint64_t count();         // tasks not yet freed
uint64_t spawned_total();

} // namespace task
} // namespace kern
