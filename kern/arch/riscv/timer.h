// The clock and the periodic tick, through SBI TIME so it works on cores
// without Sstc (every SiFive core). The rate comes from the device tree's
// timebase-frequency.
#pragma once

#include <cstdint>

namespace kern::timer {

constexpr unsigned TICK_HZ = 100;

void init(uint64_t timebase_hz);
void start_hart(); // program this hart's first tick and enable the timer interrupt
void interrupt();  // the timer interrupt handler
uint64_t timebase_hz();
uint64_t now_ticks(); // rdtime
uint64_t now_us();
// The tick at which a sleep of `us` microseconds ends (at least one tick
// away); 0 for 0: no deadline (sched::prepare_sleep).
uint64_t deadline_after_us(uint64_t us);
void delay_us(uint64_t us);

// Called from every tick on hart 0, after the scheduler's work, with
// interrupts off (the ktest watchdog: test/kernel/ktest.cc). A plain function
// pointer: it is stored and called long after set_tick_hook returns.
using TickHook = void (*)();
void set_tick_hook(TickHook fn);

} // namespace kern::timer
