// Wait queues, wait channels, mutexes and condition variables.
//
// Each waiting thread links a Waiter that lives on its own stack; the Waiter
// embeds a kstack::Hold, so while it is linked the stack cannot be swapped or
// shrunk. A queue that itself lives on a stack holds that stack for as long
// as it exists. Nothing else needs to remember anything (FreeBSD's PHOLD
// problem).
#pragma once

#include "kern/sync/spinlock.h"
#include "kern/sched/thread.h"
#include "kstack/hold.h"
#include "lib/function_ref.h"
#include "lib/list.h"
#include "lib/result.h"

#include <cstdint>

namespace ksync {

struct Waiter {
    explicit Waiter(kern::Thread* t, const void* chan = nullptr, const char* why = nullptr);
    Waiter(const Waiter&) = delete;
    Waiter& operator=(const Waiter&) = delete;

    lib::ListNode node;
    kern::Thread* thread;
    const void* channel; // wait channels share hashed queues
    const char* reason;  // what ps shows; the queue's name if null
    kstack::Hold hold;   // keeps the stack resident while linked
    bool woken = false;
};

using WaiterList = lib::List<Waiter, &Waiter::node>;

class WaitQueue {
public:
    explicit WaitQueue(const char* name);
    ~WaitQueue();
    WaitQueue(const WaitQueue&) = delete;
    WaitQueue& operator=(const WaitQueue&) = delete;

    // Sleep until woken. `held`, if given, is a spinlock the caller holds: it is
    // released once the thread is on the queue (no wakeup can be lost) and
    // taken again before returning. timeout_us 0 means none; on timeout the
    // result is Error::TimedOut.
    [[nodiscard]] lib::Status wait(ksync::SpinLock* held = nullptr, uint64_t timeout_us = 0);
    // Same, for a waiter on a shared channel queue.
    [[nodiscard]] lib::Status wait_channel(const void* chan, ksync::SpinLock* held, uint64_t timeout_us,
                                           const char* reason);

    bool wake_one();
    // Wake the first waiter and return its thread (nullptr if none). `before`
    // runs on that thread under the queue lock before it is woken (a mutex
    // hands over ownership there).
    kern::Thread* wake_first(lib::FunctionRef<void(kern::Thread*)> before);
    unsigned wake_all();
    unsigned wake_channel(const void* chan);
    [[nodiscard]] bool empty();
    [[nodiscard]] const char* name() const { return name_; }

    // For the hold checker: visit every linked waiter under the queue's lock.
    void for_each_waiter(lib::FunctionRef<void(const Waiter&)> fn);
    lib::ListNode registry_node;

private:
    lib::Status sleep(Waiter& w, ksync::SpinLock* held, uint64_t timeout_us);

    ksync::SpinLock lock_;
    // A queue on a kernel stack (a Mutex or CondVar as a local variable)
    // holds that stack for its whole life: other threads link waiters into
    // it, wake it and walk the registry through it whenever they like, so
    // it must never be swapped out or given back under them (kstack/hold.h).
    // Taken by the constructor, which runs on that stack, so by the owner.
    kstack::HoldCount* home_;
    WaiterList waiters_;
    const char* name_;
};

// Every WaitQueue registers itself (for the hold checker and `ps`).
void for_each_wait_queue(lib::FunctionRef<void(WaitQueue&)> fn);

// Wait channels: sleep on any address, woken by wakeup(address). `reason` is
// what ps shows as the wait channel.
[[nodiscard]] lib::Status sleep_on(const void* chan, ksync::SpinLock* held, uint64_t timeout_us = 0,
                                   const char* reason = "chan");
unsigned wakeup(const void* chan);

// A sleeping mutex. Ownership is handed straight to the first waiter, so a
// stream of lockers cannot starve one.
class Mutex {
public:
    explicit Mutex(const char* name) : q_(name) {}
    void lock();
    [[nodiscard]] bool try_lock();
    void unlock();
    [[nodiscard]] bool held_by_me() const;
    [[nodiscard]] kern::Thread* owner() const { return owner_; }

private:
    ksync::SpinLock guard_ {"mutex-guard"};
    kern::Thread* owner_ = nullptr;
    WaitQueue q_;
    uint16_t class_ = 0; // the lock checker's class (kern/sync/lockcheck.h), + 1
};

class [[nodiscard]] MutexGuard {
public:
    explicit MutexGuard(Mutex& m) : m_(m) { m_.lock(); }
    ~MutexGuard() { m_.unlock(); }
    MutexGuard(const MutexGuard&) = delete;
    MutexGuard& operator=(const MutexGuard&) = delete;

private:
    Mutex& m_;
};

class CondVar {
public:
    explicit CondVar(const char* name) : q_(name) {}
    // Atomically release m and sleep; m is held again on return.
    [[nodiscard]] lib::Status wait(Mutex& m, uint64_t timeout_us = 0);
    void signal();
    void broadcast();

private:
    ksync::SpinLock guard_ {"condvar-guard"};
    WaitQueue q_;
};

} // namespace ksync
