#include "kern/arch/riscv/timer.h"

#include "kern/arch/riscv/csr.h"
#include "kern/arch/riscv/hart.h"
#include "kern/arch/riscv/sbi.h"
#include "kern/sched/sched.h"
#include "kstack/grow.h"

#include <atomic>

namespace kern::timer {
namespace {
uint64_t g_hz = 10000000;
uint64_t g_interval;
std::atomic<TickHook> g_tick_hook {nullptr};
} // namespace

void init(uint64_t hz)
{
    g_hz = hz;
    g_interval = hz / TICK_HZ;
}

uint64_t timebase_hz() { return g_hz; }
uint64_t now_ticks() { return csr::rdtime(); }
uint64_t now_us() { return now_ticks() * 1000000 / g_hz; }

uint64_t deadline_after_us(uint64_t us) { return us ? now_ticks() + us * g_hz / 1000000 + 1 : 0; }

void delay_us(uint64_t us)
{
    uint64_t end = now_ticks() + us * g_hz / 1000000;
    while (now_ticks() < end) {
    }
}

void start_hart()
{
    sbi::set_timer(now_ticks() + g_interval);
    csr_set(sie, SIE_STIE);
}

void interrupt()
{
    HartLocal& h = this_hart();
    h.timer_ticks++;
    h.irqs_timer++;
    // Setting the next deadline also clears the pending timer interrupt.
    sbi::set_timer(now_ticks() + g_interval);
    sched::tick();
    kstack::refill_grow_cache(); // outside the growth fault, which never allocates
    if (h.index == 0)
        if (TickHook fn = g_tick_hook.load(std::memory_order_acquire))
            fn();
}

void set_tick_hook(TickHook fn) { g_tick_hook.store(fn, std::memory_order_release); }

} // namespace kern::timer
