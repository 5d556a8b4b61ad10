// Kernel threads.
//
// A thread is a Thread object (from a kmalloc_obj zone: type-stable, so a
// stale pointer still points at a Thread) plus a kernel stack (kstack/). Its
// life: Embryo -> Runnable <-> Running -> Sleeping -> ... -> Dead -> reaped.
// Lock order and the sleep/wakeup protocol are in docs/locking.md.
#pragma once

#include "kern/arch/riscv/trap.h"
#include "kern/sync/lockorder.h"
#include "kstack/hold.h"
#include "kstack/kstack.h"
#include "lib/function_ref.h"
#include "lib/list.h"
#include "lib/result.h"

#include <atomic>
#include <cstddef>
#include <cstdint>

namespace kstack {
struct Stack;
}

namespace kern {

struct Task;
struct FpContext;
namespace ipc {
struct Record;
}

// What a thread off its hart keeps of its registers: only sp. switch_context
// (kern/arch/riscv/switch.S) pushes ra and s0-s11 on the thread's own stack, in
// a SwitchFrame at sp, and pops them when it switches back: they go out to
// swap with the stack instead of staying resident in every Thread (docs/swap.md).
//
// A thread that resumes anywhere but in its own switch has no frame: a new
// thread (thread_trampoline), one parked from a trap (overflow_resume), one
// asleep in the IPC fast path (ipc_resume). sp is 16-byte aligned, so its low
// bits say which (Resume); switch_context goes there with sp as saved.
struct Context {
    uint64_t sp; // | Resume
};
static_assert(sizeof(Context) == 8);

// What switch_context pushes: ra and s0-s11, padded to keep sp 16-byte aligned.
struct SwitchFrame {
    uint64_t ra, s[12], pad;
};
static_assert(sizeof(SwitchFrame) == 14 * 8, "kern/arch/riscv/switch.S pushes 14 words");

// Where a thread with no SwitchFrame resumes; the values are switch.S's.
enum class Resume : uint64_t {
    Frame = 0,  // in its own switch_context: pop the SwitchFrame at sp
    Start = 1,  // thread_trampoline: a new thread (thread::set_entry)
    Parked = 2, // overflow_resume: parked from a trap (sched::park_from_trap)
    Ipc = 3,    // ipc_resume: asleep in the IPC fast path, sp = its trap frame
};
constexpr uint64_t RESUME_MASK = 15;
[[nodiscard]] constexpr uint64_t resume_at(uint64_t sp, Resume r) { return (sp & ~RESUME_MASK) | uint64_t(r); }
[[nodiscard]] constexpr Resume resume_of(const Context& c) { return Resume(c.sp & RESUME_MASK); }
[[nodiscard]] constexpr uint64_t saved_sp(const Context& c) { return c.sp & ~RESUME_MASK; }
constexpr size_t THREAD_STACK_LIMIT_OFFSET = 8; // kern/arch/riscv/switch.S loads it there

enum class ThreadState : uint8_t {
    Embryo,   // created, not yet started
    Runnable, // on a run queue
    Running,  // on a hart
    Sleeping, // waiting on a wait queue, a channel or a timeout
    Dead,     // exited; waiting for the reaper
};

const char* state_name(ThreadState s);

enum ThreadFlags : uint8_t {
    TF_IDLE = 1u << 0,    // a hart's idle thread: never on a run queue
    TF_SYSTEM = 1u << 1,  // kernel service thread (pagedaemon, swapper, reaper)
    TF_NO_SWAP = 1u << 2, // its stack must never be swapped out
    TF_BOUND = 1u << 3,   // never migrated off its hart
    // Its stack is fully mapped at creation and never grows: the paging
    // threads (pagedaemon, emergency pager, swapper), the reaper and the idle
    // threads, which must run at zero free pages (docs/kstack.md).
    TF_FULL_STACK = 1u << 4,
};

// Exit code of a thread killed because its swapped-out kernel stack could not
// be read back (kstack/swapin.cc).
constexpr int EXIT_STACK_LOST = -74; // -EBADMSG, for the reader who thinks in errno

constexpr int PRIO_LEVELS = 32;
constexpr int PRIO_HIGHEST = 0;
constexpr int PRIO_SYSTEM = 4;
constexpr int PRIO_DEFAULT = 16;
constexpr int PRIO_IDLE = PRIO_LEVELS - 1;

struct Thread {
    Context ctx;              // first: switch_context's argument
    // Lowest usable address of its stack (the mapped part: stacks grow on
    // demand). switch_context copies it into the hart's HartLocal.stack_limit
    // in the same instruction sequence that switches sp, so trap entry never
    // compares one thread's sp with another's limit (kern/arch/riscv/switch.S).
    uint64_t stack_limit;
    uint64_t id;
    char name[24];
    // The small fields together, so that no padding stays resident for every
    // swapped thread (docs/swap.md): 24 bytes.
    ThreadState state;
    uint8_t priority;
    uint8_t flags;            // ThreadFlags
    std::atomic<bool> on_cpu; // true from switch-in until the switch-out completes
    bool wait_timed_out;      // its last timed sleep ended by the deadline
    bool joinable;
    std::atomic<bool> exited;
    std::atomic<bool> joining; // join() is waiting for it: its exit goes straight to the joiner
    unsigned hart;            // run queue it is on, or last ran on
    uint32_t slice_left;      // timer ticks left in its time slice
    kstack::HoldCount stack_holds; // >0: the stack must stay resident (kstack/hold.h)
    int exit_code;

