// The swap device: which disk, its space, its counters. The pager that
// writes kernel stacks out and reads them back builds on this (issue 6).
#pragma once

#include "lib/result.h"
#include "vm/swap_alloc.h"

#include <cstdint>

namespace dev {
class BlockDevice;
}

namespace vm::swap {

constexpr uint32_t SECTORS_PER_BLOCK = 4096 / 512;

// Pick the device (bootarg swap=NAME, else the first virtio disk; an SD card
// only when named, since a board's card holds its boot partitions; swap=none
// for no swapping) and set up its space. Says in one line what it chose.
void init();
[[nodiscard]] bool enabled();
dev::BlockDevice* device();
SwapSpace& space();

// Write or read `n` whole pages at block `first`: pages[i] is a kernel virtual
// address. Synchronous (thread context). I/O errors are counted.
[[nodiscard]] lib::Status write_pages(uint64_t first, void* const* pages, uint32_t n);
[[nodiscard]] lib::Status read_pages(uint64_t first, void* const* pages, uint32_t n);

struct Stats {
    uint64_t blocks, used;
    uint64_t write_errors, read_errors, full;
    uint64_t pages_out, pages_in;
};
Stats stats();

} // namespace vm::swap
