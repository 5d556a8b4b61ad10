// The host side of kern/seam/cpu.h: each std::thread is a hart, and its
// "interrupts" are a per-thread flag. Inline, so host measurements of the
// allocator fast paths are not dominated by calls into the fake (the kernel's
// versions are inline too).
#pragma once

namespace cpu {

inline thread_local unsigned host_hart = 0;
inline thread_local bool host_irq_on = true;

constexpr unsigned long IRQS_ON = 1;

inline unsigned id() { return host_hart; }
inline unsigned long irq_save()
{
    unsigned long old = host_irq_on ? IRQS_ON : 0;
    host_irq_on = false;
    return old;
}
inline void irq_restore(unsigned long saved)
{
    if (saved)
        host_irq_on = true;
}
inline bool irqs_enabled() { return host_irq_on; }

// Host tests only: bind the calling thread to hart `index` and set the hart count.
inline void host_bind(unsigned index) { host_hart = index; }
void host_set_count(unsigned n);

} // namespace cpu
