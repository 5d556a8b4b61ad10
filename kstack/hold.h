// Stack holds: the answer to FreeBSD's PHOLD problem.
//
// A thread's kernel stack may be swapped out (or shrunk) while it sleeps,
// unless something on that stack is linked where other threads can reach it:
// a wait-queue entry, a mutex waiter, a timer, an IPC buffer. Each such
// primitive embeds a Hold in its on-stack object, so constructing the object
// takes the hold and destroying it releases it: no caller can forget. The
// swapper and the stack shrinker skip any thread whose count is not zero.
// A debug walk (kstack/holdcheck.cc) checks the rule: every linked object that
// lies in a kernel stack belongs to a thread with a hold.
//
// Hardware-free: host tests check the counting rules.
#pragma once

#include "kern/seam/panic.h"

#include <atomic>
#include <cstdint>

namespace kstack {

class HoldCount {
public:
    void acquire() { n_.fetch_add(1, std::memory_order_acq_rel); }
    void release()
    {
        uint32_t old = n_.fetch_sub(1, std::memory_order_acq_rel);
        if (old == 0)
            panic("kstack: stack hold released more often than taken");
    }
    [[nodiscard]] uint32_t count() const { return n_.load(std::memory_order_acquire); }
    [[nodiscard]] bool held() const { return count() != 0; }

private:
    std::atomic<uint32_t> n_ {0};
};

// RAII hold. Not copyable or movable: it lives exactly as long as the object
// that contains it.
class [[nodiscard]] Hold {
public:
    explicit Hold(HoldCount& c) : c_(c) { c_.acquire(); }
    ~Hold() { c_.release(); }
    Hold(const Hold&) = delete;
    Hold& operator=(const Hold&) = delete;

private:
    HoldCount& c_;
};

} // namespace kstack
