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

[[nodiscard]] inline uint64_t page_checksum(const void* page, size_t bytes)
{
    const auto* w = static_cast<const uint64_t*>(page);
    uint64_t h = 0x9e3779b97f4a7c15ull ^ bytes;
    for (size_t i = 0; i < bytes / 8; i++) {
        h ^= w[i] + i;
        h *= 0xff51afd7ed558ccdull;
        h ^= h >> 29;
    }
    return h;
}

} // namespace kstack
