// Sector patterns for block-device tests: every 8-byte word of every sector
// gets a value derived from the sector number, the word and a seed, so a
// sector written to the wrong place, a stale read or a torn transfer shows.
// Byte-wise access: test buffers need not be 8-byte aligned.
#pragma once

#include "lib/string.h"

#include <cstdint>

namespace ktest::blockpat {

constexpr uint32_t SECTOR = 512;

inline uint64_t pattern(uint64_t sector, uint64_t word, uint64_t seed)
{
    uint64_t x = (sector + 1) * 0x9e3779b97f4a7c15ull ^ (word << 40) ^ seed;
    x ^= x >> 29;
    return x * 0xbf58476d1ce4e5b9ull;
}

inline void fill(void* buf, uint64_t sector, uint32_t n, uint64_t seed)
{
    auto* p = static_cast<uint8_t*>(buf);
    for (uint32_t s = 0; s < n; s++)
        for (uint32_t w = 0; w < SECTOR / 8; w++) {
            uint64_t v = pattern(sector + s, w, seed);
            memcpy(p + s * SECTOR + w * 8, &v, 8);
        }
}

// Index of the first sector that differs, or n.
inline uint32_t verify(const void* buf, uint64_t sector, uint32_t n, uint64_t seed)
{
    auto* p = static_cast<const uint8_t*>(buf);
    for (uint32_t s = 0; s < n; s++)
        for (uint32_t w = 0; w < SECTOR / 8; w++) {
            uint64_t v = pattern(sector + s, w, seed), got;
            memcpy(&got, p + s * SECTOR + w * 8, 8);
            if (got != v)
                return s;
        }
    return n;
}

} // namespace ktest::blockpat
