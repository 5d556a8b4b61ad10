// The per-hart object cache in front of every zone: the allocation fast path.
//
// Both zone kinds (zalloc's Zone and kmalloc_obj's ObjZone) keep, per hart, a
// singly linked list of free objects threaded through the objects' first word,
// and one 64-bit word that holds two things:
//
//     word = room << ROOM_SHIFT | allocs
//
// allocs (the low 53 bits) counts this hart's allocations (the vmstat
// "requests"); room (bits 53..63, signed) is how many more objects free() may
// push before the list is full (cap - length). So an allocation is: pop the
// list, word += ROOM_ONE + 1 (one more request, one more room); a free is: if
// room > 0, push, word -= ROOM_ONE. A miss (empty list) or a full list goes to
// the zone's slow path, which is out of line. allocs wraps into room after
// 2^53 allocations of one hart (a century at a billion a second).
//
// The list operations are restartable sequences (kern/seam/hart_list.h): no
// interrupt toggle, no atomic instruction on the list; an interrupt before the
// head store reruns the sequence, and the word changes by one atomic add after
// it. Every other change of the word is an atomic add too (the slow paths run
// with interrupts off on their own hart, but a thread moved to another hart
// between its head store and its add still adds to this hart's word), so the
// word loses no update. Between the two, the word still shows the room before
// the push: an interrupt handler (or a thread preempted right there) may push
// one more, so a list can exceed its cap by one per such thread, and room go
// below zero for a while (which the signed test reads as full).
//
// Callers that keep statistics of their own (kmalloc's malloc types) pass a
// function to pop() and push() that runs when the fast path succeeds; it runs
// with interrupts on and may be moved to another hart, so its counters are
// added to atomically as well (malloc_type.h).
//
// Debug mode keeps every list empty and every room at zero, so both fast paths
// always miss and the slow paths, which carry the checks, see every call.
//
// Finding the running hart's slot (kern/seam/hart_slot.h) is one load and one
// add: the slot arrays use the seam's stride, and a zone stores the array's key
// once (init, bypass). Slots are at least 64 bytes apart and the hot 16 bytes
// never straddle a cache line, so two harts' hot words never share a line.
//
// Bypass. A zone can make every hart's fast paths miss for a while, at no
// cost to them: the key is pointed at a shared array of slots that are empty
// and have no room, so pop() finds no object and push() no room, and both go
// to the slow path, which works on the real slots (of()). Those shared slots
// are never written: the fast paths write a slot only after finding an object
// or room in it.
#pragma once

#include "kern/seam/cpu.h"
#include "kern/seam/hart_list.h"
#include "kern/seam/hart_slot.h"

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
static_assert((uint64_t(HART_CACHE_MAX) << ROOM_SHIFT) >> 63 == 0, "a full room is still positive");

// The hot per-hart part of a zone's cache: word (room << ROOM_SHIFT | allocs)
// and the head of the free objects, linked through word 0.
using HartHot = cpu::HartList;

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
            s.hot.word.store(uint64_t(room) << ROOM_SHIFT, std::memory_order_relaxed);
        }
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

    // Fast paths. `then` runs after the list operation, only when an object
    // was popped or pushed.
    struct Nothing {
        void operator()() const {}
    };
    template <typename Then = Nothing>
    [[nodiscard]] __attribute__((always_inline)) void* pop(Then then = {})
    {
        void* p = cpu::hart_list_pop(key_.load(std::memory_order_relaxed), ROOM_ONE + ALLOC_ONE);
        if (p) [[likely]]
            then();
        return p;
    }
    template <typename Then = Nothing>
    [[nodiscard]] __attribute__((always_inline)) bool push(void* p, Then then = {})
    {
        bool ok = cpu::hart_list_push<ROOM_SHIFT>(key_.load(std::memory_order_relaxed), p, -ROOM_ONE);
        if (ok) [[likely]]
            then();
        return ok;
    }

    // Slow-path helpers, interrupts off, on the running hart's slot.
    [[nodiscard]] static int32_t room(const HartHot& h)
    {
        return static_cast<int32_t>(static_cast<int64_t>(h.word.load(std::memory_order_relaxed)) >> ROOM_SHIFT);
    }
    static void* pop_locked(HartHot& h)
    {
        void* p = h.head;
        if (p) {
            h.head = *static_cast<void**>(p);
            h.word.fetch_add(ROOM_ONE + ALLOC_ONE, std::memory_order_relaxed);
        }
        return p;
    }
    static bool push_locked(HartHot& h, void* p)
    {
        if (room(h) <= 0)
            return false;
        *static_cast<void**>(p) = h.head;
        h.head = p;
        h.word.fetch_add(-ROOM_ONE, std::memory_order_relaxed);
        return true;
    }
    // An allocation the slow path served without the list; n objects back on it.
    static void count_alloc(HartHot& h) { h.word.fetch_add(ALLOC_ONE, std::memory_order_relaxed); }
    static void add_room(HartHot& h, uint32_t n) { h.word.fetch_add(uint64_t(n) * ROOM_ONE, std::memory_order_relaxed); }

    // Allocations of hart `hart` (requests), and objects on its list given its cap.
    [[nodiscard]] uint64_t allocs(unsigned hart)
    {
        return slots_[hart].hot.word.load(std::memory_order_relaxed) & ALLOCS_MASK;
    }
    [[nodiscard]] uint32_t length(unsigned hart, uint32_t cap)
    {
        int32_t r = room(slots_[hart].hot);
        return r < 0 ? cap - r : r > int32_t(cap) ? 0 : cap - r;
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
