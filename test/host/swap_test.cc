// Swap space allocation and the swap-out candidate policy.
#include "test/host/host_kernel.h"
#include "vm/swap_alloc.h"
#include "vm/swap_policy.h"

#include <doctest/doctest.h>

#include <algorithm>
#include <random>
#include <set>
#include <vector>

TEST_CASE("swap space: runs are contiguous, disjoint, and sequential from the rotor")
{
    std::vector<uint64_t> bits(vm::SwapSpace::bitmap_words(1000));
    vm::SwapSpace s;
    s.init(bits.data(), 1000);
    auto a = s.alloc(16);
    auto b = s.alloc(16);
    REQUIRE(a.ok());
    REQUIRE(b.ok());
    CHECK(a.value() == 0);
    CHECK(b.value() == 16); // the next cluster right after the last: sequential writes
    CHECK(s.used() == 32);
    s.free(a.value(), 16);
    // The rotor keeps going forward rather than refilling the hole at once.
    auto c = s.alloc(8);
    REQUIRE(c.ok());
    CHECK(c.value() == 32);
    CHECK(s.in_use(33));
    CHECK_FALSE(s.in_use(0));
}

TEST_CASE("swap space: a full device says so, and freed space is found again")
{
    std::vector<uint64_t> bits(vm::SwapSpace::bitmap_words(64));
    vm::SwapSpace s;
    s.init(bits.data(), 64);
    std::vector<uint64_t> runs;
    for (int i = 0; i < 16; i++) {
        auto r = s.alloc(4);
        REQUIRE(r.ok());
        runs.push_back(r.value());
    }
    CHECK(s.free_blocks() == 0);
    CHECK(s.alloc(4).error() == lib::Error::NoSpace);
    CHECK(s.alloc(1).error() == lib::Error::NoSpace);
    CHECK(s.failures() == 2);
    s.free(runs[3], 4);
    auto r = s.alloc(4);
    REQUIRE(r.ok());
    CHECK(r.value() == runs[3]); // found by the wrap-around pass
    CHECK(s.alloc(0).error() == lib::Error::NoSpace);
    CHECK(s.alloc(65).error() == lib::Error::NoSpace);
}

TEST_CASE("swap space: fragmentation is handled: a run needs consecutive blocks")
{
    std::vector<uint64_t> bits(vm::SwapSpace::bitmap_words(32));
    vm::SwapSpace s;
    s.init(bits.data(), 32);
    std::vector<uint64_t> one;
    for (int i = 0; i < 32; i++)
        one.push_back(s.alloc(1).value());
    for (int i = 0; i < 32; i += 2)
        s.free(one[i], 1); // every other block free: 16 free, no run of 2
    CHECK(s.free_blocks() == 16);
    CHECK(s.alloc(2).error() == lib::Error::NoSpace);
    CHECK(s.alloc(1).ok());
}

TEST_CASE("swap space: double free and foreign ranges panic")
{
    std::vector<uint64_t> bits(vm::SwapSpace::bitmap_words(128));
    vm::SwapSpace s;
    s.init(bits.data(), 128);
    auto r = s.alloc(4);
    REQUIRE(r.ok());
    s.free(r.value(), 4);
    CHECK_THROWS_AS(s.free(r.value(), 4), HostPanic);
    CHECK_THROWS_AS(s.free(126, 4), HostPanic);
    // A run across words with one block in its middle already free.
    auto w = s.alloc(100);
    REQUIRE(w.ok());
    auto w1 = s.alloc(1);
    REQUIRE(w1.ok());
    s.free(w1.value(), 1);
    CHECK_THROWS_AS(s.free(w.value(), 101), HostPanic);
    CHECK(s.in_use(w.value() + 99)); // the refused free changed nothing
    s.free(w.value(), 100);
    CHECK(s.used() == 0);
}

