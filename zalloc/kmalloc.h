// kmalloc: general-purpose allocation over size-class kmalloc_obj zones.
//
// Size classes (32 zones, all on 32 KiB slabs):
//   8 to 128 bytes in 8-byte steps (16 classes): small objects dominate kernel
//     allocations; 8-byte steps keep the waste under 8 bytes where it matters most;
//   above 128 bytes four classes per power of two, 160 ... 2048 (16 classes):
//     internal waste at most 25% (for example 129 bytes in 160), usually ~10%.
// Above 2048 bytes a request is a page run straight from the backend: the run
// holds a 64-byte header (magic, pages, size, type) and is aligned to SLAB_SIZE,
// so kfree() finds either header by masking the pointer the same way and never
// needs a side table. A run wastes at most one page minus 64 bytes; a 2 KiB+
// class in a 32 KiB slab would hold under 16 objects, and runs cost no reserve.
// Large kmalloc memory is therefore 64-byte aligned, not page aligned.
//
// Class zones keep a reserve of one slab each (K = objects per slab), not three:
// they are general purpose, 32 of them, and the paging path's own structures
// belong in dedicated kmalloc_obj zones with their own declared K. Page runs take
// no reserve: a large request with M_USE_INTERRUPT_RESERVE may only dip into the
// page reserve through its page class.
//
// Fast path (inline below, in the caller): for a size up to 2048 and a type
// without a limit, the class comes from a 257-byte table indexed by
// (size + 7) / 8 (folded away when the size is a constant), then the class
// zone's hart list is popped with interrupts off (hart_cache.h) and, in the
// same section, the type's per-hart alloc word is added to (one add,
// malloc_type.h): no call, no lock, no interrupt toggle of its own. kfree masks the pointer to the
// slab header, takes the zone it names, and is on the fast path when that zone
// is one of the 32 class zones (one subtraction and compare: they are one array)
// and the type has been used; the class's accounting word sits 64 bytes before
// the zone. Anything else (first use of a type, limits, large sizes, an empty
// list or a full one, debug mode, which keeps the lists empty, a foreign
// pointer) goes to kmalloc_slow / kfree_slow, out of line, which do every check.
//
// Flags and failure: flags.h (M_NOWAIT returns nullptr; M_WAITOK without
// M_NULLOK never returns nullptr and panics if the backend truly cannot wait or
// the type's limit is exceeded). kfree(nullptr, type) does nothing.
#pragma once

#include "lib/string.h"
#include "zalloc/backend.h"
#include "zalloc/flags.h"
#include "zalloc/kmalloc_obj.h"
#include "zalloc/malloc_type.h"
#include "zalloc/slab.h"

#include <array>
#include <cstddef>
#include <cstdint>

