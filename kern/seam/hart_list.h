// The hardware seam (kern/seam/cpu.h): restartable operations on a per-hart
// object list, the allocator fast paths (zalloc/hart_cache.h).
//
// A slot (one per hart, found through a key: kern/seam/hart_slot.h) holds a
// counter word and the head of a singly linked list threaded through the
// objects' first word. pop() and push() change the list without turning
// interrupts off and without atomic instructions on it: each is a short
// instruction sequence whose only store that others can see is its last
// (the head). An interrupt that arrives before that store restarts the
// sequence from its first instruction (the kernel's trap path,
// kern/arch/riscv/restart.h), so the sequence reruns on whatever hart the
// code then runs on, as if it had not begun. After the head store, the slot's
// word is changed by one atomic add, so the word stays exact even when a
// thread is moved to another hart between the two.
//
// What the word means is the caller's: pop() adds `add` to it; push() pushes
// only if the word, read as signed, shifted right by `shift`, is positive
// (the room left, zalloc/hart_cache.h), and then adds `add`.
#pragma once

#include "kern/seam/hart_slot.h"

#include <atomic>
#include <cstddef>
#include <cstdint>

namespace cpu {

struct HartList {
    std::atomic<uint64_t> word {0}; // the caller's counter (offset 0: the atomic add's address)
    void* head = nullptr;           // objects, linked through their word 0
};
static_assert(offsetof(HartList, head) == 8 && sizeof(HartList) == 16);

// The running hart's list of the slots `key` names: its first object, taken
// off the list, or nullptr if the list is empty (the word is not touched).
[[nodiscard]] inline void* hart_list_pop(uintptr_t key, uint64_t add);
// Push p (word 0 is overwritten) if the word's room (int64_t(word) >> SHIFT)
// is positive; false, touching nothing, if not.
template <unsigned SHIFT>
[[nodiscard]] inline bool hart_list_push(uintptr_t key, void* p, uint64_t add);

} // namespace cpu

#include "seam_impl/hart_list.h"
