// Supervisor CSR access and the few privileged instructions the kernel uses.
#pragma once

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

constexpr unsigned long SIE_SSIE = 1ul << 1; // software (IPI)
constexpr unsigned long SIE_STIE = 1ul << 5; // timer
constexpr unsigned long SIE_SEIE = 1ul << 9; // external (PLIC)

constexpr unsigned long SCAUSE_INTERRUPT = 1ul << 63;

inline uint64_t rdtime() { return csr_read(time); }
inline uint64_t rdinstret() { return csr_read(instret); }
inline uint64_t rdcycle() { return csr_read(cycle); }

inline void wfi() { asm volatile("wfi" ::: "memory"); }

} // namespace csr
