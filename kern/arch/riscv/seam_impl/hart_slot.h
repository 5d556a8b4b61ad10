// The RISC-V side of kern/seam/hart_slot.h. tp points at the running hart's
// kern::HartLocal in the array hart_locals, so tp = hart_locals + index * S
// with S = sizeof(HartLocal). Slot arrays use that same stride and their key is
// slots - hart_locals: the running hart's slot is then tp + key, one add after
// the key's load, where index * stride would take a load, a shift and an add.
// If HartLocal's size ever stops being a multiple of 16 (or drops under 64),
// slots fall back to a 64-byte stride indexed by cpu::id().
#pragma once

#include "kern/arch/riscv/hart.h"

#include <cstddef>
#include <cstdint>

namespace cpu {

constexpr bool TP_SLOTS = sizeof(kern::HartLocal) % 16 == 0 && sizeof(kern::HartLocal) >= 64;
constexpr size_t HART_SLOT_STRIDE = TP_SLOTS ? sizeof(kern::HartLocal) : 64;

inline uintptr_t hart_slot_key(const void* slots)
{
    if constexpr (TP_SLOTS)
        return reinterpret_cast<uintptr_t>(slots) - reinterpret_cast<uintptr_t>(&hart_locals[0]);
    return reinterpret_cast<uintptr_t>(slots);
}

inline void* my_hart_slot(uintptr_t key)
{
    if constexpr (TP_SLOTS) {
        uintptr_t a;
        asm volatile("add %0, %1, tp" : "=r"(a) : "r"(key));
        return reinterpret_cast<void*>(a);
    }
    return reinterpret_cast<void*>(key + id() * HART_SLOT_STRIDE);
}

} // namespace cpu
