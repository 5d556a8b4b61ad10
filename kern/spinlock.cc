#include "kern/spinlock.h"

#include "kern/panic.h"

namespace ksync {

void SpinLock::lock()
{
    unsigned long irq = cpu::irq_save();
    if (held_by_me())
        panic("spinlock %s: recursive acquire on hart %u", name_, cpu::id());
    while (locked_.exchange(1, std::memory_order_acquire) != 0) {
        while (locked_.load(std::memory_order_relaxed) != 0) {
        }
    }
    owner_.store(cpu::id(), std::memory_order_relaxed);
    saved_irq_ = irq;
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
    return true;
}

void SpinLock::unlock()
{
    if (!held_by_me())
        panic("spinlock %s: released by hart %u, which does not hold it", name_, cpu::id());
    unsigned long irq = saved_irq_;
    owner_.store(NO_OWNER, std::memory_order_relaxed);
    locked_.store(0, std::memory_order_release);
    cpu::irq_restore(irq);
}

bool SpinLock::held_by_me() const
{
    return owner_.load(std::memory_order_relaxed) == cpu::id();
}

} // namespace ksync
