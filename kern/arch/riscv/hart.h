// Per-hart data. tp always points at the running hart's HartLocal in boot code and
// the kernel; trap entry from user mode takes it back from sscratch (trapentry.S).
#pragma once

#include "kern/arch/riscv/asm.h"
#include "kern/seam/cpu.h"
#include "kern/sync/lockorder.h"

#include <atomic>
#include <cstddef>
#include <cstdint>

namespace kern {

struct TrapFrame;
struct Thread;

struct HartLocal {
    unsigned index;          // dense index 0..count-1; first member (cpu::id() reads it)
    unsigned hartid;         // the firmware's hart id (SBI, PLIC contexts)
    uintptr_t boot_stack_top;
    uintptr_t stack_limit;      // lowest usable address of the running stack (trap entry checks sp)
    uintptr_t overflow_stack_top; // this hart's own stack for stack-overflow reports
    uintptr_t boot_stack_base;
    int plic_context;        // S-mode external interrupt context, -1 if none
    std::atomic<bool> online;
    uint64_t timer_ticks;
    uint64_t irqs_external;
    uint64_t irqs_timer;
    uint64_t irqs_soft;
    std::atomic<uint32_t> ipi_pending; // bit mask of kern::Ipi reasons
    uint32_t trap_depth;               // nested kernel traps (a fault inside a handler)
    uintptr_t stack_top;               // top of the running stack (reports)
    Thread* current;                   // the running thread, nullptr before threads exist
    uintptr_t exec_fixup;              // probe_exec's resume address while it runs, else 0
    uintptr_t user_sp;                 // trap entry from U-mode parks the user sp here (kern/arch/riscv/trapentry.S)
    uint64_t satp;                     // the address space loaded on this hart (vm/uspace.h activate)
    // The lock checker (kern/sync/lockcheck.h): spinlocks this hart holds, how
    // deep in interrupt handlers it is, and whether a report is being
    // printed (the checker's own locking is not checked) or only reported.
    ksync::lockcheck::HartHeld held_locks;
    uint32_t irq_depth;
    uint32_t lockcheck_busy;
    uint32_t lockcheck_report_only;
    // The spin watchdog (kern/sync/spinwatch.h): the lock this hart spins on and
    // since when (rdtime), and another hart's request for its backtrace.
    const void* spinning_on;
    uint64_t spin_since;
    std::atomic<uint32_t> backtrace_request;
};

static_assert(offsetof(HartLocal, index) == 0, "cpu::id() reads the first word");
static_assert(offsetof(HartLocal, hartid) == HARTLOCAL_HARTID, "kern/arch/riscv/asm.h");
static_assert(cpu::MAX_HARTS == HART_SLOTS, "kern/arch/riscv/asm.h");
static_assert(offsetof(HartLocal, boot_stack_top) == HARTLOCAL_BOOT_STACK_TOP, "kern/arch/riscv/asm.h");
static_assert(offsetof(HartLocal, stack_limit) == HARTLOCAL_STACK_LIMIT, "kern/arch/riscv/asm.h");
static_assert(offsetof(HartLocal, overflow_stack_top) == HARTLOCAL_OVERFLOW_TOP, "kern/arch/riscv/asm.h");
static_assert(offsetof(HartLocal, current) == HARTLOCAL_CURRENT, "kern/arch/riscv/asm.h");
static_assert(offsetof(HartLocal, exec_fixup) == HARTLOCAL_EXEC_FIXUP, "kern/arch/riscv/asm.h");
static_assert(offsetof(HartLocal, stack_top) == HARTLOCAL_STACK_TOP, "kern/arch/riscv/asm.h");
static_assert(offsetof(HartLocal, user_sp) == HARTLOCAL_USER_SP, "kern/arch/riscv/asm.h");

} // namespace kern

// Unmangled: boot/entry.S points the boot hart's tp at the first one.
extern "C" kern::HartLocal hart_locals[cpu::MAX_HARTS];

namespace kern {

inline HartLocal& this_hart() { return *reinterpret_cast<HartLocal*>(cpu::local()); }
inline HartLocal& hart(unsigned index) { return hart_locals[index]; }

// Number of harts that are up (the boot hart and every secondary that reported in).
unsigned online_count();

} // namespace kern
