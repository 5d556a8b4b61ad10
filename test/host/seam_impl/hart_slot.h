// The host side of kern/seam/hart_slot.h: 64-byte slots indexed by cpu::id()
// (each std::thread plays a hart); the key is the array's address.
#pragma once

#include <cstddef>
#include <cstdint>

namespace cpu {

constexpr size_t HART_SLOT_STRIDE = 64;

inline uintptr_t hart_slot_key(const void* slots) { return reinterpret_cast<uintptr_t>(slots); }
inline void* my_hart_slot(uintptr_t key) { return reinterpret_cast<void*>(key + id() * HART_SLOT_STRIDE); }

} // namespace cpu
