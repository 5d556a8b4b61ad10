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

// The bits of blocks [b, end) that lie in b's word.
uint64_t SwapSpace::word_mask(uint64_t b, uint64_t end)
{
    uint64_t off = b % 64, cnt = end - b < 64 - off ? end - b : 64 - off;
    return (cnt == 64 ? ~0ull : (1ull << cnt) - 1) << off;
}

void SwapSpace::set_run(uint64_t first, uint64_t n)
{
    for (uint64_t b = first; b < first + n; b = (b / 64 + 1) * 64)
        bits_[b / 64] |= word_mask(b, first + n);
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
        for (uint64_t b = from; b < to;) {
            uint64_t word = bits_[b / 64];
            // Whole words at a time where they are all used or all free.
            if (b % 64 == 0 && b + 64 <= to) {
                if (word == ~0ull) {
                    run = 0;
                    b += 64;
                    continue;
                }
                if (word == 0 && run + 64 < n) {
                    run += 64;
                    b += 64;
                    continue;
                }
            }
            if (word & (1ull << (b % 64))) {
                run = 0;
            } else if (++run == n) {
                uint64_t first = b + 1 - n;
                set_run(first, n);
                used_ += n;
                rotor_ = b + 1 == nblocks_ ? 0 : b + 1;
                return first;
            }
            b++;
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
    // A word at a time: every block of the run must be in use (checked
    // before any is cleared, so a refused free changes nothing).
    for (uint64_t b = first; b < first + n; b = (b / 64 + 1) * 64) {
        uint64_t m = word_mask(b, first + n);
        if ((bits_[b / 64] & m) != m) {
            uint64_t i = b;
            while (test(i))
                i++;
            panic("swap: block %lu freed but not in use", i);
        }
    }
    for (uint64_t b = first; b < first + n; b = (b / 64 + 1) * 64)
        bits_[b / 64] &= ~word_mask(b, first + n);
    used_ -= n;
}

} // namespace vm
