// One record per physical page of managed RAM: the page array.
#pragma once

#include <cstdint>

namespace vm {

using PhysAddr = uint64_t;
constexpr uint64_t PAGE_SIZE = 4096;

enum class PageState : uint8_t {
    Free,      // in a buddy free list (head of a free block of 2^order pages)
    FreeTail,  // inside a free block, not its head
    Cached,    // in a hart's page cache
    Allocated, // handed out (head of a run of 2^order pages)
    Tail,      // inside an allocated run, not its head
    Hole,      // not RAM (between usable ranges) or not managed
};

struct Page {
    uint32_t next;   // free-list link: index of the next free block head, NONE at the end
    uint32_t prev;
    PageState state;
    uint8_t order;   // block or run size, as a power of two
    uint16_t owner;  // what the page is used for (vm::PageOwner), for statistics
    uint32_t pad;
};
static_assert(sizeof(Page) == 16, "the page array costs 16 bytes per 4 KiB page (0.4%)");

} // namespace vm
