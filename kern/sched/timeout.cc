// Timed sleeps: prepare_sleep links a sleeper with a deadline onto the
// timeout list (kern/sched/runqueue.h), the tick wakes those whose deadline
// has passed, and a sleep that ends first takes itself off.
#include "kern/sched/sched.h"

#include "kern/sched/runqueue.h"
#include "kern/arch/riscv/timer.h"

namespace kern::sched {

using namespace detail;

// Wake each expired timeout with its sleep's sequence number, outside
// the timeout lock (the thread is type-stable memory; the sequence check
// makes a stale entry harmless), at most 16 a tick.
void detail::expire_timeouts()
{
    uint64_t now = timer::now_ticks();
    for (int batch = 0; batch < 16; batch++) {
        Thread* t;
        uint64_t seq;
        {
            if (!g_timeout_lock.try_lock())
                return;
            t = g_timeouts.front();
            if (!t || t->wait_deadline > now) {
                g_timeout_lock.unlock();
                return;
            }
            g_timeouts.remove(*t);
            seq = t->sleep_seq;
            g_timeout_lock.unlock();
        }
        wake(t, seq, true);
    }
}

void leave_timeouts_of(Thread* t) { leave_timeouts(t); }

void sleep_us(uint64_t us)
{
    uint64_t deadline = timer::now_ticks() + us * timer::timebase_hz() / 1000000 + 1;
    prepare_sleep(&g_timeouts, "sleep", deadline);
    block();
}

} // namespace kern::sched
