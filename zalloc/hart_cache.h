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
// Interrupts off and on cost one instruction each in the kernel: csrrc clears
// sstatus.SIE and returns the old sstatus; csrs of that old value sets SIE back
// if it was set and changes nothing else (nothing writes sstatus inside a fast
// path, so every other bit it sets is already set).
//
// Finding the running hart's slot. In the kernel tp points at the hart's
// kern::HartLocal in the array hart_locals, so tp = hart_locals + index * S with
// S = sizeof(HartLocal). A zone lays out its per-hart slots with that same
// stride and stores bias = slots - hart_locals once (init); the running hart's
// slot is then tp + bias: one load and one add, where index * stride would take
// a load, a shift and an add. Slots are at least 64 bytes apart and the hot 16
// bytes never straddle a cache line, so two harts' hot words never share a line.
// If HartLocal's size ever stops being a multiple of 16 (or drops under 64), the
// slots fall back to a 64-byte stride indexed by cpu::id(). Host tests always
// index by cpu::id() (each std::thread plays a hart).
//
// Bypass. A zone can make every hart's fast paths miss for a while, at no
// cost to them: the bias (or, indexed by cpu::id(), the base) is pointed at a
// shared array of slots that are empty and have no room, so pop() finds no
// object and push() no room, and both go to the slow path, which works on the
// real slots (of()). Those shared slots are never written: the fast paths
// write a slot only after finding an object or room in it.
#pragma once

#include "kern/arch/riscv/cpu.h"
#include "zalloc/counter.h"

#include <atomic>
#include <cstddef>
#include <cstdint>

#ifndef ZEST_HOST
#include "kern/arch/riscv/hart.h"
#endif

namespace zalloc {

constexpr unsigned ROOM_BITS = 10;
constexpr uint64_t ROOM_MASK = (uint64_t(1) << ROOM_BITS) - 1;
constexpr uint64_t ALLOC_ONE = uint64_t(1) << ROOM_BITS;
// The largest per-hart cache: room must fit its field.
constexpr uint32_t HART_CACHE_MAX = static_cast<uint32_t>(ROOM_MASK);

namespace fast {

#ifdef ZEST_HOST
inline unsigned long irq_off() { return cpu::irq_save(); }
inline void irq_on(unsigned long saved) { cpu::irq_restore(saved); }
#else
inline unsigned long irq_off()
{
    unsigned long old;
    asm volatile("csrrc %0, sstatus, %1" : "=r"(old) : "r"(cpu::IRQS_ON) : "memory");
    return old;
}
inline void irq_on(unsigned long old) { asm volatile("csrs sstatus, %0" ::"r"(old) : "memory"); }
#endif

#ifdef ZEST_HOST
constexpr bool TP_SLOTS = false;
#else
constexpr bool TP_SLOTS = sizeof(kern::HartLocal) % 16 == 0 && sizeof(kern::HartLocal) >= 64;
#endif
constexpr size_t hart_stride()
{
#ifdef ZEST_HOST
    return 64;
#else
    return TP_SLOTS ? sizeof(kern::HartLocal) : 64;
#endif
}

} // namespace fast

// The hot per-hart part of a zone's cache.
struct HartHot {
    void* head = nullptr;        // free objects, linked through word 0
    OwnerCounter<uint64_t> word; // allocs << ROOM_BITS | room
};

class HartCaches {
public:
    static constexpr size_t STRIDE = fast::hart_stride();

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
#ifndef ZEST_HOST
        if constexpr (fast::TP_SLOTS) {
            uintptr_t a;
            asm volatile("add %0, %1, tp" : "=r"(a) : "r"(bias_.load(std::memory_order_relaxed)));
            return *reinterpret_cast<HartHot*>(a);
        }
#endif
        return base_.load(std::memory_order_relaxed)[cpu::id()].hot;
    }
    // Turn the bypass on or off (any hart; the owning zone serializes the
    // calls). A fast path racing the switch still uses a slot it may use.
    void bypass(bool on)
    {
        Slot* base = on ? bypass_slots_ : slots_;
        base_.store(base, std::memory_order_relaxed);
#ifndef ZEST_HOST
        bias_.store(reinterpret_cast<uintptr_t>(base) - reinterpret_cast<uintptr_t>(&hart_locals[0]),
                    std::memory_order_relaxed);
#endif
    }
    [[nodiscard]] bool bypassed() const { return base_.load(std::memory_order_relaxed) == bypass_slots_; }
    [[nodiscard]] HartHot& of(unsigned hart) { return slots_[hart].hot; }

    // Fast paths: interrupts off for the list operation only.
    [[nodiscard]] __attribute__((always_inline)) void* pop()
    {
        unsigned long irq = fast::irq_off();
        HartHot& h = mine();
        void* p = h.head;
        if (p) [[likely]] {
            h.head = *static_cast<void**>(p);
            h.word.set(h.word.get() + ALLOC_ONE + 1);
        }
        fast::irq_on(irq);
        return p;
    }
    [[nodiscard]] __attribute__((always_inline)) bool push(void* p)
    {
        unsigned long irq = fast::irq_off();
        HartHot& h = mine();
        uint64_t w = h.word.get();
        bool ok = w & ROOM_MASK;
        if (ok) [[likely]] {
            h.word.set(w - 1);
            *static_cast<void**>(p) = h.head;
            h.head = p;
        }
        fast::irq_on(irq);
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

    std::atomic<uintptr_t> bias_ {0};
    std::atomic<Slot*> base_ {nullptr};
    alignas(64) Slot slots_[cpu::MAX_HARTS];
    // Empty, no room, never written: what every zone's bypass points at.
    alignas(64) static inline Slot bypass_slots_[cpu::MAX_HARTS] {};
};

} // namespace zalloc
