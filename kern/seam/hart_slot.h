// The hardware seam (kern/seam/cpu.h): per-hart slots for allocator caches.
//
// A zone's per-hart cache (zalloc/hart_cache.h) is an array of cpu::MAX_HARTS
// slots, HART_SLOT_STRIDE bytes apart (a multiple of 16, at least 64, so two
// harts' hot words never share a cache line). Finding the running hart's slot
// is on every allocation, so the array is described once by a key
// (hart_slot_key, when the array is set up or switched) and the fast path
// only turns the key into the slot (my_hart_slot).
#pragma once

#include "kern/seam/cpu.h"

#include <cstddef>
#include <cstdint>

namespace cpu {

// constexpr size_t HART_SLOT_STRIDE: the implementation's stride.

// The key for a slot array starting at `slots` (HART_SLOT_STRIDE apart).
inline uintptr_t hart_slot_key(const void* slots);
// The running hart's slot of the array `key` describes. Interrupts off.
inline void* my_hart_slot(uintptr_t key);

} // namespace cpu

#include "seam_impl/hart_slot.h"

static_assert(cpu::HART_SLOT_STRIDE % 16 == 0 && cpu::HART_SLOT_STRIDE >= 64, "kern/seam/hart_slot.h");
