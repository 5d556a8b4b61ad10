// Kernel tests of the boot layer: harts, timer, IPIs, spinlocks, probes,
// printf, bootargs and the shell.
#include "boot/bootargs.h"
#include "boot/harts.h"
#include "kern/arch/riscv/fixup.h"
#include "kern/arch/riscv/csr.h"
#include "kern/arch/riscv/hart.h"
#include "test/kernel/ktest.h"
#include "boot/platform.h"
#include "kern/console/printf.h"
#include "kern/shell/shell.h"
#include "kern/arch/riscv/smp.h"
#include "kern/sync/spinlock.h"
#include "kern/arch/riscv/timer.h"
#include "lib/string.h"

using namespace kern;

KTEST(harts_all_online)
{
    // A missing hart says how its bring-up went (boot/harts.h), so one
    // failure tells a hart SBI never started from a hang in secondary_main.
    for (unsigned i = 0; i < platform::info().nharts; i++) {
        if (hart(i).online.load())
            continue;
        const harts::Bringup& b = harts::bringup(i);
        t.failf("hart %u offline: SBI error %ld, SBI state %ld, reached \"%s\"", i, b.start_error, b.sbi_state,
                harts::step_name(b.step));
    }
    KEXPECT_EQ(online_count(), platform::info().nharts);
    KEXPECT(cpu::count() >= 1);
    KEXPECT_EQ(cpu::id(), 0u);
}

KTEST(timer_ticks_on_every_hart)
{
    uint64_t before[cpu::MAX_HARTS];
    for (unsigned i = 0; i < cpu::MAX_HARTS; i++)
        before[i] = hart(i).timer_ticks;
    // 50 ms is 5 ticks at 100 Hz; wait long enough for a few even on a slow host.
    uint64_t end = timer::now_us() + 100000;
    while (timer::now_us() < end)
        csr::wfi();
    for (unsigned i = 0; i < cpu::MAX_HARTS; i++) {
        if (!hart(i).online.load())
            continue;
        if (hart(i).timer_ticks <= before[i])
            t.failf("hart %u took no timer tick in 100 ms", i);
    }
}

namespace {
std::atomic<unsigned> g_called_mask;
void mark_called() { g_called_mask.fetch_or(1u << cpu::id()); }
} // namespace

KTEST(ipi_call_reaches_every_hart)
{
    g_called_mask = 0;
    smp::call_on_all(mark_called);
    unsigned expect = 0;
    for (unsigned i = 0; i < cpu::MAX_HARTS; i++)
        if (hart(i).online.load())
            expect |= 1u << i;
    KEXPECT_EQ(g_called_mask.load(), expect);
}

namespace {
struct LockTest {
    ksync::SpinLock lock {"ktest-lock"};
    uint64_t counter = 0; // plain: only the lock protects it
    unsigned per_hart = 20000;
};
void hammer(LockTest& lt)
{
    for (unsigned i = 0; i < lt.per_hart; i++) {
        ksync::SpinGuard g(lt.lock);
        lt.counter++;
    }
}
} // namespace

KTEST(spinlock_counts_exactly_on_all_harts)
{
    static LockTest lt;
    lt.counter = 0;
    smp::run_concurrently([] { hammer(lt); });
    KEXPECT_EQ(lt.counter, uint64_t(lt.per_hart) * online_count());
}

KTEST(probe_survives_a_bad_address)
{
    uint64_t v = 0;
    // Physical 0 has no device or RAM behind it on virt or sifive_u... but the
    // sifive_u boot ROM is at 0x1000, so use an address below it.
    KEXPECT(probe_read_u64(0x8, &v) != 0);
    KEXPECT(probe_write_u64(0x8, 1) != 0);
    uint64_t here = 42;
    KEXPECT(probe_read_u64(reinterpret_cast<uintptr_t>(&here), &v) == 0);
    KEXPECT_EQ(v, 42u);
}

KTEST(ksnprintf_formats_like_c)
{
    char buf[64];
    int n = ksnprintf(buf, sizeof buf, "[%5d|%-4s|%#x|%lu]", -42, "ab", 255, 123456789012ul);
    KEXPECT(strcmp(buf, "[  -42|ab  |0xff|123456789012]") == 0);
    KEXPECT_EQ(n, 30);
    n = ksnprintf(buf, 4, "%s", "truncated");
    KEXPECT(strcmp(buf, "tru") == 0);
    KEXPECT_EQ(n, 9);
}

KTEST(shell_rejects_unknown_commands)
{
    char good[] = "help help";
    char bad[] = "no-such-command";
    char args[] = "info extra-argument";
    KEXPECT_EQ(shell::execute(good), 0);
    KEXPECT(shell::execute(bad) != 0);
    KEXPECT(shell::execute(args) != 0);
}

KTEST(bootargs_parse_key_value)
{
    char buf[32];
    KEXPECT(bootargs::get("ktest", buf, sizeof buf));
    KEXPECT(!bootargs::has("no-such-key"));
    KEXPECT(!bootargs::has("ktes"));
}

namespace {
// Three named frames, so the runner can check the backtrace names them.
[[gnu::noinline]] void fault_level3(volatile uint64_t* p)
{
    asm volatile("" : "+r"(p)); // hide the constant address from the compiler's checks
    *p = 0xbad;
    asm volatile("" ::: "memory");
}
[[gnu::noinline]] void fault_level2(volatile uint64_t* p)
{
    fault_level3(p);
    asm volatile("" ::: "memory");
}
[[gnu::noinline]] void fault_level1(volatile uint64_t* p)
{
    fault_level2(p);
    asm volatile("" ::: "memory");
}
} // namespace

// Faults on purpose: the kernel must report the trap with a symbolized
// backtrace and stop. Run only when named (test/run_all.py checks the report).
KTEST_EXPLICIT(fault_backtrace)
{
    kprintf("ktest: faulting on purpose now\n");
    fault_level1(reinterpret_cast<volatile uint64_t*>(0x10));
    t.failf("the store to address 0x10 did not fault");
}
