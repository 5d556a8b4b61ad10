// The checksum a swapped-out stack page carries: hardware-free, host-tested
// (test/host/kstack_checksum_test.cc).
//
// It has to catch what a swap device does wrong (a stale block, a block
// written somewhere else, a torn or zeroed write), not an adversary: a 64-bit
// multiply-xor hash over the page's words, with the word's position mixed in
// so a page with two words swapped or shifted does not collide.
#pragma once

#include <cstddef>
#include <cstdint>

namespace kstack {

namespace checksum_detail {
inline constexpr uint64_t SEED = 0x9e3779b97f4a7c15ull, MUL = 0xff51afd7ed558ccdull;

[[nodiscard]] inline uint64_t step(uint64_t h, uint64_t w, size_t i)
{
    h ^= w + i;
    h *= MUL;
    return h ^ (h >> 29);
}

// Words [i, n) into h, four per iteration: the same value as one at a time,
// with a quarter of the loop's own instructions (the hash is one dependent
// chain either way; under QEMU what counts is instructions).
[[nodiscard]] inline uint64_t mix(uint64_t h, const uint64_t* w, size_t i, size_t n)
{
    if (i >= n)
        return h;
    size_t rest = (n - i) % 4;
    for (size_t quads = (n - i) / 4; quads > 0; quads--, i += 4) {
        uint64_t a = w[i], b = w[i + 1], c = w[i + 2], d = w[i + 3];
        h = step(h, a, i);
        h = step(h, b, i + 1);
        h = step(h, c, i + 2);
        h = step(h, d, i + 3);
    }
    for (; rest > 0; rest--, i++)
        h = step(h, w[i], i);
    return h;
}
} // namespace checksum_detail

[[nodiscard]] inline uint64_t page_checksum(const void* page, size_t bytes)
{
    using namespace checksum_detail;
    return mix(SEED ^ bytes, static_cast<const uint64_t*>(page), 0, bytes / 8);
}

// Swap-out reads each page once: the checksum above and, in the same loop,
// how many words from the page's start still hold `fill` (the pattern fresh
// stack pages get: the stack's deepest use is where it stops, kstack.cc).
struct PageScan {
    uint64_t sum;   // == page_checksum(page, bytes)
    size_t leading; // words from the start equal to `fill`
};

[[nodiscard]] inline PageScan scan_page(const void* page, size_t bytes, uint64_t fill)
{
    using namespace checksum_detail;
    const auto* w = static_cast<const uint64_t*>(page);
    uint64_t h = SEED ^ bytes;
    size_t n = bytes / 8, i = 0;
    for (; i < n && w[i] == fill; i++)
        h = step(h, fill, i);
    return {mix(h, w, i, n), i};
}

} // namespace kstack
