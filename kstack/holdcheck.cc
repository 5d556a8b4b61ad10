#include "kstack/holdcheck.h"

#include "kern/console/panic.h"
#include "kern/console/printf.h"
#include "kern/sched/thread.h"
#include "kern/sync/wait.h"
#include "kstack/kstack.h"

namespace kern::holdcheck {

bool address_ok(uintptr_t addr, char* why, unsigned why_size)
{
    kstack::Stack* s = kstack::from_address(addr);
    if (!s)
        return true; // not on a kernel stack
    Thread* t = kstack::owner(s);
    if (t && t->stack_holds.held())
        return true;
    if (why)
        ksnprintf(why, why_size, "0x%lx lies in the stack of thread %lu (%s), which holds no stack hold", addr,
                  t ? t->id : 0, t ? t->name : "none");
    return false;
}

unsigned verify()
{
    unsigned violations = 0;
    ksync::for_each_wait_queue([&](ksync::WaitQueue& q) {
        // The queue itself: others link into it and wake through it.
        char qwhy[160];
        if (!address_ok(reinterpret_cast<uintptr_t>(&q), qwhy, sizeof qwhy)) {
            kprintf("holdcheck: wait queue %s itself: %s\n", q.name(), qwhy);
            violations++;
        }
        q.for_each_waiter([&](const ksync::Waiter& waiter) {
            char why[160];
            if (!address_ok(reinterpret_cast<uintptr_t>(&waiter), why, sizeof why)) {
                kprintf("holdcheck: wait queue %s: %s\n", q.name(), why);
                violations++;
            }
        });
    });
    return violations;
}

void verify_or_panic()
{
    if (unsigned n = verify())
        panic("holdcheck: %u object(s) on unheld kernel stacks are linked where other threads can see them", n);
}

} // namespace kern::holdcheck
