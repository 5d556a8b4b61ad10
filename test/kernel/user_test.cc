// User mode: programs from user/progs run as tasks. Faulting programs are
// killed with the expected message and exit code while the kernel goes on;
// the syscall-argument program checks every error code from the inside; a bad
// ELF image is refused; memory comes back to its baseline.
#include "kern/arch/riscv/asm.h"
#include "kern/arch/riscv/csr.h"
#include "test/kernel/ktest.h"
#include "kern/console/printf.h"
#include "kern/task/programs.h"
#include "kern/sched/sched.h"
#include "kern/task/task.h"
#include "kern/sched/thread.h"
#include "kern/arch/riscv/timer.h"
#include "kstack/grow.h"
#include "kstack/kstack.h"
#include "lib/string.h"
#include "test/kernel/user_baseline.h"
#include "user/abi.h"
#include "vm/kmem.h"
#include "vm/uspace.h"
#include "zalloc/kmalloc.h"
#include "zalloc/malloc_type.h"
#include "zalloc/registry.h"
#include "zalloc/stats.h"

#include <atomic>

using namespace kern;

ZALLOC_MALLOC_DEFINE(M_KTEST_ELF, "ktest-elf", 0);

namespace {

struct Outcome {
    bool ok = false; // spawned and finished in time
    int code = 0;
    char why[160] = {};
};

Outcome run(const char* program, uint64_t arg = 0, uint64_t timeout_us = 20000000)
{
    Outcome o;
    lib::Result<Task*> r = task::spawn(program, arg);
    if (!r.ok()) {
        ksnprintf(o.why, sizeof o.why, "spawn failed: %s", lib::error_name(r.error()));
        return o;
    }
    Task* t = r.value();
    if (!task::wait(t, timeout_us).ok()) {
        task::kill(t, EXIT_KILLED, "ktest timeout");
        (void)task::wait(t);
        ksnprintf(o.why, sizeof o.why, "still running after %lu us", timeout_us);
        task::put(t);
        return o;
    }
    o.ok = true;
    o.code = t->exit_code;
    memcpy(o.why, t->why, sizeof o.why);
    task::put(t);
    return o;
}

bool contains(const char* s, const char* part)
{
    size_t n = strlen(part);
    for (; *s; s++)
        if (strncmp(s, part, n) == 0)
            return true;
    return false;
}

// A fault kills the task: exit code EXIT_KILLED_FAULT and a reason naming
// the cause and the address.
void expect_killed(ktest::Context& t, const char* program, const char* cause, const char* address)
{
    Outcome o = run(program);
    if (!o.ok || o.code != EXIT_KILLED_FAULT || !contains(o.why, cause) || !contains(o.why, address))
        t.failf("%s: ok %d, code %d, why '%s' (wanted '%s' at %s)", program, o.ok, o.code, o.why, cause, address);
}

} // namespace

KTEST(user_exit_code_from_one_ecall)
{
    Outcome o = run("exit42");
    KEXPECT(o.ok);
    KEXPECT_EQ(o.code, 42);
    KEXPECT(strcmp(o.why, "exited with code 42") == 0);
    Outcome h = run("hello", 5);
    KEXPECT(h.ok);
    KEXPECT_EQ(h.code, 5);
}

KTEST(user_reads_kernel_address_is_killed)
{
    expect_killed(t, "badread", "load page fault", "address 0xffffffc080200000 (not user memory)");
}

KTEST(user_writes_kernel_address_is_killed)
{
    expect_killed(t, "badwrite", "store page fault", "address 0x80200000 (not user memory)");
}

KTEST(user_executes_data_is_killed)
{
    expect_killed(t, "execdata", "instruction page fault", "address 0x1000001000,");
}

KTEST(user_jumps_into_kernel_is_killed)
{
    expect_killed(t, "jumpkernel", "instruction page fault", "pc 0x80200000, address 0x80200000");
}

KTEST(user_illegal_instruction_is_killed)
{
    expect_killed(t, "illegal", "illegal instruction", "pc 0x10000");
}

KTEST(user_syscall_arguments_are_checked)
{
    Outcome o = run("sysargs");
    KEXPECT(o.ok);
    KEXPECT_EQ(o.code, 0);
}

KTEST(user_mmap_munmap_and_threads)
{
    Outcome o = run("mmthreads");
    KEXPECT(o.ok);
    KEXPECT_EQ(o.code, 0);
}

