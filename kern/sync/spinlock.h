// kern/sync/: the kernel's locks and what checks them: spinlocks (here), wait
// queues, mutexes and condition variables (wait.h), the declared order of
// every lock class (lockorder.h, docs/locking.md), the lock checker
// (lockcheck.h) and the watchdog for a hart that spins too long
// (spinwatch.h). Nearly everything takes locks, so this folder needs little:
// the hart (cpu.h), the console for its reports, kstack/hold.h (a waiter
// holds its stack) and the scheduler for sleeping. The rule it enforces: hold
// a spinlock briefly and never sleep under one; only wait.h's locks sleep.
//
// Spinlocks: interrupts off while held, owner recorded.
//
// Taking a spinlock disables interrupts on this hart first, so an interrupt
// handler that takes the same lock can never spin against its own hart. The
// owner's hart index is recorded so that recursion and unlocking from the wrong
// hart are caught (a panic naming the lock) instead of deadlocking silently.
// In the kernel, every acquisition is also seen by the lock checker when it is
// on (kern/sync/lockcheck.h), and a hart that spins too long is reported by the
// spin watchdog (kern/sync/spinwatch.h), both reached through the hardware
// seam (kern/seam/lock_watch.h). The same class compiles on the host, where
// the seam is test/host's and neither is built.
#pragma once

#include "kern/seam/cpu.h"
#include "kern/seam/lock_watch.h"

#include <atomic>

namespace ksync {

class SpinLock {
public:
    explicit constexpr SpinLock(const char* name) : name_(name) {}
    SpinLock(const SpinLock&) = delete;
    SpinLock& operator=(const SpinLock&) = delete;

    // Inline, the common case only: a free lock and no checker. Anything
    // else (a recursive acquire, the checker on, a lock taken, a release
    // by a hart that does not hold it) goes out of line.
    void lock() { lock_with(cpu::irq_save(), cpu::id()); }
    // The same with interrupts already off (and to stay off after unlock()):
    // a trap handler's own lock, or a lock nested in one that turned them off.
    // hart: cpu::id(), when the caller has read it already (the IPC fast path).
    void lock_irqs_off() { lock_with(0, cpu::id()); }
    void lock_irqs_off(unsigned hart) { lock_with(0, hart); }
    void unlock() { unlock(cpu::id()); }
    void unlock(unsigned hart)
    {
        if (owner_.load(std::memory_order_relaxed) != hart || lockwatch::checking()) [[unlikely]] {
            unlock_slow();
            return;
        }
        unsigned long irq = saved_irq_;
        owner_.store(NO_OWNER, std::memory_order_relaxed);
        locked_.store(0, std::memory_order_release);
        cpu::irq_restore(irq);
    }
    [[nodiscard]] bool try_lock();
    [[nodiscard]] bool held_by_me() const { return owner_.load(std::memory_order_relaxed) == cpu::id(); }
    [[nodiscard]] const char* name() const { return name_; }

    // The hart index of the holder, NO_OWNER if free (reports).
    [[nodiscard]] unsigned owner() const { return owner_.load(std::memory_order_relaxed); }
    static constexpr unsigned NO_OWNER = ~0u;

private:
    // me: the hart's index, read once (it is an asm load, which the compiler
    // may not merge).
    [[gnu::always_inline]] void lock_with(unsigned long irq, unsigned me)
    {
        if (owner_.load(std::memory_order_relaxed) == me || lockwatch::checking() ||
            locked_.exchange(1, std::memory_order_acquire) != 0) [[unlikely]] {
            // Where the lock is taken, for the checker's reports: here,
            // inlined into the caller.
            here:
            lock_slow(irq, reinterpret_cast<uintptr_t>(&&here));
            return;
        }
        owner_.store(me, std::memory_order_relaxed);
        saved_irq_ = irq;
    }
    // Out of line: what lock() and unlock() do when not in the common case.
    [[gnu::noinline]] void lock_slow(unsigned long irq, uintptr_t where);
    [[gnu::noinline]] void unlock_slow();
    void wait_until_free();

    std::atomic<unsigned> locked_ {0};
    std::atomic<unsigned> owner_ {NO_OWNER};
    unsigned long saved_irq_ = 0;
    const char* name_;
    uint16_t class_ = 0; // the lock checker's class, + 1 (0: not looked up yet)
};

// RAII holder; the only way most code takes a lock.
class [[nodiscard]] SpinGuard {
public:
    explicit SpinGuard(SpinLock& l) : lock_(l) { lock_.lock(); }
    ~SpinGuard() { lock_.unlock(); }
    SpinGuard(const SpinGuard&) = delete;
    SpinGuard& operator=(const SpinGuard&) = delete;

private:
    SpinLock& lock_;
};

} // namespace ksync
