// User floating point (kern/arch/riscv/fpu.h, docs/user.md): FP values stay
// right across preemption, yields and sleeps in several threads and tasks;
// no register value reaches another task; every FP context is freed; the
// kernel runs with FS Off throughout; printf formats doubles.
#include "kern/arch/riscv/asm.h"
#include "kern/arch/riscv/csr.h"
#include "kern/arch/riscv/fpu.h"
#include "kern/sched/sched.h"
#include "kern/seam/cpu.h"
#include "kern/task/task.h"
#include "test/kernel/ktest.h"
#include "test/kernel/user_baseline.h"

using namespace kern;

namespace {

// The ktest thread is a kernel thread: while the FP tasks run, its sstatus
// must always say FP Off (trap entry clears the user's FS).
std::atomic<unsigned> g_fs_on_in_kernel {0};

void watch_fs(ktest::Context&, Task*)
{
    for (int i = 0; i < 20; i++) {
        if (csr_read(sstatus) & SSTATUS_FS)
            g_fs_on_in_kernel.fetch_add(1, std::memory_order_relaxed);
        sched::sleep_us(500);
    }
}

// Spawn program(arg) and wait for it; its exit code, or -1 on a spawn or wait failure.
int run_for_code(ktest::Context& t, const char* program, uint64_t arg)
{
    lib::Result<Task*> r = task::spawn(program, arg);
    if (!r.ok()) {
        t.failf("spawn %s: %s", program, lib::error_name(r.error()));
        return -1;
    }
    Task* tk = r.value();
    int code = task::wait(tk, 20000000).ok() ? tk->exit_code : -1;
    if (code == -1) {
        task::kill(tk, EXIT_KILLED, "ktest timeout");
        (void)task::wait(tk);
    }
    task::put(tk);
    return code;
}

} // namespace

// Three fpmix tasks at once, twice: four threads each, recurrences checked
// against values known without switches; tasks, threads, zones and pages
// back to baseline after each round, and every FP context freed.
KTEST(user_fp_recurrences_across_switches)
{
    g_fs_on_in_kernel.store(0);
    uint64_t live_before = fpu::live();
    user_check_baseline(t, "fpmix", 1, 2, 0, 120000000, 3, watch_fs);
    KEXPECT_EQ(g_fs_on_in_kernel.load(), 0u);
    KEXPECT_EQ(fpu::live(), live_before); // 30 contexts made, all freed at exit
}

// A filler task per hart keeps the registers full of its pattern; readers
// started among them must find their fresh registers zero every time. A
// program without FP gets no context; every context is freed at exit and kill.
KTEST(user_fp_registers_start_zeroed)
{
    constexpr unsigned MAX_FILLERS = 8;
    uint64_t live_before = fpu::live();
    // Lazy: a program without FP instructions gets no context.
    KEXPECT_EQ(run_for_code(t, "exit42", 0), 42);
    KEXPECT_EQ(fpu::live(), live_before);
    Task* fillers[MAX_FILLERS];
    unsigned n = cpu::count() < MAX_FILLERS ? cpu::count() : MAX_FILLERS;
    unsigned made = 0;
    for (; made < n; made++) {
        lib::Result<Task*> r = task::spawn("fpleak", 1);
        if (!r.ok()) {
            t.failf("spawn filler: %s", lib::error_name(r.error()));
            break;
        }
        fillers[made] = r.value();
    }
    // Each filler has a context once it ran its first FP instruction; from
    // then on the registers of the harts it runs on hold its pattern.
    for (int i = 0; i < 2000 && fpu::live() < live_before + made; i++)
        sched::sleep_us(1000);
    KEXPECT_EQ(fpu::live(), live_before + made);
    for (int i = 0; i < 16; i++) {
        int code = run_for_code(t, "fpleak", 0);
        if (code != 0)
            t.failf("reader %d: exit code %d (1-32: that register + 1 was not zero, 33: fcsr)", i, code);
    }
    for (unsigned i = 0; i < made; i++) {
        task::kill(fillers[i], EXIT_KILLED, "ktest done");
        (void)task::wait(fillers[i]);
        // Killed, not exited 10: its own registers came back across every yield.
        KEXPECT_EQ(fillers[i]->exit_code, EXIT_KILLED);
        task::put(fillers[i]);
    }
    // Every context freed: the readers' at their exit, the fillers' at the kill.
    KEXPECT_EQ(fpu::live(), live_before);
}

// printf's %f, %e and %g (user/lib/format_float.cc) against expected strings.
KTEST(user_fp_printf_formats_doubles)
{
    int code = run_for_code(t, "fpprint", 0);
    if (code != 0)
        t.failf("fpprint: exit code %d (the number of the first wrong line, see its output)", code);
}