KTEST(user_kill_ends_spinning_and_sleeping_threads)
{
    lib::Result<Task*> r = task::spawn("spin", 0);
    KEXPECT(r.ok());
    Task* tk = r.value();
    sched::sleep_us(50000); // both threads running / asleep
    KEXPECT_EQ(tk->nthreads, 2u);
    uint64_t t0 = timer::now_us();
    task::kill(tk, EXIT_KILLED, "killed by ktest");
    lib::Status st = task::wait(tk, 2000000);
    uint64_t took = timer::now_us() - t0;
    bool done = st.ok();
    int code = tk->exit_code;
    if (!done) {
        (void)task::wait(tk);
    }
    task::put(tk);
    KEXPECT(done);
    KEXPECT_EQ(code, EXIT_KILLED);
    // The sleeper was asleep for 10 s: the kill must wake it.
    if (took > 1000000)
        t.failf("kill took %lu us", took);
}

KTEST(user_task_wait_times_out_then_gets_the_code)
{
    lib::Result<Task*> r = task::spawn("sleeper", 200000);
    KEXPECT(r.ok());
    Task* tk = r.value();
    bool early = task::wait(tk, 20000).error() == lib::Error::TimedOut;
    bool later = task::wait(tk, 5000000).ok();
    int code = tk->exit_code;
    task::put(tk);
    KEXPECT(early);
    KEXPECT(later);
    KEXPECT_EQ(code, 7);
}

KTEST(user_spawn_unknown_program_is_not_found)
{
    lib::Result<Task*> r = task::spawn("no-such-program", 0);
    KEXPECT(!r.ok());
    KEXPECT(r.error() == lib::Error::NotFound);
}

KTEST(user_bad_elf_images_are_refused)
{
    const programs::Program* p = programs::find("hello");
    KEXPECT(p != nullptr);
    auto* copy = static_cast<uint8_t*>(zalloc::kmalloc(p->size, M_KTEST_ELF, zalloc::M_WAITOK));
    KEXPECT(copy != nullptr);
    uint64_t pages0 = vm::uspace::total_pages();
    uint64_t tasks0 = task::count();
    struct Edit {
        size_t at;
        uint8_t value;
    } edits[] = {
        {0, 0x7e},  // magic
        {4, 1},     // 32-bit class
        {18, 62},   // x86-64
        {16, 3},    // shared object
        {32, 0xff}, // program headers far outside the file
    };
    unsigned refused = 0;
    for (const Edit& e : edits) {
        memcpy(copy, p->image, p->size);
        copy[e.at] = e.value;
        lib::Result<Task*> r = task::spawn_image("corrupt", copy, p->size, 0);
        if (r.ok()) {
            (void)task::wait(r.value());
            task::put(r.value());
        } else if (r.error() == lib::Error::Invalid) {
            refused++;
        }
    }
    // And the good image still runs from the copy.
    memcpy(copy, p->image, p->size);
    lib::Result<Task*> good = task::spawn_image("hello-copy", copy, p->size, 3);
    bool ran = good.ok() && task::wait(good.value(), 5000000).ok() && good.value()->exit_code == 3;
    if (good.ok())
        task::put(good.value());
    zalloc::kfree(copy, M_KTEST_ELF);
    KEXPECT_EQ(refused, 5u);
    KEXPECT(ran);
    KEXPECT_EQ(vm::uspace::total_pages(), pages0);
    KEXPECT_EQ(task::count(), tasks0);
}

namespace {
zalloc::ZoneStats g_user_zs[64];
struct Counts {
    size_t zone_pages;
    size_t task_used;
    size_t thread_used;
};
Counts counts()
{
    size_t n = zalloc::snapshot_zones(g_user_zs, 64);
    Counts c {0, 0, 0};
    for (size_t i = 0; i < n && i < 64; i++) {
        c.zone_pages += g_user_zs[i].pages;
        if (strcmp(g_user_zs[i].name, "task") == 0)
            c.task_used = g_user_zs[i].used;
        if (strcmp(g_user_zs[i].name, "thread") == 0)
            c.thread_used = g_user_zs[i].used;
    }
    return c;
}
} // namespace

