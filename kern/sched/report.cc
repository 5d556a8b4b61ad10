// What the scheduler shows of itself: the hang report's dump of every run
// queue and thread, and each hart's counters.
#include "kern/sched/sched.h"

#include "kern/sched/runqueue.h"
#include "kern/console/printf.h"
#include "kern/arch/riscv/timer.h"

namespace kern::sched {

using namespace detail;

void dump()
{
    for (unsigned h = 0; h < cpu::MAX_HARTS; h++) {
        RunQueue& rq = g_rq[h];
        if (!rq.current)
            continue;
        kprintf("  hart %u: current %s, %u queued (bitmap 0x%x), need_resched %d, lock %s\n", h, rq.current->name,
                rq.queued, rq.bitmap, rq.need_resched, rq.lock.held_by_me() ? "mine" : "-");
    }
    thread::for_each([](Thread& t) {
        kprintf("  thread %lu %-12s %-8s hart %u on_cpu %d wait %s deadline %lu seq %lu holds %u%s\n", t.id, t.name,
                state_name(t.state), t.hart, t.on_cpu.load() ? 1 : 0, t.wait_reason ? t.wait_reason : "-",
                t.wait_deadline, t.sleep_seq, t.stack_holds.count(), t.timeout_node.linked() ? " (on timeout list)" : "");
    });
    kprintf("  now %lu, first timeout %lu\n", timer::now_ticks(),
            g_timeouts.front() ? g_timeouts.front()->wait_deadline : 0);
}

HartStats stats(unsigned h)
{
    RunQueue& rq = g_rq[h];
    return {rq.queued, rq.switches, rq.steals, rq.idle_switches, rq.current};
}

} // namespace kern::sched
