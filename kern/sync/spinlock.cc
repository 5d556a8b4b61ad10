#include "kern/sync/spinlock.h"

#include "kern/seam/lock_watch.h"
#include "kern/seam/panic.h"

#define ACQUIRER reinterpret_cast<uintptr_t>(__builtin_return_address(0))

namespace ksync {

// From lock() (kern/sync/spinlock.h), with interrupts off (irq: as they
// were) and the lock not taken by it: start over in the order it always had.
void SpinLock::lock_slow(unsigned long irq, uintptr_t where)
{
    if (held_by_me())
        panic("spinlock %s: recursive acquire on hart %u", name_, cpu::id());
    // Checked before spinning: an order that can deadlock is reported even
    // on the boot where it does.
    if (lockwatch::checking())
        lockwatch::acquired(this, name_, class_, where, false);
    while (locked_.exchange(1, std::memory_order_acquire) != 0)
        wait_until_free();
    owner_.store(cpu::id(), std::memory_order_relaxed);
    saved_irq_ = irq;
}

// Out of line: the contended path.
void SpinLock::wait_until_free()
{
    lockwatch::Spinning watch(this);
    for (unsigned i = 1; locked_.load(std::memory_order_relaxed) != 0; i++)
        if ((i % lockwatch::POLL_EVERY) == 0)
            watch.poll();
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
    if (lockwatch::checking())
        lockwatch::acquired(this, name_, class_, ACQUIRER, true);
    return true;
}

void SpinLock::unlock_slow()
{
    if (!held_by_me())
        panic("spinlock %s: released by hart %u, which does not hold it", name_, cpu::id());
    unsigned long irq = saved_irq_;
    if (lockwatch::checking())
        lockwatch::released(this);
    owner_.store(NO_OWNER, std::memory_order_relaxed);
    locked_.store(0, std::memory_order_release);
    cpu::irq_restore(irq);
}


} // namespace ksync
