#include "kern/sched/thread.h"

#include "kern/arch/riscv/csr.h"
#include "kern/arch/riscv/hart.h"
#include "vm/kmem.h"
#include "kern/console/panic.h"
#include "kern/console/printf.h"
#include "kern/sched/sched.h"
#include "kern/sync/spinlock.h"
#include "kern/sync/wait.h"
#include "kstack/grow.h"
#include "kstack/kstack.h"
#include "lib/string.h"
#include "zalloc/kmalloc_obj.h"

extern "C" void thread_trampoline();
extern "C" void ipc_resume();

namespace kern {

const char* state_name(ThreadState s)
{
    switch (s) {
    case ThreadState::Embryo: return "embryo";
    case ThreadState::Runnable: return "runnable";
    case ThreadState::Running: return "running";
    case ThreadState::Sleeping: return "sleeping";
    case ThreadState::Dead: return "dead";
    }
    return "?";
}

namespace {

// Thread objects: a kmalloc_obj zone whose slabs are never given back
// (hold_polls 0), so a Thread* is a Thread for ever. Several paths use one
// after letting go of whatever kept the thread alive: a timeout entry popped
// under the timeout lock and woken after it (sched::tick), an IPC wake done
// after its lock is released, a swap candidate found under a run-queue lock
// and claimed later. Each revalidates under the thread's run-queue lock with
// the sleep's sequence number (global, never reused), so a thread that has
// exited, or a new thread in the same memory, is left alone; what they must
// never meet is memory that is no longer a Thread. The cost is the peak
// number of threads' worth of slabs, reused by later threads (FreeBSD keeps
// its thread zone the same way). docs/threads.md.
constexpr zalloc::ObjZoneSpec THREAD_ZONE {"thread", sizeof(Thread), {.hold_polls = 0}};
zalloc::ObjZone g_thread_zone;

// The boot contexts of each hart run as threads without a kstack.
Thread g_boot_threads[cpu::MAX_HARTS];

ksync::SpinLock g_all_lock {"thread-list"};
lib::List<Thread, &Thread::all_node> g_all;
std::atomic<uint64_t> g_next_id {1};
std::atomic<uint64_t> g_created {0};
std::atomic<uint64_t> g_reaped {0};
std::atomic<uint64_t> g_live {0};

// Exited threads, waiting for the reaper (or for join()).
ksync::SpinLock g_zombie_lock {"zombies"};
lib::List<Thread, &Thread::run_node> g_zombies;
ksync::WaitQueue* g_reaper_wq;

void set_name(Thread* t, const char* name)
{
    size_t n = strnlen(name, sizeof t->name - 1);
    memcpy(t->name, name, n);
    t->name[n] = '\0';
}

void link_all(Thread* t)
{
    ksync::SpinGuard g(g_all_lock);
    g_all.push_back(*t);
    g_live.fetch_add(1, std::memory_order_relaxed);
}

// Give back an exited thread's stack. Its stack is off every hart by now.
void drop_stack(Thread* t)
{
    if (t->stack_holds.held())
        panic("thread %lu (%s) exited holding its stack %u time(s)", t->id, t->name, t->stack_holds.count());
    kstack::Stack* s = t->stack;
    {
        ksync::SpinGuard g(g_all_lock); // ps reads t->stack under it
        t->stack = nullptr;
    }
    kstack::free(s);
}

// Free what an exited thread holds (the reaper may have taken its stack already).
void destroy(Thread* t)
{
    {
        ksync::SpinGuard g(g_all_lock);
        g_all.remove(*t);
    }
    if (t->stack)
        drop_stack(t);
    g_thread_zone.free(t);
    g_live.fetch_sub(1, std::memory_order_relaxed);
    g_reaped.fetch_add(1, std::memory_order_relaxed);
}

void reaper_main(void*)
{
    for (;;) {
        g_zombie_lock.lock();
        while (g_zombies.empty())
            (void)g_reaper_wq->wait(&g_zombie_lock);
        Thread* t = g_zombies.pop_front();
        g_zombie_lock.unlock();
        if (!t->joinable) {
            destroy(t);
            continue;
        }
        // A joinable thread's stack goes now, its Thread when it is joined:
        // a stack must not wait for join(). A joiner that reaps its threads
        // in its own order would otherwise hold every stack that exited
        // before the one it waits for, and with stacks on swap that one may
        // need pages to come back at all (the swapper waits for memory, the
        // memory for the joiner, the joiner for the swapper).
        drop_stack(t);
        t->exited.store(true, std::memory_order_release);
        ksync::wakeup(&t->exited);
    }
}

void idle_main(void*)
{
    for (;;) {
        unsigned long irq = cpu::irq_save();
        sched::HartStats s = sched::stats(cpu::id());
        if (s.queued == 0)
            csr::wfi();
        cpu::irq_restore(irq);
        sched::yield();
    }
}

Thread* init_boot_context(unsigned index, const char* name)
{
    Thread* t = &g_boot_threads[index];
    t->id = g_next_id.fetch_add(1);
    set_name(t, name);
    t->priority = PRIO_DEFAULT;
    t->flags = TF_NO_SWAP | TF_BOUND;
    t->hart = index;
    t->stack_limit = hart(index).boot_stack_base;
    link_all(t);
    return t;
}

} // namespace

namespace thread {

lib::Result<Thread*> create(const ThreadParams& p)
{
    auto* t = static_cast<Thread*>(g_thread_zone.alloc(
        (p.may_block ? zalloc::M_WAITOK | zalloc::M_NULLOK : zalloc::M_RNOWAIT | zalloc::M_NULLOK) | zalloc::M_ZERO));
    if (!t)
        return lib::Error::NoMemory;
    new (t) Thread();
    lib::Result<kstack::Stack*> st = kstack::alloc(p.may_block);
    if (!st.ok()) {
        g_thread_zone.free(t);
        return st.error();
    }
    if (p.flags & TF_FULL_STACK) {
        if (lib::Status ms = kstack::map_all(st.value(), p.may_block); !ms.ok()) {
            kstack::free(st.value());
            g_thread_zone.free(t);
            return ms.error();
        }
    }
    t->stack = st.value();
    new (&top_of(t)) ThreadTop();
    kstack::set_owner(t->stack, t);
    t->id = g_next_id.fetch_add(1, std::memory_order_relaxed);
    set_name(t, p.name);
    t->priority = static_cast<uint8_t>(p.priority < 0 ? 0 : p.priority >= PRIO_LEVELS ? PRIO_LEVELS - 1 : p.priority);
    t->flags = p.flags;
    t->hart = p.hart >= 0 && unsigned(p.hart) < cpu::MAX_HARTS && hart(p.hart).online.load() ? unsigned(p.hart)
                                                                                             : cpu::id();
    t->joinable = p.joinable;
    t->joining.store(false, std::memory_order_relaxed);
    t->state = ThreadState::Embryo;
    set_entry(t, p.entry, p.arg, p.stack_reserve);
    g_created.fetch_add(1, std::memory_order_relaxed);
    link_all(t);
    return t;
}

void start(Thread* t) { sched::enqueue_new(t); }

void set_entry(Thread* t, void (*entry)(void*), void* arg, size_t stack_reserve)
{
    t->entry = entry;
    t->arg = arg;
    // The next switch_context into it goes to the trampoline with this sp and
    // no frame: nothing is written on the stack (restart_locked runs on any
    // hart, which may not have flushed the stack's freshly mapped pages yet).
    uint64_t sp = kstack::frames_top(t->stack) - stack_reserve;
    if (sp & RESUME_MASK)
        panic("thread %lu (%s): stack reserve %zu leaves sp unaligned", t->id, t->name, stack_reserve);
    t->ctx.sp = resume_at(sp, Resume::Start);
}

bool saved_regs(const Thread* t, SavedRegs& out)
{
    // A hart's boot context keeps its SwitchFrame on its boot stack, always resident.
    if (t->stack && kstack::state(t->stack) != kstack::StackState::Resident)
        return false;
    uint64_t sp = saved_sp(t->ctx);
    out = {};
    switch (resume_of(t->ctx)) {
    case Resume::Frame: {
        const auto* f = reinterpret_cast<const SwitchFrame*>(sp);
        out.pc = f->ra;
        out.fp = f->s[0];
        return true;
    }
    case Resume::Start: out.pc = reinterpret_cast<uint64_t>(&thread_trampoline); return true;
    case Resume::Parked: {
        // Its registers as the trap found them: the walk goes on in the interrupted code.
        const TrapFrame& tf = top_of(const_cast<Thread*>(t)).parked;
        out = {.pc = tf.sepc, .fp = tf.x[7], .ra = tf.x[0]}; // x[] holds x1..x31: s0, ra
        return true;
    }
    case Resume::Ipc: out.pc = reinterpret_cast<uint64_t>(&ipc_resume); return true;
    }
    return false;
}

lib::Result<Thread*> spawn(const ThreadParams& p)
{
    lib::Result<Thread*> r = create(p);
    if (r.ok())
        start(r.value());
    return r;
}

Thread* current() { return sched::current_thread(); }

void exit(int code)
{
    Thread* me = current();
    if (!me->stack)
        panic("thread %lu (%s): a boot context cannot exit", me->id, me->name);
    me->exit_code = code;
    // From here the scheduler must never run us again: mark Dead and switch.
    // finish_switch (on whoever runs next) hands us to the reaper or joiner.
    cpu::irq_save();
    sched::mark_dead_and_switch();
}

void dead_and_switched_out(Thread* t)
{
    // A thread join() already waits for goes to its joiner, which frees it
    // all at once, as soon as it runs. Every other one goes to the reaper,
    // which frees a joinable thread's stack and then marks it exited for a
    // join() that may come much later. If join() starts waiting just after
    // this test, it waits for the reaper instead: the same end, later.
    if (t->joinable && t->joining.load(std::memory_order_acquire)) {
        t->exited.store(true, std::memory_order_release);
        ksync::wakeup(&t->exited);
        return;
    }
    ksync::SpinGuard g(g_zombie_lock);
    g_zombies.push_back(*t);
    g_reaper_wq->wake_one();
}

int join(Thread* t)
{
    if (!t->joinable)
        panic("join: thread %lu (%s) is not joinable", t->id, t->name);
    ksync::SpinLock* none = nullptr;
    t->joining.store(true, std::memory_order_release);
    while (!t->exited.load(std::memory_order_acquire))
        (void)ksync::sleep_on(&t->exited, none, 10000, "join"); // re-check: the exit may race the sleep
    int code = t->exit_code;
    destroy(t);
    return code;
}

uint64_t count() { return g_live.load(); }
uint64_t created_total() { return g_created.load(); }
uint64_t reaped_total() { return g_reaped.load(); }

void for_each(lib::FunctionRef<void(Thread&)> fn)
{
    ksync::SpinGuard g(g_all_lock);
    for (Thread& t : g_all)
        fn(t);
}

void init_boot_hart()
{
    g_thread_zone.init(THREAD_ZONE, vm::kmem::backend());
    static ksync::WaitQueue reaper_wq("reaper");
    g_reaper_wq = &reaper_wq;
    Thread* boot = init_boot_context(0, "main");
    sched::init_hart(boot, nullptr);
    lib::Result<Thread*> idle = create({.name = "idle0", .entry = idle_main, .priority = PRIO_IDLE,
                                        .flags = TF_IDLE | TF_NO_SWAP | TF_BOUND | TF_SYSTEM | TF_FULL_STACK, .hart = 0});
    if (!idle.ok())
        panic("cannot create the idle thread: %s", lib::error_name(idle.error()));
    sched::set_idle(idle.value());
    lib::Result<Thread*> reaper = spawn({.name = "reaper", .entry = reaper_main, .priority = PRIO_SYSTEM,
                                         .flags = TF_SYSTEM | TF_NO_SWAP | TF_FULL_STACK});
    if (!reaper.ok())
        panic("cannot create the reaper thread: %s", lib::error_name(reaper.error()));
}

void init_secondary_hart()
{
    char name[16];
    ksnprintf(name, sizeof name, "idle%u", cpu::id());
    kstack::refill_grow_cache();
    Thread* boot = init_boot_context(cpu::id(), name);
    boot->priority = PRIO_IDLE;
    boot->flags |= TF_IDLE | TF_SYSTEM;
    sched::init_hart(boot, nullptr);
}

[[noreturn]] void run_idle() { idle_main(nullptr); for (;;) {} }

} // namespace thread
} // namespace kern

// A new thread's first C++ code (from thread_trampoline).
extern "C" [[noreturn]] void thread_start()
{
    kern::sched::finish_first_switch();
    kern::Thread* me = kern::thread::current();
    cpu::irq_restore(cpu::IRQS_ON);
    me->entry(me->arg);
    kern::thread::exit(0);
}
