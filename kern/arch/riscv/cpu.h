// The current hart, as hardware-free code sees it.
//
// Allocator and VM policy code needs three things from the CPU: which hart it
// runs on (a dense index 0..count()-1, not the firmware's hart id, which on
// SiFive boards starts at 1), the number of harts, and sections with interrupts
// off. In the kernel these read tp and sstatus; in host tests (ZEST_HOST) each
// std::thread plays a hart and "interrupts off" is a per-thread flag, so the
// same allocator source runs in both.
#pragma once

#include <cstdint>

namespace cpu {

constexpr unsigned MAX_HARTS = 8;

#ifdef ZEST_HOST

// Each std::thread is a hart; its "interrupts" are a per-thread flag. Inline,
// so host measurements of the allocator fast paths are not dominated by calls
// into the fake (the kernel's versions are inline too).
inline thread_local unsigned host_hart = 0;
inline thread_local bool host_irq_on = true;

inline unsigned id() { return host_hart; }
unsigned count();
inline unsigned long irq_save()
{
    unsigned long old = host_irq_on;
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

#else

struct HartLocal; // kern/arch/riscv/hart.h

inline HartLocal* local()
{
    HartLocal* p;
    asm volatile("mv %0, tp" : "=r"(p));
    return p;
}

// First member of HartLocal is the dense index (static_assert in kern/arch/riscv/hart.h).
inline unsigned id() { return *reinterpret_cast<const unsigned*>(local()); }
unsigned count();

// What irq_save() returns when interrupts were on; irq_restore(IRQS_ON) enables them.
constexpr unsigned long IRQS_ON = 1ul << 1; // sstatus.SIE

inline unsigned long irq_save()
{
    unsigned long old;
    asm volatile("csrrc %0, sstatus, %1" : "=r"(old) : "r"(IRQS_ON) : "memory");
    return old & IRQS_ON;
}

inline void irq_restore(unsigned long saved)
{
    if (saved)
        asm volatile("csrs sstatus, %0" ::"r"(IRQS_ON) : "memory");
}

inline bool irqs_enabled()
{
    unsigned long s;
    asm volatile("csrr %0, sstatus" : "=r"(s));
    return s & IRQS_ON;
}

#endif

// RAII: interrupts off for the guard's lifetime, restored to what they were.
class [[nodiscard]] IrqGuard {
public:
    IrqGuard() : saved_(irq_save()) {}
    ~IrqGuard() { irq_restore(saved_); }
    IrqGuard(const IrqGuard&) = delete;
    IrqGuard& operator=(const IrqGuard&) = delete;

private:
    unsigned long saved_;
};

} // namespace cpu
