// The kernel VA arena: alignment, coalescing, exhaustion, record exhaustion.
#include "vm/arena.h"
#include "kern/seam/cpu.h"
#include "test/host/host_kernel.h"

#include <doctest/doctest.h>

#include <algorithm>
#include <atomic>
#include <random>
#include <thread>
#include <vector>

namespace {
constexpr uintptr_t BASE = 0xffffffe000000000ull;
constexpr size_t SIZE = 64ull << 20;
} // namespace

TEST_CASE("arena: aligned allocations do not overlap and free coalesces")
{
    static vm::Arena::Segment pool[64];
    vm::Arena a("test");
    a.init(BASE, SIZE, pool, 64);
    std::vector<std::pair<uintptr_t, size_t>> got;
    for (size_t align : {4096ul, 32768ul, 1ul << 20, 4096ul, 65536ul}) {
        auto r = a.alloc(3 * 4096, align);
        REQUIRE(r.ok());
        CHECK(r.value() % align == 0);
        CHECK(r.value() >= BASE);
        CHECK(r.value() + 3 * 4096 <= BASE + SIZE);
        for (auto [b, s] : got)
            CHECK((r.value() + 3 * 4096 <= b || b + s <= r.value()));
        got.push_back({r.value(), 3 * 4096});
    }
    for (auto [b, s] : got)
        a.free(b, s);
    auto st = a.stats();
    CHECK(st.in_use == 0);
    CHECK(st.free_segments == 1);
    CHECK(st.largest_free == SIZE);
}

TEST_CASE("arena: exhaustion, then reuse after free")
{
    static vm::Arena::Segment pool[8];
    vm::Arena a("small");
    a.init(BASE, 16 * 4096, pool, 8);
    std::vector<uintptr_t> v;
    for (int i = 0; i < 16; i++) {
        auto r = a.alloc(4096, 4096);
        REQUIRE(r.ok());
        v.push_back(r.value());
    }
    CHECK(a.alloc(4096, 4096).error() == lib::Error::NoSpace);
    a.free(v[5], 4096);
    auto r = a.alloc(4096, 4096);
    REQUIRE(r.ok());
    CHECK(r.value() == v[5]);
    CHECK(a.alloc(0, 4096).error() == lib::Error::Invalid);
    CHECK(a.alloc(4096, 3000).error() == lib::Error::Invalid);
}

TEST_CASE("arena: running out of segment records is a clean error")
{
    static vm::Arena::Segment pool[2];
    vm::Arena a("records");
    a.init(BASE, SIZE, pool, 2); // one record in use for the whole range, one spare
    // A 1 MiB-aligned allocation from an unaligned free start would split in the middle.
    auto first = a.alloc(4096, 4096);
    REQUIRE(first.ok());
    auto mid = a.alloc(4096, 1 << 20); // head and tail left: needs the spare record
    REQUIRE(mid.ok());
    auto again = a.alloc(4096, 1 << 22);
    CHECK(again.error() == lib::Error::NoMemory);
}

TEST_CASE("arena: double free and foreign ranges panic")
{
    static vm::Arena::Segment pool[8];
    vm::Arena a("strict");
    a.init(BASE, SIZE, pool, 8);
    auto r = a.alloc(8192, 4096);
    REQUIRE(r.ok());
    a.free(r.value(), 8192);
    CHECK_THROWS_AS(a.free(r.value(), 8192), HostPanic);
    CHECK_THROWS_AS(a.free(BASE - 4096, 4096), HostPanic);
}

TEST_CASE("arena: random churn returns to one free segment")
{
    static vm::Arena::Segment pool[1024];
    vm::Arena a("churn");
    a.init(BASE, SIZE, pool, 1024);
    std::mt19937 rng(7);
    std::vector<std::pair<uintptr_t, size_t>> live;
    for (int i = 0; i < 20000; i++) {
        if (live.empty() || rng() % 2) {
            size_t size = (1 + rng() % 16) * 4096;
            size_t align = 4096ul << (rng() % 5);
            auto r = a.alloc(size, align);
            if (r.ok())
                live.push_back({r.value(), size});
        } else {
            size_t k = rng() % live.size();
            a.free(live[k].first, live[k].second);
            live.erase(live.begin() + long(k));
        }
    }
    for (auto [b, s] : live)
        a.free(b, s);
    auto st = a.stats();
    CHECK(st.in_use == 0);
    CHECK(st.free_segments == 1);
    CHECK(st.records_free == 1023);
}

TEST_CASE("arena: populated placement stays inside populated spans, which merge")
{
    static vm::Arena::Segment pool[32];
    vm::Arena a("populated");
    a.init(BASE, SIZE, pool, 32);
    using P = vm::Arena::Placement;
    CHECK(a.alloc(4096, 4096, P::Populated).error() == lib::Error::NoSpace); // nothing populated yet
    const uintptr_t span = BASE + (8ull << 20);
    REQUIRE(a.mark_populated(span, 2ull << 20).ok());
    REQUIRE(a.mark_populated(span + (2ull << 20), 2ull << 20).ok()); // adjacent: merges
    CHECK(a.stats().populated == (4ull << 20));
    CHECK(a.is_populated(span + (1ull << 20), 2ull << 20)); // across the old seam
    CHECK_FALSE(a.is_populated(span - 4096, 8192));
    std::vector<uintptr_t> got;
    for (;;) {
        auto r = a.alloc(64 * 1024, 64 * 1024, P::Populated);
        if (!r.ok()) {
            CHECK(r.error() == lib::Error::NoSpace);
            break;
        }
        CHECK(r.value() >= span);
        CHECK(r.value() + 64 * 1024 <= span + (4ull << 20));
        got.push_back(r.value());
    }
    CHECK(got.size() == 64); // exactly the 4 MiB span
    // Ordinary allocations still come from anywhere else.
    auto any = a.alloc(4096, 4096);
    REQUIRE(any.ok());
    CHECK_FALSE(a.is_populated(any.value(), 4096));
    // Freed populated ranges stay populated and are handed out again.
    a.free(got[10], 64 * 1024);
    auto again = a.alloc(64 * 1024, 4096, P::Populated);
    REQUIRE(again.ok());
    CHECK(again.value() == got[10]);
    CHECK(a.mark_populated(BASE - 4096, 4096).error() == lib::Error::Invalid);
}

