// The swap device: which disk, its space, its I/O and its counters. The
// kernel-stack pager (kstack/swapout.cc, kstack/swapin.cc) writes and reads
// through it.
#pragma once

#include "lib/page.h"
#include "lib/result.h"
#include "vm/swap_alloc.h"

#include <cstdint>

namespace dev {
class BlockDevice;
struct BlockSegment;
enum class BlockOp : uint8_t;
}

namespace vm::swap {

constexpr uint32_t SECTORS_PER_BLOCK = PAGE_SIZE / 512;

// Pick the device (bootarg swap=NAME, else the first virtio disk; an SD card
// only when named, since a board's card holds its boot partitions; swap=none
// for no swapping) and set up its space. Says in one line what it chose.
void init();
[[nodiscard]] bool enabled();
dev::BlockDevice* device();
SwapSpace& space();

// Write or read consecutive blocks from `first` in ONE device request, the
// data being segs[0..nsegs) in order (each a whole number of pages; a kernel
// stack is one segment). Synchronous (thread context: the caller sleeps, and
// allocates nothing). I/O errors are counted.
[[nodiscard]] lib::Status write_run(uint64_t first, const dev::BlockSegment* segs, uint32_t nsegs);
[[nodiscard]] lib::Status read_run(uint64_t first, const dev::BlockSegment* segs, uint32_t nsegs);
// Count an I/O of `pages` pages that a caller submitted itself (the
// wake-time swap-in does, from interrupt context).
void account_io(dev::BlockOp op, lib::Status st, uint64_t pages);
// The same for `n` separate pages (pages[i] a kernel virtual address; n <= 32).
[[nodiscard]] lib::Status write_pages(uint64_t first, void* const* pages, uint32_t n);
[[nodiscard]] lib::Status read_pages(uint64_t first, void* const* pages, uint32_t n);

struct Stats {
    uint64_t blocks, used;
    uint64_t write_errors, read_errors, full;
    uint64_t pages_out, pages_in;
};
Stats stats();

} // namespace vm::swap