    lib::ListNode run_node;   // run queue; or the zombie list once Dead
    lib::ListNode all_node;   // every live thread (ps)
    lib::ListNode timeout_node; // timed sleeps, sorted by deadline
    lib::ListNode sleep_node; // its hart's swap candidates while asleep (sched::for_each_sleeper)
    lib::ListNode swapped_node; // its hart's sleepers with a swapped stack (sched::for_each_swapped)

    // Sleeping.
    const void* wait_channel; // what it waits for (a WaitQueue, a channel address)
    const char* wait_reason;  // for ps
    uint64_t wait_deadline;   // rdtime ticks; 0 = none
    uint64_t sleep_since;     // rdtime when it went to sleep (swap policy)
    uint64_t sleep_seq;       // which sleep this is: a stale timeout must not wake a later one

    // Stack.
    kstack::Stack* stack;

    // Start and end. A function pointer plus argument rather than a
    // FunctionRef: the thread calls it after spawn() has returned.
    void (*entry)(void*);
    void* arg;

    uint64_t switches;        // times it was switched in

    // User mode (kern/task/task.h). A kernel thread has no task and satp 0 (it runs
    // on the kernel's root); a user thread runs on its task's address space,
    // entering U-mode first at user_entry with sp = user_sp, a0 = user_arg.
    Task* task;
    uint64_t satp;
    lib::ListNode task_node;  // its task's thread list
    // Its IPC record (kern/task/ipc.h), made by its first IPC call and freed when
    // it exits; only the thread itself sets or reads it.
    ipc::Record* ipc_record = nullptr;

