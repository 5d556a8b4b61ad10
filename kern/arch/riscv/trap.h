// Trap handling: interrupts (timer, external, software) and exceptions.
#pragma once

#include "kern/arch/riscv/asm.h"

#include <cstddef>
#include <cstdint>

namespace kern {

struct Thread;

struct TrapFrame {
    uint64_t x[31]; // x1..x31: x[0] is ra, x[1] sp, x[7] s0/fp, x[9] a0...
    uint64_t sepc;
    uint64_t sstatus;
    uint64_t scause;
    uint64_t stval;
    uint64_t pad;

    uint64_t& ra() { return x[0]; }
    uint64_t& sp() { return x[1]; }
    uint64_t& fp() { return x[7]; }
};

static_assert(sizeof(TrapFrame) == TF_SIZE);
static_assert(offsetof(TrapFrame, sepc) == TF_SEPC);
static_assert(offsetof(TrapFrame, stval) == TF_STVAL);

namespace trap {

enum Cause : uint64_t {
    INSN_MISALIGNED = 0,
    INSN_ACCESS = 1,
    ILLEGAL_INSN = 2,
    BREAKPOINT = 3,
    LOAD_MISALIGNED = 4,
    LOAD_ACCESS = 5,
    STORE_MISALIGNED = 6,
    STORE_ACCESS = 7,
    ECALL_U = SCAUSE_ECALL_U,
    ECALL_S = 9,
    INSN_PAGE_FAULT = 12,
    LOAD_PAGE_FAULT = 13,
    STORE_PAGE_FAULT = 15,
};

enum Irq : uint64_t { IRQ_SOFT = 1, IRQ_TIMER = 5, IRQ_EXTERNAL = 9 };

// Install the vector and enable the interrupt sources on this hart.
void init_hart();
const char* cause_name(uint64_t scause);
// Print cause, stval, sepc and registers (panic() adds the backtrace, across the trap).
void report(const TrapFrame& tf, const char* why);
// An interrupt, from either mode: IPI, timer or external.
void handle_interrupt(const TrapFrame& tf);
// A system call from U-mode (user_trap.cc), sepc already past the ecall,
// interrupts off: dispatched with them on, then back towards user mode as
// from any trap (a thread whose task is ending leaves instead).
void user_syscall(Thread* me, TrapFrame& tf);

} // namespace trap
} // namespace kern