namespace zalloc {

constexpr size_t KMALLOC_NCLASSES = 32;
constexpr size_t KMALLOC_MAX_CLASS = 2048;
constexpr size_t KMALLOC_LARGE_HEADER = 64;
constexpr size_t KMALLOC_MAX = size_t(1) << 30; // larger requests always fail

// Class index for a size in 1..KMALLOC_MAX_CLASS, and the size of a class.
[[nodiscard]] constexpr size_t kmalloc_class(size_t size)
{
    if (size <= 128)
        return size ? (size + 7) / 8 - 1 : 0;
    size_t p = 7;
    while ((size_t(1) << (p + 1)) < size)
        p++;
    size_t step = (size_t(1) << p) / 4;
    return 16 + (p - 7) * 4 + (size - 1 - (size_t(1) << p)) / step;
}
[[nodiscard]] constexpr size_t kmalloc_class_size(size_t cls)
{
    if (cls < 16)
        return (cls + 1) * 8;
    size_t p = 7 + (cls - 16) / 4;
    return (size_t(1) << p) + ((cls - 16) % 4 + 1) * ((size_t(1) << p) / 4);
}
static_assert(kmalloc_class_size(kmalloc_class(129)) == 160);
static_assert(kmalloc_class_size(kmalloc_class(2048)) == 2048 && kmalloc_class(2048) == KMALLOC_NCLASSES - 1);
static_assert(kmalloc_class_size(kmalloc_class(257)) == 320);

namespace kmalloc_detail {

// Every class boundary is a multiple of 8, so (size + 7) / 8 names the class.
constexpr size_t TABLE_SIZE = KMALLOC_MAX_CLASS / 8 + 1;
[[nodiscard]] constexpr std::array<uint8_t, TABLE_SIZE> make_class_table()
{
    std::array<uint8_t, TABLE_SIZE> t {};
    for (size_t i = 0; i < TABLE_SIZE; i++)
        t[i] = static_cast<uint8_t>(kmalloc_class(i * 8));
    return t;
}
inline constexpr std::array<uint8_t, TABLE_SIZE> CLASS_OF = make_class_table();
static_assert(CLASS_OF[(64 + 7) / 8] == kmalloc_class(64) && CLASS_OF[(129 + 7) / 8] == kmalloc_class(129));

// The class zones: one array, each zone 64 bytes after its accounting word
// (MallocType::delta of the class size), so kfree reaches both from the zone
// pointer in the slab header. Raw storage, constructed in kmalloc_init(): GCC 12
// leaves a constinit array of polymorphic objects zero-filled in .bss (no vptr,
// list heads not self-linked) instead of constant-initialising it.
constexpr size_t ZONE_OFFSET = 64;
constexpr size_t CLASS_STRIDE = ZONE_OFFSET + sizeof(ObjZone);
static_assert(CLASS_STRIDE % alignof(ObjZone) == 0 && ZONE_OFFSET % alignof(ObjZone) == 0);
extern unsigned char g_class_storage[KMALLOC_NCLASSES * CLASS_STRIDE];

[[nodiscard]] inline ObjZone* zone_of(size_t cls)
{
    return reinterpret_cast<ObjZone*>(g_class_storage + cls * CLASS_STRIDE + ZONE_OFFSET);
}
[[nodiscard]] inline uint64_t delta_of(const ObjZone* z)
{
    return *reinterpret_cast<const uint64_t*>(reinterpret_cast<const char*>(z) - ZONE_OFFSET);
}
// One of the class zones? (Any pointer inside the array counts, as before.)
[[nodiscard]] inline bool is_class_zone(const ObjZone* z)
{
    return reinterpret_cast<uintptr_t>(z) - reinterpret_cast<uintptr_t>(zone_of(0)) <=
           (KMALLOC_NCLASSES - 1) * CLASS_STRIDE;
}

// Account one allocation or free to a hart (one atomic add: the readers extend
// the request count and sample the high-water mark, malloc_type.h).
[[gnu::always_inline]] inline void count_alloc(MallocType::Counters& c, uint64_t delta) { c.alloc.add(delta); }
[[gnu::always_inline]] inline void count_free(MallocType::Counters& c, uint64_t delta) { c.freed.add(delta); }

} // namespace kmalloc_detail

// Set up the class zones (once, at boot, or per test with a fresh backend).
void kmalloc_init(Backend& backend);
// Destroy the class zones (tests): every kmalloc memory must have been freed.
void kmalloc_shutdown();
// Read every malloc type's counters (poll_all() calls it about once a second):
// extends each type's request count past 32 bits and samples its high-water
// mark (malloc_type.h).
void malloc_types_poll();

// Everything the inline fast paths leave: out of line, named after the caller
// of kmalloc/kfree (their return address is in the caller).
[[nodiscard]] __attribute__((noinline)) void* kmalloc_slow(size_t size, MallocType& type, MFlags flags);
__attribute__((noinline)) void kfree_slow(void* p, MallocType& type);

[[nodiscard]] __attribute__((always_inline)) inline void* kmalloc(size_t size, MallocType& type, MFlags flags)
{
    uintptr_t key = type.fast_key.load(std::memory_order_relaxed);
    if (size <= KMALLOC_MAX_CLASS && key) [[likely]] {
        size_t cls = kmalloc_detail::CLASS_OF[(size + 7) / 8];
        ObjZone* z = kmalloc_detail::zone_of(cls);
        uint64_t delta = __builtin_constant_p(cls) ? MallocType::delta(kmalloc_class_size(cls))
                                                   : kmalloc_detail::delta_of(z);
        void* p = z->alloc_fast([&] { kmalloc_detail::count_alloc(MallocType::mine(key), delta); });
        if (p) [[likely]] {
            if (flags.has(MFlag::Zero))
                memset(p, 0, z->object_size());
            return p;
        }
    }
    return kmalloc_slow(size, type, flags);
}

__attribute__((always_inline)) inline void kfree(void* p, MallocType& type)
{
    if (!p)
        return;
    ObjZone* z = Slab::of(p)->zone;
    uintptr_t key = type.fast_key.load(std::memory_order_relaxed);
    if (kmalloc_detail::is_class_zone(z) && key) [[likely]] {
        uint64_t delta = kmalloc_detail::delta_of(z);
        if (z->free_fast(p, [&] { kmalloc_detail::count_free(MallocType::mine(key), delta); })) [[likely]]
            return;
    }
    kfree_slow(p, type);
}

// The bytes usable at p (its class size, or the run minus its header).
[[nodiscard]] size_t kmalloc_usable_size(const void* p);

// The zone of class `cls` (tests, statistics).
[[nodiscard]] ObjZone& kmalloc_class_zone(size_t cls);

} // namespace zalloc
