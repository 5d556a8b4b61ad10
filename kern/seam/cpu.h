// The hardware seam: all that hardware-free code (zalloc/, the policy parts of
// vm/ and kstack/, docs/layers.md lists them) may know of the machine. Those
// files compile into the kernel and into host test binaries, so they include
// kern/seam/ and lib/ but nothing of kern/arch/ or dev/ (make check-layers).
// Each header here states an interface and ends by including its
// implementation, "seam_impl/NAME.h", which the include path picks, never an
// #ifdef: kern/arch/riscv/seam_impl/ in the kernel (Makefile KCXXFLAGS) and
// test/host/seam_impl/ in host tests (HOST_CXXFLAGS), where each std::thread
// plays a hart.
//
// This header: the running hart and interrupt sections.
#pragma once

namespace cpu {

constexpr unsigned MAX_HARTS = 8;

// The running hart's dense index 0..count()-1 (not the firmware's hart id,
// which on SiFive boards starts at 1).
inline unsigned id();
// Harts up (kernel: kern/arch/riscv/smp.cc; host: test/host/fake_kernel.cc).
unsigned count();

// Interrupts off on this hart; returns IRQS_ON (the implementation's
// constexpr unsigned long) if they were on, else 0. irq_restore(IRQS_ON)
// turns them on.
inline unsigned long irq_save();
inline void irq_restore(unsigned long saved);
inline bool irqs_enabled();

} // namespace cpu

#include "seam_impl/cpu.h"

namespace cpu {

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
