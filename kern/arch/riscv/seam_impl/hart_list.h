// kern/seam/hart_list.h on RISC-V: restartable sequences.
//
// Each sequence starts at a label and ends with its one visible store, the
// head; the pair of addresses goes into the __restart_table section, which
// kern/arch/riscv/restart.cc sorts at boot and the trap path searches when an
// interrupt arrives in kernel mode: a pc in [begin, commit] goes back to begin.
// Interrupts are precise, so a sequence is either interrupted before its head
// store (and reruns from the start, reading tp again: the thread may have moved
// to another hart) or after it (and is complete). The "?" flag puts the table
// entry in the section group of the code it describes, so an inline function's
// copy that the linker drops takes its entry with it.
//
// Registers the sequence needs across a restart are inputs, never written;
// everything it computes is an early-clobbered output, recomputed on a rerun.
#pragma once

#include <atomic>
#include <cstdint>

#define ZEST_RESTARTABLE(begin, commit)                                                                         \
    ".pushsection __restart_table, \"aw?\", @progbits\n"                                                        \
    ".balign 8\n"                                                                                               \
    ".dword " begin ", " commit "\n"                                                                            \
    ".popsection\n"

// At the slow-path label of an asm goto: GCC 12 cannot place the slow path's
// argument moves on the asm's branch edge and hoists them above the sequence,
// onto the fast path; an empty asm at the label gives them a place there.
#define SLOW_PATH_BARRIER() asm volatile("" ::: "memory")

namespace cpu {

static_assert(TP_SLOTS, "the sequences find the slot as key + tp");

inline void* hart_list_pop(uintptr_t key, uint64_t add)
{
    HartList* s;
    void* h;
    void* n;
    asm goto("1:  add %[s], %[key], tp\n"
             "    ld %[h], 8(%[s])\n"
             "    beqz %[h], %l[empty]\n"
             "    ld %[n], 0(%[h])\n"
             "2:  sd %[n], 8(%[s])\n" ZEST_RESTARTABLE("1b", "2b")
             : [s] "=&r"(s), [h] "=&r"(h), [n] "=&r"(n)
             : [key] "r"(key)
             : "memory"
             : empty);
    if (!h)
        __builtin_unreachable(); // the sequence fell through: it found an object
    s->word.fetch_add(add, std::memory_order_relaxed);
    return h;
empty:
    SLOW_PATH_BARRIER();
    return nullptr;
}

template <unsigned SHIFT>
inline bool hart_list_push(uintptr_t key, void* p, uint64_t add)
{
    static_assert(SHIFT < 64);
    HartList* s;
    uint64_t room;
    void* h;
    asm goto("1:  add %[s], %[key], tp\n"
             "    ld %[r], 0(%[s])\n"
             "    srai %[r], %[r], %[shift]\n"
             "    blez %[r], %l[full]\n"
             "    ld %[h], 8(%[s])\n"
             "    sd %[h], 0(%[p])\n"
             "2:  sd %[p], 8(%[s])\n" ZEST_RESTARTABLE("1b", "2b")
             : [s] "=&r"(s), [r] "=&r"(room), [h] "=&r"(h)
             : [key] "r"(key), [p] "r"(p), [shift] "i"(SHIFT)
             : "memory"
             : full);
    s->word.fetch_add(add, std::memory_order_relaxed);
    return true;
full:
    SLOW_PATH_BARRIER();
    return false;
}

} // namespace cpu
