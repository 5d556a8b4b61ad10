// The RISC-V side of kern/seam/cpu.h: tp points at the running hart's
// kern::HartLocal (kern/arch/riscv/hart.h), whose first word is the dense
// index; interrupts are sstatus.SIE.
#pragma once

#include "kern/arch/riscv/asm.h"

namespace kern {
struct HartLocal;
}

namespace cpu {

inline kern::HartLocal* local()
{
    kern::HartLocal* p;
    asm volatile("mv %0, tp" : "=r"(p));
    return p;
}

// First member of HartLocal is the dense index (static_assert in kern/arch/riscv/hart.h).
inline unsigned id() { return *reinterpret_cast<const unsigned*>(local()); }

constexpr unsigned long IRQS_ON = SSTATUS_SIE;

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

} // namespace cpu
