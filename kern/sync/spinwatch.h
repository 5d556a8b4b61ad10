// The spin watchdog: a hart that spins on a spinlock for more than a second
// (with interrupts off, as every spinlock waiter does) reports itself and
// panics, so a deadlock fails a boot with a report instead of a silent hang.
//
// The spinner checks the time in its own spin loop: with interrupts off, no
// timer interrupt reaches it, and in the usual deadlock (two harts spinning
// on each other's lock) no other hart takes interrupts either, so a timer on
// another hart could not be relied on. The report prints the spinner's
// backtrace, names the lock and its holder hart, prints the locks the holder
// holds and where it took them (when the lock checker is on), and asks the
// holder for its backtrace through its HartLocal: a holder that is itself
// spinning (any deadlock cycle) answers from its own spin loop.
#pragma once

#include <cstdint>

namespace ksync {
class SpinLock;
}

namespace ksync::spinwatch {

constexpr unsigned POLL_EVERY = 1024; // spin iterations between two looks at the time
constexpr uint64_t LIMIT_MS = 1000;

// Lives for one contended acquisition, in SpinLock's spin loop.
class Spinning {
public:
    explicit Spinning(const ksync::SpinLock* lock);
    ~Spinning();
    Spinning(const Spinning&) = delete;
    Spinning& operator=(const Spinning&) = delete;
    // Answers a backtrace request, stops if another hart panicked, and
    // reports past the limit.
    void poll();

private:
    const ksync::SpinLock* lock_;
    uint64_t deadline_; // rdtime ticks; 0: no timer yet, no watchdog
};

} // namespace ksync::spinwatch
