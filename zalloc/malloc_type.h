// Malloc types: who kmalloc's memory belongs to, for `vmstat -m` and limits.
//
//   ZALLOC_MALLOC_DEFINE(M_VMSWAP, "swapmeta", 0);
//   void* p = zalloc::kmalloc(n, M_VMSWAP, zalloc::M_WAITOK);
//   zalloc::kfree(p, M_VMSWAP);
//
// Counters are per hart, added to with one atomic add (HartCounter, counter.h)
// right after kmalloc's fast path has taken or given back the object
// (kmalloc.h), and summed when read. A hart's counters sit in a slot of its own, HART_SLOT_STRIDE apart
// (kern/seam/hart_slot.h), so the running hart's are one add away from the
// type's key, as a zone's hart caches are.
//
// Two words per hart carry objects and bytes, each a plain add per call:
//     alloc += (bytes / 8) << 32 | 1      (kmalloc)
//     freed += (bytes / 8) << 32 | 1      (kfree)
// Each word wraps freely; only the difference of the sums is read:
//     sum(alloc) - sum(freed) = (memory / 8) << 32 | in_use   (mod 2^64)
// which is exact while a type holds under 2^32 objects and under 32 GiB
// (memory is backed by RAM, and Zest's boards have at most 16 GiB; every size
// is a multiple of 8). A free on another hart than the allocation makes one
// hart's difference "negative" and the sum right.
// Requests: the low 32 bits of the sum of the alloc words are every
// allocation of the type mod 2^32 (their carries go into the bytes, which only
// the difference reads). The readers extend that to 64 bits: each read under
// kmalloc's type lock (`vmstat -m`, and poll_all() about once a second) adds how
// far those 32 bits moved since the previous read (fold_requests, kmalloc.cc),
// which is exact as long as a type makes fewer than 2^32 allocations between
// two reads (at 50 million allocations a second on each of 8 harts, about
// 10 s); requests add the failures. So kmalloc's fast path pays one add and nothing else per call.
// The high-water mark is sampled (a sum over every hart) at each read and on
// every allocation kmalloc's slow path serves: a type whose memory grows
// empties its class's hart list every burst, and the refill is the slow path.
// A short peak between samples can be missed, and a type that grows on a list
// other types of its class keep refilled with their frees is seen at the next
// read.
#pragma once

#include "kern/seam/cpu.h"
#include "kern/seam/hart_slot.h"
#include "lib/list.h"
#include "zalloc/counter.h"

#include <atomic>
#include <cstddef>
#include <cstdint>

namespace zalloc {

struct MallocType {
    // One hart's counters (see above).
    struct Counters {
        HartCounter<uint64_t> alloc;
        HartCounter<uint64_t> freed;
        HartCounter<uint64_t> failures; // failed requests
    };
    static constexpr unsigned BYTES_SHIFT = 32;
    static constexpr uint64_t OBJS_MASK = (uint64_t(1) << BYTES_SHIFT) - 1;
    // What one object of `bytes` (a multiple of 8) adds to alloc or freed.
    [[nodiscard]] static constexpr uint64_t delta(size_t bytes) { return (uint64_t(bytes / 8) << BYTES_SHIFT) | 1; }

    struct Totals {
        uint64_t in_use;
        uint64_t memory;
        uint64_t allocs_low; // every allocation, mod 2^32 (fold_requests extends it)
        uint64_t failures;
    };

    constexpr explicit MallocType(const char* n, size_t lim = 0) : name(n), limit(lim) {}
    MallocType(const MallocType&) = delete;
    MallocType& operator=(const MallocType&) = delete;

    // The sums over every hart (racing writers: each counter old or new).
    [[nodiscard]] Totals totals() const
    {
        uint64_t diff = 0, allocs = 0, failures = 0;
        for (const Slot& s : slots_) {
            uint64_t a = s.c.alloc.get();
            diff += a - s.c.freed.get();
            allocs += a;
            failures += s.c.failures.get();
        }
        return Totals {diff & OBJS_MASK, (diff >> BYTES_SHIFT) * 8, allocs & OBJS_MASK, failures};
    }
    // Memory alone (the high-water samples and the limit check: fewer loads).
    [[nodiscard]] long memory_now() const
    {
        uint64_t diff = 0;
        for (const Slot& s : slots_)
            diff += s.c.alloc.get() - s.c.freed.get();
        return static_cast<long>((diff >> BYTES_SHIFT) * 8);
    }

    // The running hart's counters: through fast_key (the fast paths, which test
    // it anyway, and may have moved to another hart by the time they add: the
    // adds are atomic), or by index (the slow paths, which also serve types that
    // have no key: unused, or freed to with the wrong type).
    [[nodiscard]] static Counters& mine(uintptr_t k) { return *static_cast<Counters*>(cpu::my_hart_slot(k)); }
    [[nodiscard]] Counters& on(unsigned hart) { return slots_[hart].c; }
    [[nodiscard]] uintptr_t slots_key() const { return cpu::hart_slot_key(&slots_[0]); }

    const char* name;
    size_t limit; // bytes; 0: none
    // Set when the type is first used (kmalloc.cc): the slots' key, unless the
    // type has a limit (then 0 stays: every allocation takes the slow path,
    // which checks the limit).
    std::atomic<uintptr_t> fast_key {0};
    std::atomic<size_t> high_water {0};
    std::atomic<bool> registered {false}; // on the vmstat -m list (first use)
    // Under kmalloc's type lock (fold_requests): allocations up to the last
    // read, in 64 bits, and the low 32 bits of the alloc sum then.
    uint64_t allocs_folded = 0;
    uint64_t allocs_seen = 0;
    lib::ListNode node;

private:
    struct Slot {
        Counters c;
        unsigned char pad[cpu::HART_SLOT_STRIDE - sizeof(Counters)];
    };
    static_assert(sizeof(Slot) == cpu::HART_SLOT_STRIDE && sizeof(Counters) <= 64);
    alignas(64) Slot slots_[cpu::MAX_HARTS] {};
};

#define ZALLOC_MALLOC_DEFINE(var, desc, lim) ::zalloc::MallocType var {desc, lim}

// Take a type off the vmstat -m list (a type that goes out of scope: tests).
void malloc_type_unregister(MallocType& type);

} // namespace zalloc
