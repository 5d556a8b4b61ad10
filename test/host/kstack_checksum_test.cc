// The swapped-stack page checksum (kstack/checksum.h): what a swap device does
// wrong must change it.
#include "kstack/checksum.h"

#include <doctest/doctest.h>

#include <cstring>
#include <vector>

namespace {

std::vector<uint64_t> page_of(uint64_t seed)
{
    std::vector<uint64_t> p(512);
    uint64_t x = seed;
    for (auto& w : p) {
        x = x * 6364136223846793005ull + 1442695040888963407ull;
        w = x;
    }
    return p;
}

uint64_t sum(const std::vector<uint64_t>& p) { return kstack::page_checksum(p.data(), p.size() * 8); }

} // namespace

TEST_CASE("checksum: same page, same sum; every single-bit flip changes it")
{
    auto p = page_of(1);
    uint64_t s = sum(p);
    CHECK(sum(page_of(1)) == s);
    for (size_t bit = 0; bit < 4096 * 8; bit += 7) {
        p[bit / 64] ^= 1ull << (bit % 64);
        CHECK(sum(p) != s);
        p[bit / 64] ^= 1ull << (bit % 64);
    }
    CHECK(sum(p) == s);
}

TEST_CASE("checksum: swapped or shifted words, a zeroed page and another page all differ")
{
    auto p = page_of(2);
    uint64_t s = sum(p);
    auto q = p;
    std::swap(q[10], q[11]);
    CHECK(sum(q) != s);
    auto r = p;
    std::memmove(r.data() + 1, r.data(), 511 * 8);
    CHECK(sum(r) != s);
    std::vector<uint64_t> zero(512, 0);
    CHECK(sum(zero) != s);
    CHECK(sum(zero) != kstack::page_checksum(zero.data(), 2048)); // the length counts too
    CHECK(sum(page_of(3)) != s);
    // Shifted by one within a page of mostly equal words: still a different sum.
    std::vector<uint64_t> same(512, 7);
    same[100] = 8;
    auto shifted = same;
    std::swap(shifted[100], shifted[101]);
    CHECK(sum(shifted) != sum(same));
    // A page of one repeated word (a stale fill pattern) is not the zero page's sum.
    std::vector<uint64_t> fill(512, 0x5a5a5a5a5a5a5a5aull);
    CHECK(sum(fill) != sum(zero));
}

TEST_CASE("scan_page: the same sum as page_checksum, and the fill words from the start")
{
    constexpr uint64_t F = 0x5a5a5a5a5a5a5a5aull;
    static constexpr kstack::FillPrefix FP(4096, F);
    auto p = page_of(4);
    kstack::PageScan r = kstack::scan_page(p.data(), FP);
    CHECK(r.sum == sum(p));
    CHECK(r.leading == 0);
    for (size_t k : {size_t(1), size_t(3), size_t(4), size_t(5), size_t(100), size_t(508), size_t(511)}) {
        auto q = page_of(5);
        for (size_t i = 0; i < k; i++)
            q[i] = F;
        if (k + 3 < 512)
            q[k + 3] = F; // a fill word after the first other one does not count
        r = kstack::scan_page(q.data(), FP);
        CHECK(r.sum == sum(q));
        CHECK(r.leading == k);
    }
    std::vector<uint64_t> all(512, F);
    r = kstack::scan_page(all.data(), FP);
    CHECK(r.sum == sum(all));
    CHECK(r.leading == 512);
    // A shorter length: its own prefix table, the same sums as page_checksum.
    static constexpr kstack::FillPrefix FP2(2048, F);
    r = kstack::scan_page(all.data(), FP2);
    CHECK(r.sum == kstack::page_checksum(all.data(), 2048));
    CHECK(r.leading == 256);
    auto q = page_of(7);
    for (size_t i = 0; i < 37; i++)
        q[i] = F;
    r = kstack::scan_page(q.data(), FP2);
    CHECK(r.sum == kstack::page_checksum(q.data(), 2048));
    CHECK(r.leading == 37);
}

TEST_CASE("checksum: the unrolled loop gives the word-at-a-time hash, for every length")
{
    auto p = page_of(6);
    for (size_t bytes : {size_t(8), size_t(16), size_t(24), size_t(40), size_t(2048), size_t(4088), size_t(4096)}) {
        uint64_t h = 0x9e3779b97f4a7c15ull ^ bytes;
        for (size_t i = 0; i < bytes / 8; i++) {
            h ^= p[i];
            h *= 0xff51afd7ed558ccdull;
            h ^= h >> 29;
        }
        CHECK(kstack::page_checksum(p.data(), bytes) == h);
    }
}
