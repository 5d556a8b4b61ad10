// Supervisor CSR access and the few privileged instructions the kernel uses.
// The CSR bits (SSTATUS_*, SIE_*, SCAUSE_INTERRUPT, SATP_*) are in
// kern/arch/riscv/asm.h, shared with the assembly.
#pragma once

#include "kern/arch/riscv/asm.h"

#include <cstdint>

#define csr_read(name)                                   \
    ({                                                   \
        unsigned long v_;                                \
        asm volatile("csrr %0, " #name : "=r"(v_));      \
        v_;                                              \
    })
#define csr_write(name, v) asm volatile("csrw " #name ", %0" ::"r"(v) : "memory")
#define csr_set(name, v) asm volatile("csrs " #name ", %0" ::"r"(v) : "memory")
#define csr_clear(name, v) asm volatile("csrc " #name ", %0" ::"r"(v) : "memory")

namespace csr {

inline uint64_t rdtime() { return csr_read(time); }
inline uint64_t rdinstret() { return csr_read(instret); }
inline uint64_t rdcycle() { return csr_read(cycle); }

inline void wfi() { asm volatile("wfi" ::: "memory"); }

} // namespace csr
