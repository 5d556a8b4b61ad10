// Kernel-stack growth: resident stack memory per blocked thread with
// stacks that grow on demand against fixed 16 KiB stacks, measured in the same
// boot on the same workload, and the cost of one growth fault.
#include "kern/seam/cpu.h"
#include "test/kernel/kbench.h"
#include "kern/console/printf.h"
#include "kern/sched/sched.h"
#include "kern/sched/thread.h"
#include "kern/arch/riscv/timer.h"
#include "kern/sync/wait.h"
#include "kstack/kstack.h"

#include <atomic>

using namespace kern;

namespace {

// ---- resident stack memory per blocked thread -----------------------------------

constexpr unsigned DEMO_THREADS = 2000;
Thread* g_demo[DEMO_THREADS];
std::atomic<unsigned> g_blocked;
std::atomic<bool> g_release;
int g_chan;

// The demo workload: half the threads in a timed sleep, half blocked on a wait
// channel: the two ways a kernel thread waits.
void demo_sleeper(void*)
{
    g_blocked.fetch_add(1);
    while (!g_release.load())
        sched::sleep_us(600000000ull);
}

void demo_waiter(void*)
{
    g_blocked.fetch_add(1);
    while (!g_release.load())
        (void)ksync::sleep_on(&g_chan, nullptr, 0, "demo msg");
}

// Resident stack pages per thread for DEMO_THREADS blocked threads whose
// stacks start with `initial` pages; 0 on error.
uint64_t pages_per_thread_x100(size_t initial)
{
    kstack::set_initial_pages(initial);
    (void)kstack::drop_caches(); // no stack built under the other setting
    g_blocked.store(0);
    g_release.store(false);
    uint64_t p0 = kstack::stats().object_pages;
    unsigned n = 0;
    for (; n < DEMO_THREADS; n++) {
        auto r = thread::spawn({.name = "demo", .entry = n % 2 ? demo_waiter : demo_sleeper,
                                .hart = int(n % cpu::count()), .joinable = true});
        if (!r.ok())
            break;
        g_demo[n] = r.value();
    }
    while (g_blocked.load() < n)
        sched::sleep_us(1000);
    sched::sleep_us(20000);
    uint64_t p1 = kstack::stats().object_pages;
    g_release.store(true);
    for (unsigned i = 0; i < n; i++)
        (void)sched::wake(g_demo[i]);
    (void)ksync::wakeup(&g_chan);
    for (unsigned i = 0; i < n; i++)
        thread::join(g_demo[i]);
    if (n != DEMO_THREADS) {
        kprintf("kbench: error kstack_resident: only %u threads\n", n);
        return 0;
    }
    return (p1 - p0) * 100 / n;
}

// ---- one growth fault -------------------------------------------------------------

constexpr unsigned GROW_N = 200;
uint64_t g_grow[GROW_N], g_mapped[GROW_N];
std::atomic<unsigned> g_grow_n;

// A 4 KiB frame: from a fresh one-page stack this reaches into the next page.
__attribute__((noinline)) void deeper()
{
    volatile char pad[4096];
    pad[0] = 1;
    pad[sizeof pad - 1] = 1;
    asm volatile("" ::"r"(pad) : "memory");
}

void grow_once(void*)
{
    unsigned i = g_grow_n.load();
    kstack::Stats k0 = kstack::stats();
    uint64_t a = kbench::now();
    deeper(); // grows the stack (a fault) if its second page is not mapped yet
    uint64_t b = kbench::now();
    deeper(); // the same, mapped
    uint64_t c = kbench::now();
    kstack::Stats k1 = kstack::stats();
    if (k1.grow_faults - k0.grow_faults == 1 && i < GROW_N) {
        g_grow[i] = b - a;
        g_mapped[i] = c - b;
        g_grow_n.store(i + 1);
    }
}

} // namespace

KBENCH(kstack_resident)
{
    uint64_t fixed = pages_per_thread_x100(kstack::STACK_PAGES);
    uint64_t grown = pages_per_thread_x100(1);
    kstack::set_initial_pages(1);
    if (!fixed || !grown)
        return;
    kbench::info("kstack_resident", "%u blocked threads (half in a timed sleep, half on a wait channel), "
                 "%u harts; stack pages of the new threads, per thread", DEMO_THREADS, cpu::count());
    kbench::report("kstack_fixed_pages", fixed, 100, "pages/thread");
    kbench::report("kstack_grown_pages", grown, 100, "pages/thread");
    kbench::report("kstack_saving", (fixed - grown) * 100, fixed, "%");
}

KBENCH(kstack_grow_fault)
{
    kstack::set_initial_pages(1);
    (void)kstack::drop_caches();
    g_grow_n.store(0);
    for (unsigned i = 0; i < 4 * GROW_N && g_grow_n.load() < GROW_N; i++) {
        auto r = thread::spawn({.name = "grow", .entry = grow_once, .flags = TF_BOUND, .hart = 0, .joinable = true});
        if (!r.ok())
            break;
        thread::join(r.value());
        (void)kstack::drop_caches(); // the next thread gets a fresh one-page stack
    }
    unsigned n = g_grow_n.load();
    if (n < GROW_N / 2) {
        kprintf("kbench: error kstack_grow_fault: only %u samples with exactly one fault\n", n);
        return;
    }
    uint64_t with = kbench::median(g_grow, n), without = kbench::median(g_mapped, n);
    kbench::info("kstack_grow_fault", "%u samples, median; a 4 KiB frame on a fresh one-page stack minus the "
                 "same call mapped; with the page fill and the cache refill", n);
    kbench::report_net("kstack_grow_fault", with, without, 1, "instructions");
}
