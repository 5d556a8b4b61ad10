// Malloc types: who kmalloc's memory belongs to, for `vmstat -m` and limits.
//
//   ZALLOC_MALLOC_DEFINE(M_VMSWAP, "swapmeta", 0);
//   void* p = zalloc::kmalloc(n, M_VMSWAP, zalloc::M_WAITOK);
//   zalloc::kfree(p, M_VMSWAP);
//
// Counters are per hart, written only by their hart with interrupts off
// (a plain load and store: counter.h), and summed when read: a free on
// another hart than the allocation makes one hart's count negative and the sum
// right. The limit check sums the harts' memory (MAX_HARTS loads) on each
// allocation of a type with a limit; the high-water mark is sampled (every 16th
// request of a hart, every limited allocation, every statistics read), so a
// short peak between samples can be missed.
#pragma once

#include "kern/seam/cpu.h"
#include "lib/list.h"
#include "zalloc/counter.h"

#include <atomic>
#include <cstddef>
#include <cstdint>

namespace zalloc {

struct MallocType {
    struct alignas(64) PerHart {
        OwnerCounter<long> in_use;
        OwnerCounter<long> memory;
        OwnerCounter<uint64_t> requests;
        OwnerCounter<uint64_t> failures;
    };

    constexpr explicit MallocType(const char* n, size_t lim = 0) : name(n), limit(lim) {}
    MallocType(const MallocType&) = delete;
    MallocType& operator=(const MallocType&) = delete;

    [[nodiscard]] long memory_now() const
    {
        long m = 0;
        for (const PerHart& h : per_hart)
            m += h.memory.get();
        return m;
    }

    const char* name;
    size_t limit; // bytes; 0: none
    PerHart per_hart[cpu::MAX_HARTS];
    std::atomic<size_t> high_water {0};
    std::atomic<bool> registered {false}; // on the vmstat -m list (first use)
    lib::ListNode node;
};

#define ZALLOC_MALLOC_DEFINE(var, desc, lim) ::zalloc::MallocType var {desc, lim}

// Take a type off the vmstat -m list (a type that goes out of scope: tests).
void malloc_type_unregister(MallocType& type);

} // namespace zalloc
