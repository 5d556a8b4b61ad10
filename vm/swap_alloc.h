// Swap space: which blocks of the swap device are in use. Hardware-free,
// host-tested (test/host/swap_test.cc).
//
// A block is one page (4 KiB, 8 sectors). A swapped-out kernel stack takes a
// run of blocks, and the pagedaemon asks for one run for a whole cluster of
// stacks so they go out in one write. Runs are found first-fit from a rotor
// that moves forward, so successive clusters land one after another and the
// device sees sequential writes. The bitmap lives in storage the caller gives
// (one bit per block: 2 KiB for a 64 MiB device); no allocation.
#pragma once

#include "kern/sync/spinlock.h"
#include "lib/result.h"

#include <cstddef>
#include <cstdint>

namespace vm {

class SwapSpace {
public:
    static constexpr size_t bitmap_words(uint64_t nblocks) { return (nblocks + 63) / 64; }

    // Manage nblocks blocks; `bitmap` has bitmap_words(nblocks) words.
    void init(uint64_t* bitmap, uint64_t nblocks);

    // A run of n consecutive free blocks: its first block. NoSpace when no run
    // that long exists (the device is full, or too fragmented for n).
    [[nodiscard]] lib::Result<uint64_t> alloc(uint32_t n);
    // Give a run back. Freeing a block that is not in use panics (a double
    // free would let two stacks share swap).
    void free(uint64_t first, uint32_t n);

    [[nodiscard]] uint64_t total() const { return nblocks_; }
    [[nodiscard]] uint64_t used() const { return used_; }
    [[nodiscard]] uint64_t free_blocks() const { return nblocks_ - used_; }
    [[nodiscard]] uint64_t failures() const { return failures_; }
    [[nodiscard]] bool in_use(uint64_t block) const;

private:
    [[nodiscard]] bool test(uint64_t b) const { return bits_[b / 64] & (1ull << (b % 64)); }
    [[nodiscard]] static uint64_t word_mask(uint64_t b, uint64_t end);
    void set_run(uint64_t first, uint64_t n); // the bits, a word at a time; lock held

    ksync::SpinLock lock_ {"swap-space"};
    uint64_t* bits_ = nullptr;
    uint64_t nblocks_ = 0;
    uint64_t used_ = 0;
    uint64_t rotor_ = 0;
    uint64_t failures_ = 0;
};

} // namespace vm
