#include "vm/swap_alloc.h"

#include "kern/seam/panic.h"
#include "lib/string.h"

namespace vm {

void SwapSpace::init(uint64_t* bitmap, uint64_t nblocks)
{
    ksync::SpinGuard g(lock_);
    bits_ = bitmap;
    nblocks_ = nblocks;
    used_ = 0;
    rotor_ = 0;
    failures_ = 0;
    memset(bits_, 0, bitmap_words(nblocks) * sizeof(uint64_t));
}

bool SwapSpace::in_use(uint64_t block) const { return block < nblocks_ && test(block); }

lib::Result<uint64_t> SwapSpace::alloc(uint32_t n)
{
    ksync::SpinGuard g(lock_);
    if (n == 0 || n > nblocks_) {
        failures_++;
        return lib::Error::NoSpace;
    }
    // Two passes: from the rotor to the end, then from the start to the rotor.
    for (int pass = 0; pass < 2; pass++) {
        uint64_t from = pass == 0 ? rotor_ : 0;
        uint64_t to = pass == 0 ? nblocks_ : rotor_ + n - 1;
        if (to > nblocks_)
            to = nblocks_;
        uint64_t run = 0;
        for (uint64_t b = from; b < to; b++) {
            // Skip whole used words quickly.
            if (run == 0 && b % 64 == 0 && bits_[b / 64] == ~0ull && b + 64 <= to) {
                b += 63;
                continue;
            }
            if (test(b)) {
                run = 0;
                continue;
            }
            if (++run == n) {
                uint64_t first = b + 1 - n;
                for (uint64_t i = first; i <= b; i++)
                    bits_[i / 64] |= 1ull << (i % 64);
                used_ += n;
                rotor_ = b + 1 == nblocks_ ? 0 : b + 1;
                return first;
            }
        }
    }
    failures_++;
    return lib::Error::NoSpace;
}

void SwapSpace::free(uint64_t first, uint32_t n)
{
    ksync::SpinGuard g(lock_);
    if (first + n > nblocks_ || first + n < first)
        panic("swap: freeing blocks %lu+%u beyond the device's %lu blocks", first, n, nblocks_);
    for (uint64_t i = first; i < first + n; i++) {
        if (!test(i))
            panic("swap: block %lu freed but not in use", i);
        bits_[i / 64] &= ~(1ull << (i % 64));
    }
    used_ -= n;
}

} // namespace vm
