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
// Flags and failure: flags.h (M_NOWAIT returns nullptr; M_WAITOK without
// M_NULLOK never returns nullptr and panics if the backend truly cannot wait or
// the type's limit is exceeded). kfree(nullptr, type) does nothing.
#pragma once

#include "zalloc/backend.h"
#include "zalloc/flags.h"
#include "zalloc/malloc_type.h"

#include <cstddef>

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

// Set up the class zones (once, at boot, or per test with a fresh backend).
void kmalloc_init(Backend& backend);
// Destroy the class zones (tests): every kmalloc memory must have been freed.
void kmalloc_shutdown();

[[nodiscard]] __attribute__((noinline)) void* kmalloc(size_t size, MallocType& type, MFlags flags);
__attribute__((noinline)) void kfree(void* p, MallocType& type);
// The bytes usable at p (its class size, or the run minus its header).
[[nodiscard]] size_t kmalloc_usable_size(const void* p);

class ObjZone;
// The zone of class `cls` (tests, statistics).
[[nodiscard]] ObjZone& kmalloc_class_zone(size_t cls);

} // namespace zalloc
