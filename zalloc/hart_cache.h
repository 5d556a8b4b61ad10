// The per-hart object cache in front of every zone: the allocation fast path.
//
// Both zone kinds (zalloc's Zone and kmalloc_obj's ObjZone) keep, per hart, a
// singly linked list of free objects threaded through the objects' first word,
// and one 64-bit word that holds two things:
//
//     word = allocs << ROOM_BITS | room
//
// allocs counts this hart's allocations (the vmstat "requests"); room is how
// many more objects free() may push before the list is full (cap - length). So
// an allocation is: pop the list, word += ALLOC_ONE + 1 (one more request, one
// more room); a free is: room != 0, word -= 1, push. Each touches one counter
// word with a plain load and store, no atomic, interrupts off. A miss (empty
// list) or a full list goes to the zone's slow path, which is out of line.
//
// Debug mode keeps every list empty and every room at zero, so both fast paths
// always miss and the slow paths, which carry the checks, see every call.
//
// Interrupts off and on (cpu::fast_irq_save and fast_irq_restore,
// kern/seam/cpu.h) cost one instruction each in the kernel. Finding the running
// hart's slot (kern/seam/hart_slot.h) is one load and one add: the slot arrays
// use the seam's stride, and a zone stores the array's key once (init, bypass).
// Slots are at least 64 bytes apart and the hot 16 bytes never straddle a cache
// line, so two harts' hot words never share a line.
//
// Bypass. A zone can make every hart's fast paths miss for a while, at no
// cost to them: the key is pointed at a shared array of slots that are empty
// and have no room, so pop() finds no object and push() no room, and both go
// to the slow path, which works on the real slots (of()). Those shared slots are never written: the fast paths
// write a slot only after finding an object or room in it.
#pragma once

#include "kern/seam/cpu.h"
#include "kern/seam/hart_slot.h"
#include "zalloc/counter.h"

#include <atomic>
#include <cstddef>
#include <cstdint>

namespace zalloc {

constexpr unsigned ROOM_BITS = 10;
constexpr uint64_t ROOM_MASK = (uint64_t(1) << ROOM_BITS) - 1;
constexpr uint64_t ALLOC_ONE = uint64_t(1) << ROOM_BITS;
// The largest per-hart cache: room must fit its field.
constexpr uint32_t HART_CACHE_MAX = static_cast<uint32_t>(ROOM_MASK);

// The hot per-hart part of a zone's cache.
struct HartHot {
    void* head = nullptr;        // free objects, linked through word 0
    OwnerCounter<uint64_t> word; // allocs << ROOM_BITS | room
};

class HartCaches {
public:
    static constexpr size_t STRIDE = cpu::HART_SLOT_STRIDE;

    constexpr HartCaches() = default;
    HartCaches(const HartCaches&) = delete;
    HartCaches& operator=(const HartCaches&) = delete;

    // At init, once the zone is at its final address: every hart's list empty,
    // its room `room` (0 in debug mode: the fast paths always miss).
    void reset(uint32_t room)
    {
        bypass(false);
        for (Slot& s : slots_) {
            s.hot.head = nullptr;
            s.hot.word.set(room);
        }
    }

    // The running hart's slot (or its bypass slot). Interrupts must be off.
    [[nodiscard]] HartHot& mine()
    {
        return *static_cast<HartHot*>(cpu::my_hart_slot(key_.load(std::memory_order_relaxed)));
    }
    // Turn the bypass on or off (any hart; the owning zone serializes the
    // calls). A fast path racing the switch still uses a slot it may use.
    void bypass(bool on)
    {
        Slot* base = on ? bypass_slots_ : slots_;
        base_.store(base, std::memory_order_relaxed);
        key_.store(cpu::hart_slot_key(base), std::memory_order_relaxed);
    }
    [[nodiscard]] bool bypassed() const { return base_.load(std::memory_order_relaxed) == bypass_slots_; }
    [[nodiscard]] HartHot& of(unsigned hart) { return slots_[hart].hot; }

    // Fast paths: interrupts off for the list operation only.
    [[nodiscard]] __attribute__((always_inline)) void* pop()
    {
        unsigned long irq = cpu::fast_irq_save();
        HartHot& h = mine();
        void* p = h.head;
        if (p) [[likely]] {
            h.head = *static_cast<void**>(p);
            h.word.set(h.word.get() + ALLOC_ONE + 1);
        }
        cpu::fast_irq_restore(irq);
        return p;
    }
    [[nodiscard]] __attribute__((always_inline)) bool push(void* p)
    {
        unsigned long irq = cpu::fast_irq_save();
        HartHot& h = mine();
        uint64_t w = h.word.get();
        bool ok = w & ROOM_MASK;
        if (ok) [[likely]] {
            h.word.set(w - 1);
            *static_cast<void**>(p) = h.head;
            h.head = p;
        }
        cpu::fast_irq_restore(irq);
        return ok;
    }

    // Slow-path helpers, interrupts off, on the running hart's slot.
    static void* pop_locked(HartHot& h)
    {
        void* p = h.head;
        if (p) {
            h.head = *static_cast<void**>(p);
            h.word.set(h.word.get() + ALLOC_ONE + 1);
        }
        return p;
    }
    static bool push_locked(HartHot& h, void* p)
    {
        uint64_t w = h.word.get();
        if (!(w & ROOM_MASK))
            return false;
        h.word.set(w - 1);
        *static_cast<void**>(p) = h.head;
        h.head = p;
        return true;
    }

    // Allocations of hart `hart` (requests), and objects on its list given its cap.
    [[nodiscard]] uint64_t allocs(unsigned hart) { return slots_[hart].hot.word.get() >> ROOM_BITS; }
    [[nodiscard]] uint32_t length(unsigned hart, uint32_t cap)
    {
        uint32_t room = static_cast<uint32_t>(slots_[hart].hot.word.get() & ROOM_MASK);
        return room > cap ? 0 : cap - room;
    }

private:
    struct Slot {
        HartHot hot;
        unsigned char pad[STRIDE - sizeof(HartHot)];
    };
    static_assert(sizeof(HartHot) == 16 && sizeof(Slot) == STRIDE && STRIDE % 16 == 0 && STRIDE >= 64);

    std::atomic<uintptr_t> key_ {0};      // the fast paths' way to the slots (mine())
    std::atomic<Slot*> base_ {nullptr};   // the same slots, for bypassed()
    alignas(64) Slot slots_[cpu::MAX_HARTS];
    // Empty, no room, never written: what every zone's bypass points at.
    alignas(64) static inline Slot bypass_slots_[cpu::MAX_HARTS] {};
};

} // namespace zalloc
