// The lock-order checker (the job of FreeBSD's WITNESS and Linux's lockdep),
// on in every ktest boot and with bootarg `lockcheck`.
//
// Every acquisition is checked against the spinlocks this hart holds (a stack
// in its HartLocal) and the sleeping locks the running thread holds (in its
// Thread), by the order declared once in kern/sync/lockorder.cc. The first
// violation prints both chains, symbolized, and panics. Also caught: a
// context switch with a spinlock held other than the run-queue lock the
// scheduler hands over, a sleeping lock taken under a spinlock, and a lock
// the table marks NO_IRQ (every sleeping lock among them) taken in an
// interrupt handler. try_lock cannot deadlock: it is not order-checked (the
// interrupt rule still applies), but what it takes is held like any other.
//
// When off, each hook costs one load and a predictable branch (enabled()).
#pragma once

#include <cstdint>

namespace kern {
struct HartLocal;
}

namespace ksync::lockcheck {

extern bool g_enabled;

inline bool enabled() { return __builtin_expect(g_enabled, false); }

// From the lock primitives (only when enabled()). `cls` is the lock's cached
// class (index + 1; 0 until its first acquisition). Interrupts are off for
// the spinlock hooks.
void spin_acquire(const void* lock, const char* name, uint16_t& cls, uintptr_t where, bool trylock);
void spin_release(const void* lock);
void sleep_acquire(const void* lock, const char* name, uint16_t& cls, uintptr_t where, bool trylock);
void sleep_release(const void* lock);
// From the scheduler, just before switch_context.
void before_switch();
// Interrupt handler entry and exit (kern/arch/riscv/trap.cc).
void irq_enter();
void irq_exit();

// Bootargs: `ktest=...` or `lockcheck` turn it on; `lockcheck=report` prints
// each violation once and goes on instead of panicking (for surveying);
// `lockcheck=off` keeps it off even in a ktest boot; `lockcheck=pairs`
// lists every ordering seen, with its first acquirers, before the summary.
void init_from_bootargs();
// "lockcheck: N lock classes, M orderings seen, V violations" (every ktest boot ends with it).
void print_summary();
unsigned violations();
// Those printed under ReportOnly (not in the summary's count).
unsigned expected_violations();

// ktests: while one exists, violations on this hart are printed and counted
// (expected_violations()) instead of panicking.
class [[nodiscard]] ReportOnly {
public:
    ReportOnly();
    ~ReportOnly();
    ReportOnly(const ReportOnly&) = delete;
    ReportOnly& operator=(const ReportOnly&) = delete;
};

// The spinlocks hart `h` holds and where it took them (the spin watchdog's
// report on a holder, read from another hart).
void print_hart_held(const kern::HartLocal& h);

} // namespace ksync::lockcheck
