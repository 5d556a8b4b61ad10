#include "kern/task/task.h"

#include "kern/arch/riscv/asm.h"
#include "kern/arch/riscv/csr.h"
#include "kern/arch/riscv/fpu.h"
#include "kern/arch/riscv/ipi.h"
#include "kern/console/panic.h"
#include "kern/console/printf.h"
#include "kern/task/programs.h"
#include "kern/sched/sched.h"
#include "kern/arch/riscv/timer.h"
#include "kern/arch/riscv/trap.h"
#include "kern/sync/wait.h"
#include "kstack/kstack.h"
#include "lib/elf.h"
#include "lib/string.h"
#include "user/abi.h"
#include "vm/kmem.h"
#include "vm/layout.h"
#include "zalloc/kmalloc_obj.h"

#include <new>

extern "C" [[noreturn]] void user_return(kern::TrapFrame* tf);

namespace kern::task {
namespace {

constexpr zalloc::ObjZoneSpec TASK_ZONE {"task", sizeof(Task)};
zalloc::ObjZone g_task_zone;
ksync::SpinLock g_all_lock {"task-list"};
lib::List<Task, &Task::all_node> g_all;
std::atomic<uint64_t> g_next_id {1};
std::atomic<uint64_t> g_live {0};
std::atomic<uint64_t> g_spawned {0};

void set_name(char* dst, size_t cap, const char* name)
{
    size_t n = strnlen(name, cap - 1);
    memcpy(dst, name, n);
    dst[n] = '\0';
}

uint32_t prot_of(uint32_t pf)
{
    uint32_t p = 0;
    if (pf & lib::elf::PF_R)
        p |= vm::uspace::ProtRead;
    if (pf & lib::elf::PF_W)
        p |= vm::uspace::ProtWrite;
    if (pf & lib::elf::PF_X)
        p |= vm::uspace::ProtExec;
    return p;
}

// Map every segment and copy its file bytes in through the direct map (the
// pages may be read-only to the user: the kernel writes them before any
// thread runs), then map the stack.
lib::Status load(Task* t, const lib::elf::Image& img, const uint8_t* file)
{
    for (size_t i = 0; i < img.nsegments; i++) {
        const lib::elf::Segment& s = img.seg[i];
        uint64_t lo = s.vaddr & ~(PAGE_SIZE - 1), hi = (s.vaddr + s.memsz + PAGE_SIZE - 1) & ~(PAGE_SIZE - 1);
        TRY(t->as.map_anon(lo, hi - lo, prot_of(s.flags), TASK_MAX_PAGES));
        for (uint64_t done = 0; done < s.filesz;) {
            uint64_t va = s.vaddr + done;
            uint64_t pa, flags;
            if (!t->as.lookup(va, pa, flags))
                return lib::Error::Fault;
            uint64_t n = PAGE_SIZE - (va & (PAGE_SIZE - 1));
            if (n > s.filesz - done)
                n = s.filesz - done;
            memcpy(vm::kmem::phys_to_virt(pa), file + s.offset + done, n);
            done += n;
        }
    }
    return t->as.map_anon(vm::layout::USER_STACK_TOP - vm::layout::USER_STACK_SIZE, vm::layout::USER_STACK_SIZE,
                          vm::uspace::ProtRead | vm::uspace::ProtWrite, TASK_MAX_PAGES);
}

void free_task(Task* t)
{
    Task* up = t->up;
    if (t->accounted) {
        account::leave(t);
        if (size_t left = t->charges.pages.load())
            kprintf("task %lu (%s): freed with %zu pages still charged\n", t->id, t->name, left);
    }
    t->~Task();
    g_task_zone.free(t);
    g_live.fetch_sub(1, std::memory_order_relaxed);
    if (up)
        put(up);
}

// First kernel code of a user thread: build its user frame at the top of its
// kernel stack (create_thread reserved it) and enter user mode.
void user_thread_main(void*)
{
    Thread* me = thread::current();
    auto* tf = reinterpret_cast<TrapFrame*>(kstack::frames_top(me->stack) - TF_SIZE);
    memset(tf, 0, sizeof *tf);
    tf->sepc = top_of(me).user_entry;
    tf->sp() = top_of(me).user_sp;
    tf->x[9] = top_of(me).user_arg;   // a0
    tf->x[10] = top_of(me).user_arg2; // a1
    // U-mode (SPP 0), interrupts on there (SPIE), no SUM, FP off.
    uint64_t ss = csr_read(sstatus);
    ss &= ~uint64_t(SSTATUS_SPP | SSTATUS_SIE | SSTATUS_SUM | SSTATUS_FS);
    tf->sstatus = ss | SSTATUS_SPIE;
    if (me->task->exiting.load(std::memory_order_acquire))
        exit_thread(-1);
    user_return(tf);
}

// vm::kmem's hooks for a user task's thread waiting for pages: the check of
// `exiting` and the sleep under the task lock, as kill() sets it under that
// lock before it wakes the memory waiters, so the kill is never missed.
bool user_caller() { return thread::current()->task != nullptr; }

bool sleep_for_memory(ksync::WaitQueue& q, uint64_t timeout_us)
{
    Task* t = thread::current()->task;
    ksync::SpinGuard g(t->lock);
    if (t->exiting.load(std::memory_order_acquire))
        return false;
    (void)q.wait(&t->lock, timeout_us);
    return !t->exiting.load(std::memory_order_acquire);
}

} // namespace

void init()
{
    vm::kmem::set_user_wait_hooks({.is_user = user_caller, .sleep = sleep_for_memory});
    account::init();
    g_task_zone.init(TASK_ZONE, vm::kmem::backend());
    fpu::init();
    vm::uspace::init();
    kprintf("user: %zu programs embedded:", programs::count());
    for (size_t i = 0; i < programs::count(); i++)
        kprintf(" %s", programs::at(i).name);
    kprintf("\n");
}

namespace {
lib::Result<Task*> spawn_image_inner(const char* program, const uint8_t* image, size_t size, uint64_t arg,
                                     Task* parent, ipc::EndpointRef& ep0);
} // namespace

lib::Result<Task*> spawn(const char* program, uint64_t arg, Task* parent, ipc::Endpoint* ep0)
{
    ipc::EndpointRef ref(ep0); // dropped unless the child takes it
    const programs::Program* prog = programs::find(program);
    if (!prog)
        return lib::Error::NotFound;
    return spawn_image_inner(program, prog->image, prog->size, arg, parent, ref);
}

lib::Result<Task*> spawn_image(const char* program, const uint8_t* image, size_t size, uint64_t arg, Task* parent,
                               ipc::Endpoint* ep0)
{
    ipc::EndpointRef ref(ep0);
    return spawn_image_inner(program, image, size, arg, parent, ref);
}

namespace {

lib::Result<Task*> spawn_image_inner(const char* program, const uint8_t* image, size_t size, uint64_t arg,
                                     Task* parent, ipc::EndpointRef& ep0)
{
    lib::elf::ParseError perr;
    lib::Result<lib::elf::Image> img =
        lib::elf::parse(image, size, vm::layout::USER_BASE, vm::layout::USER_END, perr);
    if (!img.ok()) {
        if (perr.phdr >= 0)
            kprintf("task: cannot start %s: bad ELF image: %s (program header %d)\n", program, perr.what, perr.phdr);
        else
            kprintf("task: cannot start %s: bad ELF image: %s\n", program, perr.what);
        return lib::Error::Invalid;
    }
    auto* t = static_cast<Task*>(g_task_zone.alloc(zalloc::M_WAITOK | zalloc::M_NULLOK | zalloc::M_ZERO));
    if (!t)
        return lib::Error::NoMemory;
    new (t) Task();
    g_live.fetch_add(1, std::memory_order_relaxed);
    t->id = g_next_id.fetch_add(1, std::memory_order_relaxed);
    set_name(t->name, sizeof t->name, program);
    t->parent = parent ? parent->id : 0;
    t->mmap_next = vm::layout::USER_MMAP_BASE;
    lib::Status st = account::enter(t, parent);
    t->accounted = st.ok();
    t->as.set_account(&t->charges);
    if (st.ok())
        st = t->as.create();
    if (st.ok())
        st = load(t, img.value(), image);
    if (!st.ok()) {
        t->as.destroy();
        free_task(t);
        return st.error();
    }
    {
        ksync::SpinGuard g(g_all_lock);
        g_all.push_back(*t);
    }
    // Before the first thread runs, so handle 0 is there from its first instruction.
    lib::Status given = ep0 ? ipc::give(t, ep0.get()) : lib::Status();
    if (given.ok())
        (void)ep0.release(); // the child's now (else its owner drops it)
    lib::Result<Thread*> th = given.ok() ? create_thread(t, img->entry, vm::layout::USER_STACK_TOP, arg)
                                         : lib::Result<Thread*>(given.error());
    if (!th.ok()) {
        {
            ksync::SpinGuard g(g_all_lock);
            g_all.remove(*t);
        }
        ipc::task_exit(t);
        t->as.destroy();
        free_task(t);
        return th.error();
    }
    g_spawned.fetch_add(1, std::memory_order_relaxed);
    return t;
}

} // namespace

lib::Result<Thread*> create_thread(Task* t, uint64_t entry, uint64_t sp, uint64_t arg, uint64_t arg2)
{
    {
        ksync::SpinGuard g(t->lock);
        if (t->exiting.load() || t->done.load())
            return lib::Error::Invalid;
        if (t->nthreads >= t->max_threads)
            return lib::Error::Busy;
        // The slot is taken now, under the lock, so creations racing at the
        // limit cannot all pass the check while their threads are built. The
        // count cannot reach zero below while another thread of t runs: the
        // creator is one of t's threads, or spawn() before t has any.
        t->nthreads++;
    }
    // Its kernel stack, Thread and IPC record, charged before they are made.
    lib::Status charged = account::charge(t, account::thread_pages());
    lib::Result<Thread*> r = charged.ok() ? thread::create({.name = t->name, .entry = user_thread_main,
                                                            .stack_reserve = TF_SIZE})
                                          : lib::Result<Thread*>(charged.error());
    if (!r.ok()) {
        if (charged.ok())
            account::uncharge(t, account::thread_pages());
        ksync::SpinGuard g(t->lock);
        t->nthreads--;
        return r.error();
    }
    Thread* th = r.value();
    th->task = t;
    th->satp = t->as.satp();
    top_of(th).user_entry = entry;
    top_of(th).user_sp = sp;
    top_of(th).user_arg = arg;
    top_of(th).user_arg2 = arg2;
    {
        ksync::SpinGuard g(t->lock);
        // On the list before it runs: the task cannot end while this thread is new.
        t->threads.push_back(*th);
        t->refs.fetch_add(1, std::memory_order_relaxed);
    }
    thread::start(th);
    return th;
}

namespace {

// The harts running threads of t in user mode right now get an IPI: the
// interrupt is a trap from U-mode, and on its way back the thread sees that
// its task is ending. (Without it they would leave at the next timer tick.)
// Call with t->lock held.
uint32_t running_harts_locked(Task* t)
{
    uint32_t mask = 0;
    for (Thread& th : t->threads)
        if (th.on_cpu.load(std::memory_order_acquire) && th.hart != cpu::id())
            mask |= 1u << th.hart;
    return mask;
}

void poke(uint32_t mask)
{
    for (unsigned h = 0; h < cpu::MAX_HARTS; h++)
        if (mask & (1u << h))
            ipi::send(h, ipi::Reason::Ping);
}

// A task is ending: wake whatever its threads sleep on so they leave now.
void wake_ending(Task* t, uint32_t harts)
{
    // Sleepers in the sleep syscall sleep on this channel.
    ksync::wakeup(&t->exiting);
    ipc::wake_task(t); // threads blocked in IPC return -EINTR
    vm::kmem::wake_memory_waiters(); // threads waiting for pages give up (ENOMEM)
    poke(harts);
}

} // namespace

bool set_exit(Task* t, int code, const char* why)
{
    bool first = false;
    uint32_t harts;
    {
        ksync::SpinGuard g(t->lock);
        if (!t->exit_set) {
            t->exit_set = true;
            t->exit_code = code;
            set_name(t->why, sizeof t->why, why);
            first = true;
        }
        t->exiting.store(true, std::memory_order_release);
        harts = running_harts_locked(t);
    }
    wake_ending(t, harts);
    return first;
}

bool kill(Task* t, int code, const char* why)
{
    uint32_t harts;
    {
        // The message under the lock: only the kill that decides how the
        // task ends prints, and before anyone can see it ended.
        ksync::SpinGuard g(t->lock);
        if (t->exit_set)
            return false;
        kprintf("task %lu (%s) killed: %s\n", t->id, t->name, why);
        t->exit_set = true;
        t->exit_code = code;
        set_name(t->why, sizeof t->why, why);
        t->exiting.store(true, std::memory_order_release);
        harts = running_harts_locked(t);
    }
    wake_ending(t, harts);
    return true;
}

void exit_thread(int code)
{
    Thread* me = thread::current();
    Task* t = me->task;
    // Off the task's address space first: if this is the last thread, the
    // space is freed below while this thread still runs.
    unsigned long irq = cpu::irq_save();
    me->task = nullptr;
    me->satp = 0;
    vm::uspace::activate(vm::kmem::kernel_satp());
    (void)irq;
    // Interrupts on from here: the trap path may have come with them off, and
    // tearing down an address space takes a while.
    cpu::irq_restore(cpu::IRQS_ON);

    ipc::thread_exit(t, me);
    fpu::release(me);
    account::uncharge(t, account::thread_pages()); // its stack and Thread go with thread::exit()
    bool last;
    {
        ksync::SpinGuard g(t->lock);
        t->threads.remove(*me);
        last = --t->nthreads == 0;
        if (last && !t->exit_set) {
            t->exit_set = true;
            t->exit_code = code;
            ksnprintf(t->why, sizeof t->why, "exited with code %d", code);
        }
    }
    if (last) {
        // Its handles closed, its pending reply caps fail their callers (EPIPE).
        ipc::task_exit(t);
        t->as.destroy();
        // Its unreaped children are on their own now.
        for (;;) {
            Task* c;
            {
                ksync::SpinGuard g(t->lock);
                c = t->children.pop_front();
                if (c)
                    t->nchildren--;
            }
            if (!c)
                break;
            put(c);
        }
        t->done.store(true, std::memory_order_release);
        ksync::wakeup(&t->done);
    }
    put(t);
    thread::exit(code);
}

void put(Task* t)
{
    // Under the list lock, so find() never takes a reference to a task whose
    // count has just reached zero.
    {
        ksync::SpinGuard g(g_all_lock);
        if (t->refs.fetch_sub(1, std::memory_order_acq_rel) != 1)
            return;
        g_all.remove(*t);
    }
    if (!t->done.load())
        panic("task %lu (%s): last reference dropped while it runs", t->id, t->name);
    free_task(t);
}

lib::Status wait(Task* t, uint64_t timeout_us)
{
    uint64_t start = timer::now_us();
    while (!t->done.load(std::memory_order_acquire)) {
        if (timeout_us && timer::now_us() - start >= timeout_us)
            return lib::Error::TimedOut;
        // Short sleeps: the wakeup may race the check.
        (void)ksync::sleep_on(&t->done, nullptr, 10000, "task-wait");
    }
    return {};
}

Task* find(uint64_t id)
{
    ksync::SpinGuard g(g_all_lock);
    for (Task& t : g_all) {
        if (t.id == id && t.refs.load() > 0) {
            t.refs.fetch_add(1, std::memory_order_relaxed);
            return &t;
        }
    }
    return nullptr;
}

Task* take_child(Task* parent, uint64_t id)
{
    ksync::SpinGuard g(parent->lock);
    for (Task& c : parent->children) {
        if (c.id == id) {
            parent->children.remove(c); // nchildren keeps its slot (see task.h)
            return &c;
        }
    }
    return nullptr;
}

unsigned kill_subtree(Task* root, int code, const char* why)
{
    // Ids first, under the list lock (`up` never changes, and a listed task
    // keeps its ancestors alive); the kills outside it. A batch at a time:
    // the subtree is bounded, but tasks may be spawned meanwhile.
    unsigned killed = 0;
    for (bool more = true; more;) {
        uint64_t ids[64];
        unsigned n = 0;
        more = false;
        {
            ksync::SpinGuard g(g_all_lock);
            for (Task& t : g_all) {
                if (t.exit_set || t.refs.load() == 0)
                    continue;
                for (Task* a = &t; a; a = a->up) {
                    if (a != root)
                        continue;
                    if (n < 64)
                        ids[n++] = t.id;
                    else
                        more = true;
                    break;
                }
            }
        }
        for (unsigned i = 0; i < n; i++) {
            if (Task* t = find(ids[i])) {
                killed += kill(t, code, why);
                put(t);
            }
        }
    }
    return killed;
}

void for_each(lib::FunctionRef<void(Task&)> fn)
{
    ksync::SpinGuard g(g_all_lock);
    for (Task& t : g_all)
        fn(t);
}

uint64_t count() { return g_live.load(); }
uint64_t spawned_total() { return g_spawned.load(); }

} // namespace kern::task