TEST_CASE("arena: populated span table is bounded")
{
    static vm::Arena::Segment pool[8];
    vm::Arena a("spans");
    a.init(BASE, SIZE, pool, 8);
    for (size_t i = 0; i < vm::Arena::MAX_POPULATED; i++)
        REQUIRE(a.mark_populated(BASE + i * (1ull << 20), 4096).ok()); // disjoint
    CHECK(a.mark_populated(BASE + (40ull << 20), 4096).error() == lib::Error::NoSpace);
    // Filling a gap merges two spans into one, so there is room again.
    REQUIRE(a.mark_populated(BASE + 4096, (1ull << 20) - 4096).ok());
    CHECK(a.mark_populated(BASE + (40ull << 20), 4096).ok());
    CHECK(a.is_populated(BASE, (1ull << 20) + 4096));
}

TEST_CASE("arena: statistics count allocations, frees and both kinds of failure")
{
    static vm::Arena::Segment pool[1];
    vm::Arena a("stats");
    a.init(BASE, 16 * 4096, pool, 1); // the only record describes the whole range
    auto x = a.alloc(4096, 4096);     // from the start: no split
    REQUIRE(x.ok());
    CHECK(a.alloc(4096, 8 * 4096).error() == lib::Error::NoMemory); // would split in the middle
    CHECK(a.alloc(32 * 4096, 4096).error() == lib::Error::NoSpace);
    a.free(x.value(), 4096);
    auto st = a.stats();
    CHECK(st.allocs == 1);
    CHECK(st.frees == 1);
    CHECK(st.no_space == 1);
    CHECK(st.no_record == 1);
    CHECK(st.in_use == 0);
}

TEST_CASE("arena: 4 harts allocate and free concurrently without overlap")
{
    static vm::Arena::Segment pool[512];
    static vm::Arena a("threads");
    a.init(BASE, SIZE, pool, 512);
    cpu::host_set_count(4);
    std::atomic<int> overlaps {0};
    std::vector<std::thread> ts;
    // Each hart stamps the ranges it holds in a shared page map; a range handed
    // to two harts at once shows as a stamp already set.
    static std::atomic<uint8_t> owner[SIZE / 4096];
    for (auto& o : owner)
        o.store(0);
    for (unsigned h = 0; h < 4; h++) {
        ts.emplace_back([h, &overlaps] {
            cpu::host_bind(h);
            std::mt19937 rng(h + 1);
            std::vector<std::pair<uintptr_t, size_t>> live;
            for (int i = 0; i < 3000; i++) {
                if (live.size() < 20 && (live.empty() || rng() % 2)) {
                    size_t size = (1 + rng() % 8) * 4096;
                    auto r = a.alloc(size, 4096ul << (rng() % 3));
                    if (!r.ok())
                        continue;
                    for (size_t p = 0; p < size / 4096; p++) {
                        uint8_t zero = 0;
                        if (!owner[(r.value() - BASE) / 4096 + p].compare_exchange_strong(zero, uint8_t(h + 1)))
                            overlaps++;
                    }
                    live.push_back({r.value(), size});
                } else {
                    auto [b, s] = live.back();
                    live.pop_back();
                    for (size_t p = 0; p < s / 4096; p++)
                        owner[(b - BASE) / 4096 + p].store(0);
                    a.free(b, s);
                }
            }
            for (auto [b, s] : live) {
                for (size_t p = 0; p < s / 4096; p++)
                    owner[(b - BASE) / 4096 + p].store(0);
                a.free(b, s);
            }
        });
    }
    for (auto& t : ts)
        t.join();
    cpu::host_bind(0);
    cpu::host_set_count(1);
    CHECK(overlaps.load() == 0);
    auto st = a.stats();
    CHECK(st.in_use == 0);
    CHECK(st.free_segments == 1);
    CHECK(st.allocs == st.frees);
}

TEST_CASE("arena: ordinary allocations keep out of populated spans until nothing else fits")
{
    static vm::Arena::Segment pool[32];
    vm::Arena a("keepout");
    a.init(BASE, 16 * 4096, pool, 32);
    REQUIRE(a.mark_populated(BASE, 4 * 4096).ok()); // the first 4 pages: first fit would pick them
    std::vector<uintptr_t> got;
    for (int i = 0; i < 12; i++) {
        auto r = a.alloc(4096, 4096);
        REQUIRE(r.ok());
        CHECK_FALSE(a.is_populated(r.value(), 4096));
        got.push_back(r.value());
    }
    auto spill = a.alloc(4096, 4096); // only populated space is left: used rather than failing
    REQUIRE(spill.ok());
    CHECK(a.is_populated(spill.value(), 4096));
    auto zone = a.alloc(3 * 4096, 4096, vm::Arena::Placement::Populated);
    REQUIRE(zone.ok());
    CHECK(a.alloc(4096, 4096).error() == lib::Error::NoSpace);
}
