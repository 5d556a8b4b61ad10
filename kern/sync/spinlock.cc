#include "kern/sync/spinlock.h"

#include "kern/console/panic.h"

#ifndef ZEST_HOST
#include "kern/sync/lockcheck.h"
#include "kern/sync/spinwatch.h"
#define ACQUIRER reinterpret_cast<uintptr_t>(__builtin_return_address(0))
#endif

namespace ksync {

void SpinLock::lock()
{
    unsigned long irq = cpu::irq_save();
    if (held_by_me())
        panic("spinlock %s: recursive acquire on hart %u", name_, cpu::id());
#ifndef ZEST_HOST
    // Checked before spinning: an order that can deadlock is reported even
    // on the boot where it does.
    if (lockcheck::enabled())
        lockcheck::spin_acquire(this, name_, class_, ACQUIRER, false);
#endif
    while (locked_.exchange(1, std::memory_order_acquire) != 0)
        wait_until_free();
    owner_.store(cpu::id(), std::memory_order_relaxed);
    saved_irq_ = irq;
}

// Out of line: the contended path.
void SpinLock::wait_until_free()
{
#ifndef ZEST_HOST
    kern::spinwatch::Spinning watch(this);
    for (unsigned i = 1; locked_.load(std::memory_order_relaxed) != 0; i++)
        if ((i % kern::spinwatch::POLL_EVERY) == 0)
            watch.poll();
#else
    while (locked_.load(std::memory_order_relaxed) != 0) {
    }
#endif
}

bool SpinLock::try_lock()
{
    unsigned long irq = cpu::irq_save();
    if (locked_.exchange(1, std::memory_order_acquire) != 0) {
        cpu::irq_restore(irq);
        return false;
    }
    owner_.store(cpu::id(), std::memory_order_relaxed);
    saved_irq_ = irq;
#ifndef ZEST_HOST
    if (lockcheck::enabled())
        lockcheck::spin_acquire(this, name_, class_, ACQUIRER, true);
#endif
    return true;
}

void SpinLock::unlock()
{
    if (!held_by_me())
        panic("spinlock %s: released by hart %u, which does not hold it", name_, cpu::id());
    unsigned long irq = saved_irq_;
#ifndef ZEST_HOST
    if (lockcheck::enabled())
        lockcheck::spin_release(this);
#endif
    owner_.store(NO_OWNER, std::memory_order_relaxed);
    locked_.store(0, std::memory_order_release);
    cpu::irq_restore(irq);
}

bool SpinLock::held_by_me() const
{
    return owner_.load(std::memory_order_relaxed) == cpu::id();
}

} // namespace ksync
