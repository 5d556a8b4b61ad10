#include "kern/sync/lockorder.h"

#include "lib/string.h"

namespace ksync::lockcheck {
namespace {

constexpr Kind S = Kind::Spin;
constexpr Kind M = Kind::Sleep;

// The lock order. Ranks leave gaps so that a new lock slots in without
// renumbering; equal ranks are never nested (unless an exception says so).
// Every ksync::SpinLock and kern::Mutex must name one of these classes.
constexpr ClassDef CLASSES[] = {
    {"uspace", 10, M, NO_IRQ, "vm/uspace.h",
     "a task's page table and page count; held while allocating pages and shooting down TLBs"},
    {"sdcard", 11, M, NO_IRQ, "dev/sdcard_spi.h", "the SD card's SPI transfers"},
    {"smp-call", 15, S, 0, "kern/arch/riscv/smp.cc", "a hart's cross-call mailbox"},
    {"task-list", 20, S, NO_IRQ, "kern/task/task.cc", "every task, and reference counts reaching zero (`put`, `find`)"},
    {"task", 22, S, NO_IRQ, "kern/task/task.cc",
     "its threads, children, exit code and reason (a kill prints under it: console is a leaf); held while a "
     "thread of the task checks `exiting` and queues itself to sleep (the `sleep` call's channel, the memory "
     "wait queue), so a kill, which sets `exiting` under it, is never missed"},
    {"ipc", 24, S, NO_IRQ, "kern/task/ipc.cc",
     "endpoint queues, handle tables, reply caps, IPC records; held across `prepare_sleep` and, on the call "
     "path and in `wake_task` (a kill waking every blocked thread of a task), `wake()`; the fast paths release it "
     "under a run-queue lock (`sched::sleep_handing_off`, `sched::hand_off_to_user`)"},
    {"zombies", 26, S, NO_IRQ, "kern/sched/thread.cc", "exited threads waiting for the reaper"},
    {"condvar-guard", 30, S, 0, "kern/sync/wait.h", "a condition variable's queue handoff"},
    {"mutex-guard", 32, S, 0, "kern/sync/wait.h", "a mutex's owner"},
    {"zalloc-registry", 40, S, 0, "zalloc/registry.cc", "the list of every zone; polling and replenishing the zones allocate and free pages under it"},
    {"malloc-types", 41, S, 0, "zalloc/kmalloc.cc", "kmalloc's per-type statistics"},
    {"zalloc-zone", 42, S, 0, "zalloc/zone.h", "a zone's lists"},
    {"kmalloc_obj-zone", 42, S, 0, "zalloc/kmalloc_obj.h", "a typed zone's lists"},
    {"kstack", 44, S, 0, "kstack/kstack.cc", "stack slots, chunks, slot table, global stack cache"},
    {"virtio-blk", 48, S, 0, "dev/virtio_blk.h", "a virtio disk's queue; translates buffer addresses under it (`kernel-pagetable`)"},
    {"kva", 50, S, 0, "vm/kmem.cc", "kernel VA ranges (the arena's lock bears its name)"},
    {"kernel-pagetable", 51, S, 0, "vm/kmem.cc", "the kernel page table (allocates its table pages under it)"},
    {"page-cache", 52, S, 0, "vm/phys.h", "a hart's cache of free pages"},
    {"phys", 53, S, 0, "vm/phys.h", "the buddy lists"},
    {"pageout-kick", 56, S, 0, "vm/pageout.cc",
     "the pagedaemon's kick flag (a failing allocation kicks it with the locks above held); held across its "
     "sleep on that flag's channel"},
    {"swapout-io", 58, S, 0, "kstack/swapout.cc", "a swap-out wave's completion flags; the wave sleeps on them with it held (a wait-queue and a run-queue lock under it), the disk interrupt takes it to wake the wave"},
    {"block-sync", 58, S, 0, "dev/block.cc", "a synchronous request's completion; the caller sleeps on it with it held (a wait-queue and a run-queue lock under it)"},
    {"waitqueue-registry", 59, S, 0, "kern/sync/wait.cc", "every wait queue; the hold checker takes each queue's lock under it"},
    {"waitqueue", 60, S, 0, "kern/sync/wait.cc", "a queue's waiters (each queue; the channel buckets)"},
    {"swapin-kick", 65, S, 0, "kstack/swapin.cc",
     "the swapper's kick flag and the sequence number of its sleep; held across its `prepare_sleep` and a "
     "kick's `wake()` of it (a kick may come from a waker holding a wait queue's lock, hence after `waitqueue`)"},
    {"runqueue", 70, S, HANDED_OVER, "kern/sched/runqueue.h",
     "a hart's run queue, thread state, `on_cpu` handoff, the hart's swap candidates and sleepers with "
     "swapped stacks; held across a context switch"},
    {"timeouts", 80, S, 0, "kern/sched/sched.cc", "timed sleeps"},
    {"swapin-queue", 80, S, 0, "kstack/swapin.cc", "threads woken with their stack on swap"},
    {"swap-space", 80, S, 0, "vm/swap_alloc.h", "the swap block bitmap"},
    {"swapin-pool", 84, S, 0, "kstack/swapin_async.cc", "the pages held for asynchronous swap-ins; taken under a run-queue lock (`wake()`) and `swapin-kick`"},
    {"block-devices", 86, S, 0, "dev/block.cc", "the list of block devices"},
    {"thread-list", 92, S, 0, "kern/sched/thread.cc", "every thread; `ps` and the thread dump print under it (`console-out`)"},
    {"asid", 100, S, 0, "vm/uspace.cc", "ASID generations"},
    {"console-in", 100, S, 0, "kern/console/console.cc", "the input ring"},
    {"console-out", 110, S, 0, "kern/console/console.cc", "the UART (every kprintf)"},
    // ktests' own locks.
    {"ktest-lock", 20, S, TEST_ONLY, "test/kernel/boot_test.cc", ""},
    {"handoff-test", 24, S, TEST_ONLY, "test/kernel/ipc_test.cc", "stands in for `ipc`"},
    {"bench-raw", 58, S, TEST_ONLY, "test/kernel/swap_bench.cc", ""},
    {"vblk-test-batch", 58, S, TEST_ONLY, "test/kernel/virtio_blk_test.cc", ""},
    {"pingpong", 10, M, TEST_ONLY | NO_IRQ, "test/kernel/thread_test.cc", ""},
    {"counter", 10, M, TEST_ONLY | NO_IRQ, "test/kernel/thread_test.cc", ""},
    {"on-stack-mutex", 10, M, TEST_ONLY | NO_IRQ, "test/kernel/thread_test.cc", ""},
    {"lockcheck-outer", 20, S, TEST_ONLY, "test/kernel/lockcheck_test.cc", ""},
    {"lockcheck-inner", 21, S, TEST_ONLY, "test/kernel/lockcheck_test.cc", ""},
    {"lockcheck-mutex", 10, M, TEST_ONLY | NO_IRQ, "test/kernel/lockcheck_test.cc", ""},
    {"lockcheck-bench", 25, S, TEST_ONLY, "test/kernel/lockcheck_test.cc", ""},
    {"spinwatch-a", 20, S, TEST_ONLY, "test/kernel/lockcheck_test.cc", ""},
    {"spinwatch-b", 21, S, TEST_ONLY, "test/kernel/lockcheck_test.cc", ""},
};

constexpr Exception EXCEPTIONS[] = {
    {"task-list", "task", "`ps` walks the tasks and reads each under its lock"},
    {"smp-call", "smp-call", "`smp::run_concurrently` posts to every other hart's mailbox, in hart order"},
    // Two harts spinning on each other's lock: the spin watchdog's test makes
    // this deadlock on purpose.
    {"spinwatch-b", "spinwatch-a", "the spin watchdog's test deadlocks on purpose"},
};

constexpr unsigned N_CLASSES = sizeof CLASSES / sizeof CLASSES[0];
constexpr unsigned N_EXCEPTIONS = sizeof EXCEPTIONS / sizeof EXCEPTIONS[0];
static_assert(N_CLASSES <= MAX_CLASSES, "raise MAX_CLASSES");

constexpr bool kernel_classes_sorted()
{
    // In rank order (the ktests' classes follow), so that the table reads as the order.
    for (unsigned i = 1; i < N_CLASSES && !(CLASSES[i].flags & TEST_ONLY); i++)
        if (CLASSES[i].rank < CLASSES[i - 1].rank)
            return false;
    return true;
}
static_assert(kernel_classes_sorted(), "keep CLASSES in rank order");

constexpr bool same(const char* a, const char* b)
{
    while (*a && *a == *b)
        a++, b++;
    return *a == *b;
}

constexpr bool names_unique()
{
    for (unsigned i = 0; i < N_CLASSES; i++)
        for (unsigned j = i + 1; j < N_CLASSES; j++)
            if (same(CLASSES[i].name, CLASSES[j].name))
                return false;
    return true;
}
static_assert(names_unique(), "a lock class is declared twice");

constexpr bool declared(const char* name)
{
    for (const ClassDef& c : CLASSES)
        if (same(c.name, name))
            return true;
    return false;
}

constexpr bool exceptions_declared()
{
    for (const Exception& e : EXCEPTIONS)
        if (!declared(e.held) || !declared(e.taken))
            return false;
    return true;
}
static_assert(exceptions_declared(), "an exception names an undeclared class");

constexpr bool sleep_locks_outermost()
{
    // A sleeping lock is never taken under a spinlock, so it ranks below all of them.
    for (const ClassDef& m : CLASSES)
        for (const ClassDef& s : CLASSES)
            if (m.kind == Kind::Sleep && s.kind == Kind::Spin && m.rank >= s.rank)
                return false;
    return true;
}
static_assert(sleep_locks_outermost(), "a sleeping lock ranks above a spinlock");

} // namespace

const ClassDef& class_def(uint16_t cls) { return CLASSES[cls]; }
unsigned class_count() { return N_CLASSES; }
const Exception& exception_def(unsigned i) { return EXCEPTIONS[i]; }
unsigned exception_count() { return N_EXCEPTIONS; }

uint16_t find_class(const char* name)
{
    for (unsigned i = 0; i < N_CLASSES; i++)
        if (strcmp(CLASSES[i].name, name) == 0)
            return uint16_t(i);
    return NO_CLASS;
}

bool order_allowed(uint16_t held, uint16_t taken)
{
    if (CLASSES[held].rank < CLASSES[taken].rank)
        return true;
    for (const Exception& e : EXCEPTIONS)
        if (strcmp(e.held, CLASSES[held].name) == 0 && strcmp(e.taken, CLASSES[taken].name) == 0)
            return true;
    return false;
}

const char* problem_name(Problem p)
{
    switch (p) {
    case Problem::None: return "none";
    case Problem::Order: return "lock order violation";
    case Problem::UnknownClass: return "lock class not in the order table (kern/sync/lockorder.cc)";
    case Problem::SleepUnderSpin: return "sleeping lock taken with a spinlock held";
    case Problem::InIrq: return "lock that is not interrupt-safe taken in an interrupt handler";
    case Problem::SwitchHolding: return "context switch (sleep) with a spinlock held";
    }
    return "?";
}

Verdict check_in_irq(uint16_t cls, bool in_irq)
{
    const ClassDef& c = CLASSES[cls];
    if (in_irq && (c.kind == Kind::Sleep || (c.flags & NO_IRQ)))
        return {Problem::InIrq, nullptr};
    return {};
}

Verdict check_acquire(const HartHeld& spins, const ThreadHeld* sleeps, uint16_t cls, bool in_irq)
{
    if (cls == NO_CLASS)
        return {Problem::UnknownClass, nullptr};
    const ClassDef& c = CLASSES[cls];
    if (Verdict v = check_in_irq(cls, in_irq); v.problem != Problem::None)
        return v;
    if (c.kind == Kind::Sleep && spins.n)
        return {Problem::SleepUnderSpin, &spins.e[spins.n - 1]};
    // Newest first: the most recent conflict is the one the report shows.
    for (unsigned i = spins.n; i-- > 0;)
        if (!order_allowed(spins.e[i].cls, cls))
            return {Problem::Order, &spins.e[i]};
    if (sleeps && !in_irq)
        for (unsigned i = sleeps->n; i-- > 0;)
            if (!order_allowed(sleeps->e[i].cls, cls))
                return {Problem::Order, &sleeps->e[i]};
    return {};
}

Verdict check_switch(const HartHeld& spins)
{
    for (unsigned i = spins.n; i-- > 0;)
        if (!(CLASSES[spins.e[i].cls].flags & HANDED_OVER))
            return {Problem::SwitchHolding, &spins.e[i]};
    return {};
}

bool Pairs::record(uint16_t held, uint16_t taken, uintptr_t held_at, uintptr_t taken_at)
{
    unsigned idx = unsigned(held) * MAX_CLASSES + taken;
    uint64_t bit = 1ull << (idx % 64);
    if (bits_[idx / 64].load(std::memory_order_relaxed) & bit)
        return false;
    if (bits_[idx / 64].fetch_or(bit, std::memory_order_relaxed) & bit)
        return false;
    // Written once, by the hart that set the bit; a report reading it at the
    // same moment may see zeros (printed as unknown), never a torn pointer.
    at_[idx][0] = held_at;
    at_[idx][1] = taken_at;
    pairs_.fetch_add(1, std::memory_order_relaxed);
    return true;
}

void Pairs::saw(uint16_t cls)
{
    uint64_t bit = 1ull << cls;
    if (class_bits_.load(std::memory_order_relaxed) & bit)
        return;
    if (!(class_bits_.fetch_or(bit, std::memory_order_relaxed) & bit))
        classes_.fetch_add(1, std::memory_order_relaxed);
}

bool Pairs::seen(uint16_t held, uint16_t taken) const
{
    unsigned idx = unsigned(held) * MAX_CLASSES + taken;
    return bits_[idx / 64].load(std::memory_order_relaxed) & (1ull << (idx % 64));
}

void Pairs::first(uint16_t held, uint16_t taken, uintptr_t& held_at, uintptr_t& taken_at) const
{
    unsigned idx = unsigned(held) * MAX_CLASSES + taken;
    held_at = seen(held, taken) ? at_[idx][0] : 0;
    taken_at = seen(held, taken) ? at_[idx][1] : 0;
}

} // namespace ksync::lockcheck
