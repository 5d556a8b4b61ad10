// RISC-V Platform-Level Interrupt Controller. Each hart's S-mode interrupt
// line is one PLIC "context"; which one comes from the device tree's
// interrupts-extended, never from a formula.
#pragma once

#include <cstdint>

namespace dev::plic {

void init(uintptr_t base, unsigned ndev);
[[nodiscard]] bool present();
void set_priority(unsigned irq, unsigned prio);
void enable(unsigned irq, int context);
void disable(unsigned irq, int context);
void set_threshold(int context, unsigned threshold);
// Returns the pending interrupt with the highest priority for this context, 0 if none.
unsigned claim(int context);
void complete(int context, unsigned irq);
unsigned ndev();

} // namespace dev::plic
