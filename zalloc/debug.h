// Debug mode: poison, double-free and foreign-pointer checks.
//
// On by default in host builds (ZEST_HOST) and off in the kernel unless built
// with -DZALLOC_DEBUG=1. It is also a runtime switch, but a zone samples it once,
// when it is initialised, so flipping it never leaves a live zone half-checked.
//
// What debug mode adds:
//   - freed memory is filled with POISON (except the words the allocator itself
//     uses while the object is free) and checked when handed out again, so a
//     write after free panics at the next allocation;
//   - zalloc items carry a free marker in their second word, kmalloc_obj slabs an
//     allocated-bit per object (changed atomically, so two harts freeing the same
//     object race to one winner and one panic): a double free panics;
//   - a pointer that does not belong to the zone (wrong slab, wrong page, not on an
//     object boundary) panics.
// Every panic names the zone and the caller's return address.
#pragma once

#include <cstddef>
#include <cstdint>

#ifndef ZALLOC_DEBUG
#ifdef ZEST_HOST
#define ZALLOC_DEBUG 1
#else
#define ZALLOC_DEBUG 0
#endif
#endif

namespace zalloc::debug {

constexpr uint8_t POISON = 0x6b;

// The switch new zones read. Set it before creating zones.
bool enabled();
void set_enabled(bool on);

// Fill [p, p+n) with POISON.
void poison(void* p, size_t n);
// Address of the first byte in [p, p+n) that is not POISON, or nullptr.
[[nodiscard]] const void* find_unpoisoned(const void* p, size_t n);

} // namespace zalloc::debug