    // What only the running thread reads is at the top of its own stack:
    // ThreadTop, below.
    // Its user FP registers, from its first FP instruction until it exits
    // (kern/arch/riscv/fpu.h); null: it never used FP, and runs with FS Off.
    // Here, not in ThreadTop: every switch tests it, next's before its stack
    // top is at hand.
    FpContext* fpu = nullptr;
};

static_assert(offsetof(Thread, stack_limit) == THREAD_STACK_LIMIT_OFFSET, "kern/arch/riscv/switch.S");
// What every thread keeps resident, swapped or not (docs/swap.md): grow it
// only knowing that each byte costs every blocked thread.
static_assert(sizeof(Thread) == 272, "a swapped thread's resident cost (docs/swap.md)");

// The part of a thread only it uses while it runs, or its creator before it
// first runs: at the top of its kernel stack (kstack::top_area), so it goes
// out to swap with the stack and a swapped thread keeps only its Thread
// resident (docs/swap.md). Only for a thread with a stack (not a hart's boot
// thread): everything in here is read with the stack resident, by the
// thread itself or, before it starts, by its creator.
struct ThreadTop {
    // Parked from a trap (sched::park_from_trap: waiting for a page to grow
    // into, or preempted by an interrupt handled on the overflow stack): the
    // interrupted registers, restored when it runs again. A parked thread
    // holds its stack, so the stack stays resident while they matter.
    TrapFrame parked;
    // Sleeping locks (kern::Mutex) it holds, for the lock checker
    // (kern/sync/lockcheck.h), which only looks at the running thread's.
    ksync::lockcheck::ThreadHeld held_sleep_locks;
    // A user thread's first entry to U-mode (kern/task/task.cc): set by its
    // creator while it is an Embryo, read by the thread when it starts.
    uint64_t user_entry, user_sp, user_arg, user_arg2; // a0, a1
};
static_assert(sizeof(ThreadTop) <= kstack::TOP_AREA_BYTES && kstack::TOP_AREA_BYTES % 16 == 0 &&
                  kstack::TOP_AREA_BYTES - sizeof(ThreadTop) < 16,
              "kstack::TOP_AREA_BYTES is sizeof(ThreadTop) rounded up to keep sp 16-byte aligned");

[[nodiscard]] inline ThreadTop& top_of(Thread* t) { return *static_cast<ThreadTop*>(kstack::top_area(t->stack)); }

struct ThreadParams {
    const char* name;
    void (*entry)(void*); // called once the thread runs, so not a FunctionRef (Thread::entry)
    void* arg = nullptr;
    int priority = PRIO_DEFAULT;
    uint32_t flags = 0;
    int hart = -1;            // -1: any (the creator's hart, then balancing)
    bool joinable = false;    // true: join() reaps it (the reaper frees its stack first); false: the reaper does
    bool may_block = true;    // false: fail with NoMemory rather than wait for pages
    size_t stack_reserve = 0; // bytes kept free at the top of the kernel stack (a user thread's trap frame)
};

namespace thread {

// Boot: set up the zones, turn this hart's boot context into a thread.
void init_boot_hart();
void init_secondary_hart();
// A secondary hart's boot context becomes its idle loop.
[[noreturn]] void run_idle();

// Create and start a thread. M_WAITOK semantics: may sleep for memory
// (unless p.may_block is false: then NoMemory when pages are short).
[[nodiscard]] lib::Result<Thread*> spawn(const ThreadParams& p);
// Create without starting (state Embryo); start() makes it runnable.
[[nodiscard]] lib::Result<Thread*> create(const ThreadParams& p);
void start(Thread* t);
// Point t's next switch-in at entry(arg), as a new thread starts, with sp
// stack_reserve bytes below its stack's top: whatever frames were on its
// stack are forgotten. create() does it; so does sched::restart_locked().
void set_entry(Thread* t, void (*entry)(void*), void* arg, size_t stack_reserve);

[[noreturn]] void exit(int code);
// Wait for a joinable thread to exit, reap it, return its exit code.
int join(Thread* t);

Thread* current();
uint64_t count();        // live threads (not reaped)
uint64_t created_total();
uint64_t reaped_total();

// The scheduler hands over a thread that exited once it is off its hart.
void dead_and_switched_out(Thread* t);

// Where a backtrace of a thread off its hart starts: the pc it resumes at,
// its frame pointer and (parked from a trap) its ra, read from its
// SwitchFrame or parked trap frame. False when its stack is not resident (the
// registers are on swap with it). The caller keeps t from
// running meanwhile (debugdemo: a sleeper that nobody wakes).
struct SavedRegs {
    uint64_t pc, fp, ra;
};
[[nodiscard]] bool saved_regs(const Thread* t, SavedRegs& out);

// Visit every live thread under the thread-list lock (ps, debug checks).
void for_each(lib::FunctionRef<void(Thread&)> fn);

} // namespace thread
} // namespace kern
