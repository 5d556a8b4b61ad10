// The per-hart object cache in front of every zone: the allocation fast path.
//
// Both zone kinds (zalloc's Zone and kmalloc_obj's ObjZone) keep, per hart, a
// singly linked list of free objects threaded through the objects' first word,
// and one 64-bit word that holds two things:
//
//     word = room << ROOM_SHIFT | allocs
//
// allocs (the low 53 bits) counts this hart's allocations (the vmstat
// "requests"); room (bits 53..62) is how many more objects free() may push
// before the list is full (cap - length); bit 63 stays clear. So an allocation
// is: pop the list, word += ROOM_ONE + 1 (one more request, one more room); a
// free is: word - ROOM_ONE, and if that is not negative (room was not zero)
// store it and push. Room sits at the top so that the free's test is the sign
// of the value it stores anyway: one branch, no mask. Each touches one counter
// word with a plain load and store, no atomic, interrupts off. A miss (empty
// list) or a full list goes to the zone's slow path, which is out of line.
// allocs wraps into room after 2^53 allocations of one hart (a century at a
// billion a second).
//
// Callers that keep statistics of their own (kmalloc's malloc types) pass a
// function to pop() and push() that runs in the same interrupt section when the
// fast path succeeds, so they pay no interrupt toggle of their own.
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

constexpr unsigned ROOM_SHIFT = 53;
constexpr uint64_t ROOM_ONE = uint64_t(1) << ROOM_SHIFT;
constexpr uint64_t ALLOCS_MASK = ROOM_ONE - 1;
constexpr uint64_t ALLOC_ONE = 1;
// The largest per-hart cache: room must fit bits 53..62.
constexpr uint32_t HART_CACHE_MAX = (uint32_t(1) << (63 - ROOM_SHIFT)) - 1;
static_assert((uint64_t(HART_CACHE_MAX) << ROOM_SHIFT) >> 63 == 0, "bit 63 is the free path's test");

// The hot per-hart part of a zone's cache.
struct HartHot {
    void* head = nullptr;        // free objects, linked through word 0
    OwnerCounter<uint64_t> word; // room << ROOM_SHIFT | allocs
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
            s.hot.word.set(uint64_t(room) << ROOM_SHIFT);
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

    // Fast paths: interrupts off for the list operation only. `then` runs in
    // the same section, only when an object was popped or pushed.
    struct Nothing {
        void operator()() const {}
    };
    template <typename Then = Nothing>
    [[nodiscard]] __attribute__((always_inline)) void* pop(Then then = {})
    {
        unsigned long irq = cpu::fast_irq_save();
        HartHot& h = mine();
        void* p = h.head;
        if (p) [[likely]] {
            h.head = *static_cast<void**>(p);
            h.word.set(h.word.get() + ROOM_ONE + ALLOC_ONE);
            then();
        }
        cpu::fast_irq_restore(irq);
        return p;
    }
    template <typename Then = Nothing>
    [[nodiscard]] __attribute__((always_inline)) bool push(void* p, Then then = {})
    {
        unsigned long irq = cpu::fast_irq_save();
        HartHot& h = mine();
        uint64_t w = h.word.get() - ROOM_ONE;
        bool ok = static_cast<int64_t>(w) >= 0;
        if (ok) [[likely]] {
            h.word.set(w);
            *static_cast<void**>(p) = h.head;
            h.head = p;
            then();
        }
        cpu::fast_irq_restore(irq);
        return ok;
    }

    // Slow-path helpers, interrupts off, on the running hart's slot.
    [[nodiscard]] static uint32_t room(const HartHot& h) { return static_cast<uint32_t>(h.word.get() >> ROOM_SHIFT); }
    static void* pop_locked(HartHot& h)
    {
        void* p = h.head;
        if (p) {
            h.head = *static_cast<void**>(p);
            h.word.set(h.word.get() + ROOM_ONE + ALLOC_ONE);
        }
        return p;
    }
    static bool push_locked(HartHot& h, void* p)
    {
        uint64_t w = h.word.get();
        if (!(w >> ROOM_SHIFT))
            return false;
        h.word.set(w - ROOM_ONE);
        *static_cast<void**>(p) = h.head;
        h.head = p;
        return true;
    }
    // An allocation the slow path served without the list; n objects back on it.
    static void count_alloc(HartHot& h) { h.word.set(h.word.get() + ALLOC_ONE); }
    static void add_room(HartHot& h, uint32_t n) { h.word.set(h.word.get() + uint64_t(n) * ROOM_ONE); }

    // Allocations of hart `hart` (requests), and objects on its list given its cap.
    [[nodiscard]] uint64_t allocs(unsigned hart) { return slots_[hart].hot.word.get() & ALLOCS_MASK; }
    [[nodiscard]] uint32_t length(unsigned hart, uint32_t cap)
    {
        uint32_t r = room(slots_[hart].hot);
        return r > cap ? 0 : cap - r;
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
