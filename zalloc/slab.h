// kmalloc_obj slabs: size, layout and the header found by masking an object.
//
// SLAB SIZE: 32 KiB (8 pages), aligned to 32 KiB. DragonFly uses 128 KiB; Zest
// runs on boards from 64 MiB to 16 GiB and every zone keeps reserve slabs, so:
//   - cost of the reserve: about 40 zones (32 kmalloc size classes with a reserve
//     of 1, a handful of kmalloc_obj zones with 3) hold ~50 reserve slabs: 1.6 MiB
//     at 32 KiB (2.5% of a 64 MiB board), 6.4 MiB at 128 KiB (10%: too much);
//   - a slab is an order-3 block of the page allocator: with 64 MiB, 8 contiguous
//     aligned pages are still easy to find late in uptime; 32 (128 KiB) are not;
//   - overhead stays small: a 128-byte header plus 2 bytes and 1 bit per object
//     (the free stack and the debug bitmap): 64-byte objects lose 3.7% (493 per
//     slab), 256-byte 1.6%, 2 KiB 6.2% (15 per slab), 8-byte 21% (3,220 per slab);
//   - 16 KiB was considered: a 2 KiB class would get 7 objects per slab, so slabs
//     would cycle through the lists twice as often and K values would halve, for a
//     saving of 0.8 MiB that the small boards do not need.
// On 16 GiB boards 32 KiB costs nothing measurable; the constant is compile-time
// so the mask is an immediate.
//
// Layout of one slab:
//   [Slab header, 128 B][free stack: uint16_t slots x nobjs][alloc bitmap: u64 words]
//   [pad to 64][objects: nobjs x size]
// Object sizes round up to 8 bytes; objects start 64-byte aligned, so an object
// is aligned to the largest power of two dividing its size (up to 64).
#pragma once

#include "lib/page.h"
#include "lib/list.h"

#include <atomic>
#include <cstddef>
#include <cstdint>

namespace zalloc {

constexpr size_t SLAB_SIZE = 32 * 1024;
constexpr size_t SLAB_PAGES = SLAB_SIZE / PAGE_SIZE;
constexpr size_t SLAB_HEADER = 128;
constexpr size_t OBJ_ALIGN = 8;
constexpr size_t SLAB_MAX_OBJ = 4096; // bigger objects belong in page runs

class ObjZone;

// Where a slab is. Named for what the slab holds, to avoid DragonFly's inverted
// "full" (every object free) and "empty" (no object free).
enum class SlabState : uint8_t {
    Hart,      // a hart's active or alternate slab; only that hart pops from it
    Partial,   // zone list: some objects free, some in use
    Free,      // zone list: every object free
    Exhausted, // zone list: no object free when last looked at
    Reserve,   // zone reserve list: every object free, kept for the paging path
    Loose,     // on no list (being set up or released)
};

struct Slab {
    static constexpr uint64_t MAGIC = 0x5a6573745362616cull; // "ZestSbal"

    uint64_t magic;
    ObjZone* zone;
    lib::ListNode node;
    uint32_t obj_size;
    uint32_t nobjs;
    uint32_t nfree; // entries in the local free stack (slots, see below)
    SlabState state;
    bool is_static; // in the kernel image: never returned to the backend
    uint16_t pad_;
    uint32_t objs_offset;
    uint32_t bitmap_offset;
    // Remote frees: a lock-free stack threaded through the freed objects' first
    // word. Any hart pushes (CAS); only the slab's owner (its hart, or whoever
    // holds the zone lock for a slab on a zone list) takes the whole stack at once
    // with an exchange, so there is no ABA. Own cache line: remote frees do not
    // bounce the line the owner allocates from.
    alignas(64) std::atomic<uintptr_t> remote_head;

    // The free stack holds slots: an object's byte offset in the slab divided by
    // OBJ_ALIGN. Turning a pointer into a slot and back is a subtract and a
    // shift; an object index would cost a division on every free and a
    // multiplication on every allocation.
    [[nodiscard]] void* at(uint16_t slot) { return reinterpret_cast<char*>(this) + size_t(slot) * OBJ_ALIGN; }
    [[nodiscard]] uint16_t slot_of(const void* p) const
    {
        return static_cast<uint16_t>((reinterpret_cast<uintptr_t>(p) - reinterpret_cast<uintptr_t>(this)) / OBJ_ALIGN);
    }
    [[nodiscard]] uint16_t* stack() { return reinterpret_cast<uint16_t*>(reinterpret_cast<char*>(this) + SLAB_HEADER); }
    [[nodiscard]] std::atomic<uint64_t>* bitmap()
    {
        return reinterpret_cast<std::atomic<uint64_t>*>(reinterpret_cast<char*>(this) + bitmap_offset);
    }
    [[nodiscard]] char* objs() { return reinterpret_cast<char*>(this) + objs_offset; }
    [[nodiscard]] void* obj(uint32_t i) { return objs() + size_t(i) * obj_size; }

    [[nodiscard]] static Slab* of(const void* p)
    {
        return reinterpret_cast<Slab*>(reinterpret_cast<uintptr_t>(p) & ~(SLAB_SIZE - 1));
    }
};
static_assert(sizeof(Slab) <= SLAB_HEADER, "slab header must fit its 128 bytes");
static_assert(SLAB_HEADER % alignof(Slab) == 0);
static_assert((SLAB_SIZE & (SLAB_SIZE - 1)) == 0, "slabs are found by masking");
static_assert(SLAB_SIZE / OBJ_ALIGN <= 65536, "free-stack slots are 16-bit");

struct SlabLayout {
    uint32_t obj_size;
    uint32_t nobjs;
    uint32_t bitmap_offset;
    uint32_t objs_offset;
};

[[nodiscard]] constexpr size_t round_obj_size(size_t size)
{
    size_t s = (size + OBJ_ALIGN - 1) & ~(OBJ_ALIGN - 1);
    return s < OBJ_ALIGN ? OBJ_ALIGN : s;
}

// The most objects of `size` bytes one slab holds, and where everything goes.
[[nodiscard]] constexpr SlabLayout slab_layout(size_t size)
{
    size_t s = round_obj_size(size);
    // Start from the upper bound and walk down; at most a few steps.
    size_t n = (SLAB_SIZE - SLAB_HEADER) / (s + 2);
    for (;; n--) {
        size_t bitmap = SLAB_HEADER + ((n * 2 + 7) & ~size_t(7));
        size_t objs = (bitmap + ((n + 63) / 64) * 8 + 63) & ~size_t(63);
        if (objs + n * s <= SLAB_SIZE)
            return SlabLayout {static_cast<uint32_t>(s), static_cast<uint32_t>(n), static_cast<uint32_t>(bitmap),
                               static_cast<uint32_t>(objs)};
    }
}

[[nodiscard]] constexpr size_t objects_per_slab(size_t size) { return slab_layout(size).nobjs; }

static_assert(objects_per_slab(8) < 65536, "free stack entries are 16-bit");
static_assert(objects_per_slab(SLAB_MAX_OBJ) >= 7);

} // namespace zalloc