TEST_CASE("swap space: runs longer than a bitmap word, across word boundaries")
{
    std::vector<uint64_t> bits(vm::SwapSpace::bitmap_words(1000));
    vm::SwapSpace s;
    s.init(bits.data(), 1000);
    auto a = s.alloc(3);   // 0..2
    auto b = s.alloc(200); // 3..202: four words touched
    auto c = s.alloc(61);  // 203..263
    REQUIRE(a.ok());
    REQUIRE(b.ok());
    REQUIRE(c.ok());
    CHECK(b.value() == 3);
    CHECK(c.value() == 203);
    for (uint64_t i = 0; i < 264; i++)
        CHECK(s.in_use(i));
    CHECK_FALSE(s.in_use(264));
    s.free(b.value(), 200);
    CHECK_FALSE(s.in_use(3));
    CHECK_FALSE(s.in_use(202));
    CHECK(s.in_use(2));
    CHECK(s.in_use(203));
    // The hole of 200 is found again by the wrap-around pass once the rest is used.
    auto d = s.alloc(1000 - 264);
    REQUIRE(d.ok());
    CHECK(d.value() == 264);
    auto e = s.alloc(200);
    REQUIRE(e.ok());
    CHECK(e.value() == 3);
    CHECK(s.free_blocks() == 0);
    CHECK(s.alloc(1).error() == lib::Error::NoSpace);
}

TEST_CASE("swap space: random churn never hands out a block twice")
{
    constexpr uint64_t N = 4096;
    std::vector<uint64_t> bits(vm::SwapSpace::bitmap_words(N));
    vm::SwapSpace s;
    s.init(bits.data(), N);
    std::mt19937 rng(3);
    std::vector<std::pair<uint64_t, uint32_t>> live;
    std::set<uint64_t> owned;
    for (int i = 0; i < 20000; i++) {
        if (live.empty() || rng() % 3) {
            uint32_t n = rng() % 8 ? 1 + rng() % 16 : 1 + rng() % 150; // some runs span words
            auto r = s.alloc(n);
            if (!r.ok())
                continue;
            for (uint64_t b = r.value(); b < r.value() + n; b++)
                REQUIRE(owned.insert(b).second);
            live.push_back({r.value(), n});
        } else {
            size_t k = rng() % live.size();
            for (uint64_t b = live[k].first; b < live[k].first + live[k].second; b++)
                owned.erase(b);
            s.free(live[k].first, live[k].second);
            live.erase(live.begin() + long(k));
        }
        CHECK(s.used() == owned.size());
        if (i % 1000 == 0)
            for (uint64_t b = 0; b < N; b++)
                REQUIRE(s.in_use(b) == (owned.count(b) == 1));
    }
}

using vm::swap_policy::Candidate;

TEST_CASE("swap policy: only long sleepers without holds, not no-swap, resident")
{
    const uint64_t now = 10000, idle = 2000;
    CHECK(eligible(Candidate {7000, 0, 4, true, false, true, 1}, now, idle));
    CHECK_FALSE(eligible(Candidate {9000, 0, 4, true, false, true, 1}, now, idle)); // asleep too briefly
    CHECK_FALSE(eligible(Candidate {1000, 1, 4, true, false, true, 1}, now, idle)); // holds its stack
    CHECK_FALSE(eligible(Candidate {1000, 0, 4, true, true, true, 1}, now, idle));  // no-swap thread
    CHECK_FALSE(eligible(Candidate {1000, 0, 4, false, false, true, 1}, now, idle)); // running
    CHECK_FALSE(eligible(Candidate {1000, 0, 4, true, false, false, 1}, now, idle)); // already out
    CHECK(eligible(Candidate {8000, 0, 4, true, false, true, 1}, now, idle));          // exactly the threshold
}

TEST_CASE("swap policy: longest sleepers first, only as many as needed")
{
    std::vector<Candidate> c = {
        {5000, 0, 4, true, false, true, 10}, {1000, 0, 4, true, false, true, 11}, {3000, 2, 4, true, false, true, 12},
        {2000, 0, 4, true, false, true, 13}, {9500, 0, 4, true, false, true, 14}, {4000, 0, 4, true, true, true, 15},
    };
    uint32_t out[8];
    size_t k = vm::swap_policy::select(c.data(), c.size(), 10000, 2000, 8, out, 8);
    REQUIRE(k == 2); // 8 pages needed, 4 each
    CHECK(out[0] == 11);
    CHECK(out[1] == 13);
    k = vm::swap_policy::select(c.data(), c.size(), 10000, 2000, 1000, out, 8);
    CHECK(k == 3); // every eligible one: 11, 13, 10
    k = vm::swap_policy::select(c.data(), c.size(), 10000, 2000, 1000, out, 1);
    CHECK(k == 1);
}

TEST_CASE("swap policy: clusters")
{
    using vm::swap_policy::cluster_size;
    CHECK(cluster_size(10, 4, 32) == 8);
    CHECK(cluster_size(3, 4, 32) == 3);
    CHECK(cluster_size(10, 4, 2) == 1);
    CHECK(cluster_size(0, 4, 32) == 0);
}
