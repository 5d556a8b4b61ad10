#include "kern/arch/riscv/timer.h"

#include "kern/arch/riscv/csr.h"
#include "kern/arch/riscv/hart.h"
#include "test/kernel/ktest.h"
#include "kern/arch/riscv/sbi.h"
#include "kern/sched/sched.h"
#include "kstack/grow.h"

namespace kern::timer {
namespace {
uint64_t g_hz = 10000000;
uint64_t g_interval;
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
        ktest::watchdog_tick();
}

} // namespace kern::timer
