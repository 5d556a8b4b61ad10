// The checksum a swapped-out stack page carries: hardware-free, host-tested
// (test/host/kstack_checksum_test.cc).
//
// It has to catch what a swap device does wrong (a stale block, a block
// written somewhere else, a torn or zeroed write), not an adversary: a 64-bit
// multiply-xorshift chain over the page's words, h = f(h ^ w) with f a
// bijection that spreads every bit of its input over the whole word. Each
// step's input depends on every word before it, so a page with two words
// swapped or shifted does not collide; the page's length seeds the chain.
// Four instructions a word besides the load (the swap-out path reads 16 MiB
// per 1,024 stacks and, under QEMU, what counts is instructions).
//
// gdb checks swapped pages with the same hash (tools/gdb/zest.py,
// page_checksum): change both together; `make gdb-check` (part of `make test`)
// reads a swapped stack through it and fails when they differ.
#pragma once

#include <cstddef>
#include <cstdint>

namespace kstack {

namespace checksum_detail {
inline constexpr uint64_t SEED = 0x9e3779b97f4a7c15ull, MUL = 0xff51afd7ed558ccdull;
inline constexpr size_t MAX_WORDS = 512; // a 4 KiB page

[[nodiscard]] constexpr uint64_t step(uint64_t h, uint64_t w)
{
    h ^= w;
    h *= MUL;
    return h ^ (h >> 29);
}

// Words [i, n) into h, four per iteration: the same value as one at a time,
// with a quarter of the loop's own instructions (the hash is one dependent
// chain either way).
[[nodiscard]] inline uint64_t mix(uint64_t h, const uint64_t* w, size_t i, size_t n)
{
    if (i >= n)
        return h;
    size_t rest = (n - i) % 4;
    for (size_t quads = (n - i) / 4; quads > 0; quads--, i += 4) {
        uint64_t a = w[i], b = w[i + 1], c = w[i + 2], d = w[i + 3];
        h = step(h, a);
        h = step(h, b);
        h = step(h, c);
        h = step(h, d);
    }
    for (; rest > 0; rest--, i++)
        h = step(h, w[i]);
    return h;
}
} // namespace checksum_detail

// The hash loops sit in two small functions aligned to HOT_ALIGN, so neither
// straddles a 4 KiB page: under QEMU a loop whose code crosses a page
// boundary is split into two translation blocks that cannot jump to each
// other directly, and every iteration then goes through a block lookup (the
// same hash ran 4-6 times slower in builds where the loop happened to cross
// one). Each function is smaller than HOT_ALIGN (`nm -S build/zest.elf`:
// 176 and 320 bytes).
inline constexpr size_t HOT_ALIGN = 512;

[[nodiscard, gnu::noinline, gnu::aligned(HOT_ALIGN)]] inline uint64_t page_checksum(const void* page, size_t bytes)
{
    using namespace checksum_detail;
    return mix(SEED ^ bytes, static_cast<const uint64_t*>(page), 0, bytes / 8);
}

// The hash of a page that starts with k words of one fill pattern, up to its
// k-th word, is the same for every such page: FillPrefix holds it for every k
// (built at compile time), so a page's leading fill words, the untouched part
// at a stack's bottom, are compared, not hashed.
struct FillPrefix {
    size_t bytes;
    uint64_t fill;
    uint64_t h[checksum_detail::MAX_WORDS + 1]; // h[k]: the chain after k fill words

    constexpr FillPrefix(size_t page_bytes, uint64_t fill_word) : bytes(page_bytes), fill(fill_word), h {}
    {
        using namespace checksum_detail;
        h[0] = SEED ^ bytes;
        for (size_t k = 0; k < bytes / 8 && k < MAX_WORDS; k++)
            h[k + 1] = step(h[k], fill);
    }
};

// Swap-out reads each page once: the checksum above and, in the same pass,
// how many words from the page's start still hold the fill (the pattern
// fresh stack pages get: the stack's deepest use is where it stops,
// kstack.cc).
struct PageScan {
    uint64_t sum;   // == page_checksum(page, fp.bytes)
    size_t leading; // words from the start equal to fp.fill
};

// fp.bytes must be at most a page (MAX_WORDS words).
[[nodiscard, gnu::noinline, gnu::aligned(HOT_ALIGN)]] inline PageScan scan_page(const void* page,
                                                                                 const FillPrefix& fp)
{
    using namespace checksum_detail;
    const auto* w = static_cast<const uint64_t*>(page);
    const uint64_t f = fp.fill;
    size_t n = fp.bytes / 8, i = 0;
    while (i + 4 <= n && ((w[i] ^ f) | (w[i + 1] ^ f) | (w[i + 2] ^ f) | (w[i + 3] ^ f)) == 0)
        i += 4;
    while (i < n && w[i] == f)
        i++;
    return {mix(fp.h[i], w, i, n), i};
}

} // namespace kstack
