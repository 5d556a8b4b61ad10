// Spinlocks: interrupts off while held, owner recorded.
//
// Taking a spinlock disables interrupts on this hart first, so an interrupt
// handler that takes the same lock can never spin against its own hart. The
// owner's hart index is recorded so that recursion and unlocking from the wrong
// hart are caught (a panic naming the lock) instead of deadlocking silently.
// The same class compiles on the host, where cpu:: is the fake in test/host.
#pragma once

#include "kern/cpu.h"

#include <atomic>

namespace ksync {

class SpinLock {
public:
    explicit constexpr SpinLock(const char* name) : name_(name) {}
    SpinLock(const SpinLock&) = delete;
    SpinLock& operator=(const SpinLock&) = delete;

    void lock();
    void unlock();
    [[nodiscard]] bool try_lock();
    [[nodiscard]] bool held_by_me() const;
    [[nodiscard]] const char* name() const { return name_; }

private:
    static constexpr unsigned NO_OWNER = ~0u;

    std::atomic<unsigned> locked_ {0};
    std::atomic<unsigned> owner_ {NO_OWNER};
    unsigned long saved_irq_ = 0;
    const char* name_;
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
