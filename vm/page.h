// One record per physical page of managed RAM: the page array.
//
// 16 bytes per 4 KiB page (0.4% of RAM). Free-list links are 32-bit page
// indices rather than pointers, which is what keeps the record this small
// (2^32 pages = 16 TiB, far beyond any Sv39 machine).
#pragma once

#include "lib/page.h"

#include <cstddef>
#include <cstdint>

namespace vm {

using PhysAddr = uint64_t;

enum class PageState : uint8_t {
    Hole,      // not RAM (a gap between usable ranges): never allocated
    Free,      // head of a free buddy block of 2^order pages
    FreeTail,  // inside a free block, not its head
    Cached,    // a single free page in some hart's cache
    Allocated, // head of an allocated run of 2^order pages
    Tail,      // inside an allocated run, not its head
};

struct Page {
    static constexpr uint32_t NONE = ~0u;

    uint32_t next = NONE; // buddy free list: index of the next block head
    uint32_t prev = NONE;
    PageState state = PageState::Hole;
    uint8_t order = 0;    // block or run size, as a power of two (valid on heads)
    uint16_t owner = 0;   // free for the VM layer: what the page is used for
    uint32_t spare = 0;
};
static_assert(sizeof(Page) == 16, "the page array costs 16 bytes per 4 KiB page");

} // namespace vm
