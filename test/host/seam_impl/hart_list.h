// kern/seam/hart_list.h on the host: the same list and word, in C++. A host
// "hart" is a std::thread that nothing interrupts, so the kernel's restart
// (kern/arch/riscv/restart.h) has no counterpart here; the word's add is the
// same atomic add.
#pragma once

#include <atomic>
#include <cstdint>

namespace cpu {

inline void* hart_list_pop(uintptr_t key, uint64_t add)
{
    HartList* s = static_cast<HartList*>(my_hart_slot(key));
    void* h = s->head;
    if (!h)
        return nullptr;
    s->head = *static_cast<void**>(h);
    s->word.fetch_add(add, std::memory_order_relaxed);
    return h;
}

template <unsigned SHIFT>
inline bool hart_list_push(uintptr_t key, void* p, uint64_t add)
{
    static_assert(SHIFT < 64);
    HartList* s = static_cast<HartList*>(my_hart_slot(key));
    if (static_cast<int64_t>(s->word.load(std::memory_order_relaxed)) >> SHIFT <= 0)
        return false;
    *static_cast<void**>(p) = s->head;
    s->head = p;
    s->word.fetch_add(add, std::memory_order_relaxed);
    return true;
}

} // namespace cpu