void user_check_baseline(ktest::Context& t, const char* program, uint64_t arg, unsigned rounds, int want_code,
                         uint64_t timeout_us, unsigned parallel, void (*meanwhile)(ktest::Context&, Task*))
{
    ktest::Quiet quiet;
    auto settle = [] {
        sched::sleep_us(20000);
        for (int i = 0; i < 4; i++)
            zalloc::poll_all();
    };
    settle();
    Counts c0 = counts();
    kstack::Stats ks0 = kstack::stats();
    uint64_t grow0 = kstack::grow_cache_pages();
    uint64_t free0 = vm::kmem::free_pages();
    uint64_t tasks0 = task::count();
    uint64_t threads0 = thread::count();
    for (unsigned i = 0; i < rounds; i++) {
        Task* tasks[8] = {};
        for (unsigned j = 0; j < parallel && j < 8; j++) {
            lib::Result<Task*> r = task::spawn(program, arg + i * parallel + j);
            if (!r.ok()) {
                t.failf("%s: spawn failed: %s", program, lib::error_name(r.error()));
                break;
            }
            tasks[j] = r.value();
            if (meanwhile)
                meanwhile(t, tasks[j]);
        }
        bool bad = false;
        for (unsigned j = 0; j < parallel && j < 8; j++) {
            Task* tk = tasks[j];
            if (!tk)
                continue;
            if (!task::wait(tk, timeout_us).ok()) {
                task::kill(tk, EXIT_KILLED, "ktest timeout");
                (void)task::wait(tk);
            }
            if (!bad && tk->exit_code != want_code) {
                t.failf("%s round %u task %u: code %d, %s", program, i, j, tk->exit_code, tk->why);
                bad = true;
            }
            task::put(tk);
        }
        if (bad || t.failed())
            return;
    }
    uint64_t deadline = timer::now_us() + 5000000;
    while ((thread::count() != threads0 || task::count() != tasks0) && timer::now_us() < deadline)
        sched::sleep_us(5000);
    settle();
    Counts c1 = counts();
    KEXPECT_EQ(task::count(), tasks0);
    KEXPECT_EQ(thread::count(), threads0);
    KEXPECT_EQ(vm::uspace::total_pages(), 0ul);
    KEXPECT_EQ(c1.task_used, c0.task_used);
    KEXPECT_EQ(c1.thread_used, c0.thread_used);
    kstack::Stats ks1 = kstack::stats();
    int64_t cached = int64_t(ks1.object_pages) - int64_t(ks0.object_pages) + int64_t(kstack::grow_cache_pages()) -
                     int64_t(grow0);
    int64_t zone_pages = int64_t(c1.zone_pages) - int64_t(c0.zone_pages);
    int64_t unaccounted = int64_t(free0) - int64_t(vm::kmem::free_pages()) - cached - zone_pages;
    // Stack-region page tables may be built once and kept (a few pages).
    if (unaccounted < -8 || unaccounted > 16)
        t.failf("%ld pages unaccounted for (stack cache %+ld, zones %+ld)", long(unaccounted), long(cached),
                long(zone_pages));
    kprintf("ktest: %s x%u: tasks, threads, user pages and zones back to baseline; %ld pages unaccounted\n", program,
            rounds, long(unaccounted));
}

KTEST(user_memory_back_to_baseline)
{
    user_check_baseline(t, "mmthreads", 0, 8, 0, 20000000);
}

// The fuzzer: two tasks at once, 50,000 random calls each, in every ktest=all
// boot; the kernel survives and everything comes back.
KTEST(user_fuzz_syscalls)
{
    user_check_baseline(t, "fuzz", (50ull << 32) | 1, 1, 0, 60000000, 2);
}

// A million calls: four tasks of 250,000 (explicit: run by the fuzz boots).
KTEST_EXPLICIT(user_fuzz_million_syscalls)
{
    user_check_baseline(t, "fuzz", (250ull << 32) | 100, 1, 0, 300000000, 4);
}

namespace {
struct SumWatch {
    std::atomic<bool> stop {false};
    std::atomic<uint64_t> checks {0}, leaks {0};
};

void sum_watcher(void* arg)
{
    auto* w = static_cast<SumWatch*>(arg);
    while (!w->stop.load(std::memory_order_relaxed)) {
        if (csr_read(sstatus) & SSTATUS_SUM)
            w->leaks.fetch_add(1, std::memory_order_relaxed);
        w->checks.fetch_add(1, std::memory_order_relaxed);
        sched::sleep_us(100); // woken from a timer interrupt, often one that preempted a copy
    }
}
} // namespace

// sstatus.SUM is set only inside user copies: kernel threads sharing the harts
// with two fuzzers (thousands of copies, preempted anywhere) never see it.
KTEST(user_sum_never_leaks_to_kernel_threads)
{
    SumWatch w;
    Thread* th[cpu::MAX_HARTS] = {};
    for (unsigned h = 0; h < cpu::count(); h++) {
        auto r = thread::spawn({.name = "sum-watch", .entry = sum_watcher, .arg = &w, .flags = TF_BOUND,
                                .hart = int(h), .joinable = true});
        KEXPECT(r.ok());
        th[h] = r.value();
    }
    Outcome a = run("fuzz", (20ull << 32) | 7);
    uint64_t during = w.checks.load();
    Outcome b = run("sysargs");
    w.stop.store(true);
    for (unsigned h = 0; h < cpu::count(); h++)
        if (th[h])
            (void)thread::join(th[h]);
    KEXPECT(a.ok && a.code == 0);
    KEXPECT(b.ok && b.code == 0);
    KEXPECT(during > 100);
    KEXPECT_EQ(w.leaks.load(), 0ul);
}
