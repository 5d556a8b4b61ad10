// vm/phys: the buddy allocator, its per-hart caches and the reserve classes,
// over fake RAM. Ranges are just numbers; the page array is a vector.
#include "test/host/host_kernel.h"
#include "kern/seam/cpu.h"
#include "vm/phys.h"

#include <doctest/doctest.h>

#include <algorithm>
#include <atomic>
#include <random>
#include <set>
#include <thread>
#include <vector>

using namespace vm;

DOCTEST_REGISTER_EXCEPTION_TRANSLATOR(const HostPanic& p) { return doctest::String(p.message.c_str()); }

namespace {

constexpr PhysAddr RAM = 0x80000000;
constexpr uint64_t PG = PAGE_SIZE;

// 8 MiB of "RAM" with a 100-page hole: 1200 pages at 0x80000000 (4 MiB aligned,
// so one MAX_ORDER block fits), then 900 pages after the hole.
struct FakeRam {
    std::vector<PhysRange> ranges {{RAM, 1200 * PG}, {RAM + 1300 * PG, 900 * PG}};
    std::vector<Page> storage;
    PhysAllocator a;

    FakeRam()
    {
        cpu::host_bind(0);
        cpu::host_set_count(1);
        uint64_t bytes = PhysAllocator::page_array_bytes(ranges.front().base, ranges.back().end());
        storage.resize(bytes / sizeof(Page));
        a.init(storage.data(), ranges.data(), ranges.size());
    }
    ~FakeRam() { cpu::host_bind(0); }

    bool in_ram(PhysAddr pa, uint64_t pages = 1) const
    {
        for (auto& r : ranges)
            if (pa >= r.base && pa + pages * PG <= r.end())
                return true;
        return false;
    }
};

constexpr uint64_t TOTAL = 2100;

std::vector<PhysAddr> drain(PhysAllocator& a, PageClass c)
{
    std::vector<PhysAddr> got;
    for (;;) {
        auto r = a.alloc(c);
        if (!r.ok()) {
            CHECK(r.error() == lib::Error::NoMemory);
            return got;
        }
        got.push_back(r.value());
    }
}

} // namespace

TEST_CASE("phys: init over ranges with a hole")
{
    FakeRam ram;
    PhysAllocator& a = ram.a;
    CHECK(PhysAllocator::page_array_bytes(TOTAL) == TOTAL * 16);
    CHECK(ram.storage.size() == 2200);
    CHECK(a.total_pages() == TOTAL);
    CHECK(a.free_pages() == TOTAL);
    CHECK(a.watermarks().free_min == 74);
    CHECK(a.watermarks().free_reserved == 44);
    CHECK(a.watermarks().interrupt_min == 16);
    CHECK_FALSE(a.below_min());
    CHECK(a.page(RAM) != nullptr);
    CHECK(a.page(RAM + 1199 * PG) != nullptr);
    CHECK(a.page(RAM + 1200 * PG) == nullptr); // hole
    CHECK(a.page(RAM + 1299 * PG) == nullptr);
    CHECK(a.page(RAM + 1300 * PG) != nullptr);
    CHECK(a.page(RAM + 2200 * PG) == nullptr); // past the end
    CHECK(a.page(RAM - PG) == nullptr);
    CHECK(a.page(RAM + 1) == nullptr); // unaligned
    auto s = a.stats();
    uint64_t sum = 0;
    for (unsigned o = 0; o <= PhysAllocator::MAX_ORDER; o++)
        sum += s.runs_free[o] << o;
    CHECK(sum == TOTAL);
    CHECK(s.runs_free[PhysAllocator::MAX_ORDER] == 1); // 0x80000000..+4 MiB merged whole
}

TEST_CASE("phys: exhaustion per class stops exactly at each floor")
{
    FakeRam ram;
    PhysAllocator& a = ram.a;
    const Watermarks& w = a.watermarks();
    std::set<PhysAddr> seen;

    auto normal = drain(a, PageClass::Normal);
    CHECK(normal.size() == TOTAL - w.free_reserved);
    CHECK(a.free_pages() == w.free_reserved);
    CHECK(a.below_min());
    auto system = drain(a, PageClass::System);
    CHECK(system.size() == w.free_reserved - w.interrupt_min);
    CHECK(a.free_pages() == w.interrupt_min);
    CHECK_FALSE(a.alloc(PageClass::Normal).ok());
    auto intr = drain(a, PageClass::Interrupt);
    CHECK(intr.size() == w.interrupt_min);
    CHECK(a.free_pages() == 0);
    CHECK_FALSE(a.alloc(PageClass::Interrupt).ok());
    CHECK_FALSE(a.alloc_run(1, PageClass::Interrupt).ok());

    for (auto* v : {&normal, &system, &intr})
        for (PhysAddr pa : *v) {
            CHECK(ram.in_ram(pa));
            CHECK(seen.insert(pa).second);
        }
    CHECK(seen.size() == TOTAL);
    auto s = a.stats();
    CHECK(s.allocs[0] == TOTAL - w.free_reserved);
    CHECK(s.failures[0] == 2);
    CHECK(s.failures[1] == 1);
    CHECK(s.failures[2] == 3); // the drain's end, the last alloc and the run

    for (PhysAddr pa : seen)
        a.free(pa);
    CHECK(a.free_pages() == TOTAL);
    CHECK(a.alloc_run(PhysAllocator::MAX_ORDER, PageClass::Normal).ok());
}

TEST_CASE("phys: a normal caller never takes the reserve through a cache")
{
    FakeRam ram;
    PhysAllocator& a = ram.a;
    const Watermarks& w = a.watermarks();
    auto normal = drain(a, PageClass::Normal);
    REQUIRE(a.free_pages() == w.free_reserved);

    // Hart 0 frees 5 pages into its cache: exactly those 5 are Normal's again.
    for (int i = 0; i < 5; i++) {
        a.free(normal.back());
        normal.pop_back();
    }
    CHECK(a.cached_on(0) >= 5);
    for (int i = 0; i < 5; i++) {
        auto r = a.alloc(PageClass::Normal);
        REQUIRE(r.ok());
        normal.push_back(r.value());
    }
    CHECK_FALSE(a.alloc(PageClass::Normal).ok());
    CHECK(a.free_pages() == w.free_reserved);

    // The reserve sits partly in hart 0's cache: hart 1 may not take it as
    // Normal, but an interrupt-class caller there gets it (stolen).
    unsigned in_cache = a.cached_on(0);
    CHECK(in_cache > 0);
    cpu::host_bind(1);
    CHECK_FALSE(a.alloc(PageClass::Normal).ok());
    auto intr = drain(a, PageClass::Interrupt);
    CHECK(intr.size() == w.free_reserved);
    CHECK(a.free_pages() == 0);
    CHECK(a.cached_on(0) == 0);
    for (PhysAddr pa : intr)
        a.free(pa);
    cpu::host_bind(0);
    for (PhysAddr pa : normal)
        a.free(pa);
    CHECK(a.free_pages() == TOTAL);
}

TEST_CASE("phys: 4 harts hammering Normal never go below free_reserved")
{
    FakeRam ram;
    PhysAllocator& a = ram.a;
    const uint64_t reserved = a.watermarks().free_reserved;
    cpu::host_set_count(4);
    std::atomic<uint64_t> lowest {TOTAL};
    std::atomic<bool> broken {false};
    std::atomic<uint64_t> successes {0}, refusals {0};
    auto note = [&](uint64_t f) {
        uint64_t l = lowest.load();
        while (f < l && !lowest.compare_exchange_weak(l, f)) {
        }
        if (f < reserved)
            broken = true;
    };
    std::vector<std::thread> harts;
    for (unsigned h = 0; h < 4; h++)
        harts.emplace_back([&, h] {
            cpu::host_bind(h);
            std::mt19937 rng(1000 + h);
            std::vector<PhysAddr> mine;
            for (int i = 0; i < 20000; i++) {
                if (mine.empty() || rng() % 8 != 0) {
                    auto r = a.alloc(PageClass::Normal);
                    if (r.ok()) {
                        mine.push_back(r.value());
                        successes++;
                    } else {
                        refusals++;
                    }
                } else {
                    a.free(mine.back());
                    mine.pop_back();
                }
                note(a.free_pages());
            }
            for (PhysAddr pa : mine)
                a.free(pa);
        });
    for (auto& t : harts)
        t.join();
    cpu::host_set_count(1);
    CHECK_FALSE(broken.load());
    CHECK(lowest.load() == reserved); // they really ran it down to the floor
    CHECK(refusals.load() > 0);
    CHECK(successes.load() > TOTAL);
    CHECK(a.free_pages() == TOTAL);
    a.drain_caches();
    CHECK(a.stats().cached == 0);
    CHECK(a.alloc_run(PhysAllocator::MAX_ORDER, PageClass::Normal).ok());
}

TEST_CASE("phys: free_batch frees each page as free() does, draining the cache as it fills")
{
    FakeRam ram;
    PhysAllocator& a = ram.a;
    std::vector<PhysAddr> got;
    for (unsigned i = 0; i < 100; i++)
        got.push_back(a.alloc(PageClass::Normal).value());
    a.drain_caches();
    auto s0 = a.stats();
    a.free_batch(got.data(), 80); // more than CACHE_MAX: one drain on the way
    CHECK(a.free_pages() == TOTAL - 20);
    CHECK(a.cached_on(0) == PhysAllocator::CACHE_MAX - PhysAllocator::CACHE_BATCH + (80 - PhysAllocator::CACHE_MAX));
    CHECK(a.stats().cached == a.cached_on(0));
    CHECK(a.stats().frees == s0.frees + 80);
    a.free_batch(got.data(), 0); // nothing
    CHECK(a.free_pages() == TOTAL - 20);
    // A page already free in the batch is a double free, as for free().
    std::vector<PhysAddr> twice {got[0], got[80]};
    CHECK_THROWS_AS(a.free_batch(twice.data(), twice.size()), HostPanic);
    a.free_batch(got.data() + 80, 20);
    a.drain_caches();
    CHECK(a.free_pages() == TOTAL);
}

TEST_CASE("phys: per-hart caches refill and drain in batches")
{
    FakeRam ram;
    PhysAllocator& a = ram.a;
    auto base = a.stats();
    CHECK(base.cached == 0);
    auto first = a.alloc(PageClass::Normal);
    REQUIRE(first.ok());
    CHECK(a.cached_on(0) == PhysAllocator::CACHE_BATCH - 1);
    CHECK(a.stats().cache_misses == base.cache_misses + 1);
    std::vector<PhysAddr> got {first.value()};
    for (unsigned i = 1; i < PhysAllocator::CACHE_BATCH; i++)
        got.push_back(a.alloc(PageClass::Normal).value());
    CHECK(a.cached_on(0) == 0);
    CHECK(a.stats().cache_hits == base.cache_hits + PhysAllocator::CACHE_BATCH - 1);
    for (unsigned i = 0; i < 100; i++)
        got.push_back(a.alloc(PageClass::Normal).value());
    CHECK(a.free_pages() == TOTAL - got.size());

    // Free: from empty the cache fills to CACHE_MAX, then a batch goes back.
    a.drain_caches();
    CHECK(a.cached_on(0) == 0);
    for (unsigned i = 0; i < PhysAllocator::CACHE_MAX; i++) {
        a.free(got.back());
        got.pop_back();
    }
    unsigned before = a.cached_on(0);
    CHECK(before == PhysAllocator::CACHE_MAX);
    a.free(got.back());
    got.pop_back();
    CHECK(a.cached_on(0) == PhysAllocator::CACHE_MAX - PhysAllocator::CACHE_BATCH + 1);
    CHECK(a.stats().cached == a.cached_on(0));
    // Another hart's cache is separate.
    cpu::host_bind(2);
    a.free(got.back());
    got.pop_back();
    CHECK(a.cached_on(2) == 1);
    cpu::host_bind(0);
    CHECK(a.free_pages() == TOTAL - got.size());
    a.drain_caches();
    CHECK(a.cached_on(0) == 0);
    CHECK(a.cached_on(2) == 0);
    CHECK(a.stats().cached == 0);
    CHECK(a.free_pages() == TOTAL - got.size());
    for (PhysAddr pa : got)
        a.free(pa);
    a.drain_caches();
    auto end = a.stats();
    for (unsigned o = 0; o <= PhysAllocator::MAX_ORDER; o++)
        CHECK(end.runs_free[o] == base.runs_free[o]);
}

TEST_CASE("phys: runs are aligned, disjoint, and coalesce back")
{
    FakeRam ram;
    PhysAllocator& a = ram.a;
    auto base = a.stats();
    CHECK(a.alloc_run(PhysAllocator::MAX_ORDER + 1, PageClass::Normal).error() == lib::Error::Invalid);

    for (unsigned order = 0; order <= PhysAllocator::MAX_ORDER; order++) {
        auto r = a.alloc_run(order, PageClass::Normal);
        REQUIRE(r.ok());
        CHECK(r.value() % (PG << order) == 0);
        CHECK(ram.in_ram(r.value(), 1ull << order));
        CHECK(a.page(r.value())->state == PageState::Allocated);
        CHECK(a.page(r.value())->order == order);
        if (order > 0)
            CHECK(a.page(r.value() + PG)->state == PageState::Tail);
        a.free_run(r.value(), order);
    }
    CHECK(a.free_pages() == TOTAL);

    // Fill memory with runs of mixed orders; no page handed out twice.
    std::set<PhysAddr> pages;
    std::vector<std::pair<PhysAddr, unsigned>> runs;
    for (unsigned order : {5u, 3u, 2u, 1u, 0u}) {
        for (;;) {
            auto r = a.alloc_run(order, PageClass::Interrupt);
            if (!r.ok())
                break;
            CHECK(r.value() % (PG << order) == 0);
            CHECK(ram.in_ram(r.value(), 1ull << order));
            for (uint64_t i = 0; i < (1ull << order); i++)
                CHECK(pages.insert(r.value() + i * PG).second);
            runs.push_back({r.value(), order});
        }
    }
    CHECK(pages.size() == TOTAL);
    CHECK(a.free_pages() == 0);
    std::mt19937 rng(7);
    std::shuffle(runs.begin(), runs.end(), rng);
    for (auto [pa, order] : runs)
        a.free_run(pa, order);
    CHECK(a.free_pages() == TOTAL);
    auto big = a.alloc_run(PhysAllocator::MAX_ORDER, PageClass::Normal);
    REQUIRE(big.ok());
    CHECK(big.value() == RAM);
    a.free_run(big.value(), PhysAllocator::MAX_ORDER);
    a.drain_caches();
    auto end = a.stats();
    for (unsigned o = 0; o <= PhysAllocator::MAX_ORDER; o++)
        CHECK(end.runs_free[o] == base.runs_free[o]);
}

TEST_CASE("phys: a run respects the class floors too")
{
    FakeRam ram;
    PhysAllocator& a = ram.a;
    std::vector<PhysAddr> pages = drain(a, PageClass::Normal);
    uint64_t f = a.free_pages();
    CHECK_FALSE(a.alloc_run(1, PageClass::Normal).ok());
    CHECK(a.free_pages() == f);
    for (PhysAddr pa : pages)
        a.free(pa);
    CHECK(a.free_pages() == TOTAL);
}

TEST_CASE("phys: bad frees panic naming the address")
{
    FakeRam ram;
    PhysAllocator& a = ram.a;
    PhysAddr p = a.alloc(PageClass::Normal).value();
    a.free(p);
    CHECK_THROWS_AS(a.free(p), HostPanic); // double free (page in the cache)
    try {
        a.free(p);
    } catch (const HostPanic& e) {
        CHECK(e.message.find("double free") != std::string::npos);
        CHECK(e.message.find("0x80") != std::string::npos);
    }

    PhysAddr run = a.alloc_run(3, PageClass::Normal).value();
    CHECK_THROWS_AS(a.free_run(run, 2), HostPanic);    // wrong order
    CHECK_THROWS_AS(a.free(run), HostPanic);           // wrong order (single page)
    CHECK_THROWS_AS(a.free_run(run + PG, 0), HostPanic); // inside the run
    CHECK_THROWS_AS(a.free(run + 2 * PG), HostPanic);
    a.free_run(run, 3);
    CHECK_THROWS_AS(a.free_run(run, 3), HostPanic); // double free of a run

    CHECK_THROWS_AS(a.free(0x1000), HostPanic);               // below RAM
    CHECK_THROWS_AS(a.free(RAM + 1250 * PG), HostPanic);      // the hole
    CHECK_THROWS_AS(a.free(RAM + 5000 * PG), HostPanic);      // past the end
    CHECK_THROWS_AS(a.free(p + 8), HostPanic);                // unaligned
    CHECK_THROWS_AS(a.free_run(RAM, PhysAllocator::MAX_ORDER + 1), HostPanic);
    try {
        a.free(RAM + 1250 * PG);
    } catch (const HostPanic& e) {
        CHECK(e.message.find("0x804e2000") != std::string::npos);
    }
    // Nothing was corrupted by the refused frees.
    CHECK(a.free_pages() == TOTAL);
    a.drain_caches();
    CHECK(a.alloc_run(PhysAllocator::MAX_ORDER, PageClass::Normal).ok());
}

TEST_CASE("phys: stats return to baseline after a seeded churn")
{
    FakeRam ram;
    PhysAllocator& a = ram.a;
    auto base = a.stats();
    std::mt19937 rng(20261123);
    std::vector<std::pair<PhysAddr, unsigned>> held;
    std::set<PhysAddr> live;
    uint64_t held_pages = 0;
    for (int step = 0; step < 50000; step++) {
        cpu::host_bind(rng() % 4);
        if (held.empty() || rng() % 3 != 0) {
            unsigned order = rng() % 4 == 0 ? rng() % 6 : 0;
            auto cls = static_cast<PageClass>(rng() % 3);
            auto r = a.alloc_run(order, cls);
            if (r.ok()) {
                CHECK(live.insert(r.value()).second);
                held.push_back({r.value(), order});
                held_pages += 1ull << order;
            }
        } else {
            size_t k = rng() % held.size();
            auto [pa, order] = held[k];
            held[k] = held.back();
            held.pop_back();
            live.erase(pa);
            a.free_run(pa, order);
            held_pages -= 1ull << order;
        }
        if (step % 1000 == 0)
            REQUIRE(a.free_pages() == TOTAL - held_pages);
    }
    for (auto [pa, order] : held)
        a.free_run(pa, order);
    cpu::host_bind(0);
    auto mid = a.stats();
    CHECK(mid.free == TOTAL);
    CHECK(mid.allocs[0] + mid.allocs[1] + mid.allocs[2] > 10000);
    CHECK(mid.failures[0] > 0); // the churn did reach the reserve
    a.drain_caches();
    auto end = a.stats();
    CHECK(end.total == base.total);
    CHECK(end.free == base.free);
    CHECK(end.cached == 0);
    for (unsigned o = 0; o <= PhysAllocator::MAX_ORDER; o++)
        CHECK(end.runs_free[o] == base.runs_free[o]);
}

namespace {
std::atomic<int> g_pageout_wakes {0}, g_freed_calls {0};
void on_pageout() { g_pageout_wakes++; }
void on_freed() { g_freed_calls++; }
} // namespace

TEST_CASE("phys: hooks wake the pagedaemon and the memory waiters")
{
    FakeRam ram;
    PhysAllocator& a = ram.a;
    g_pageout_wakes = 0;
    g_freed_calls = 0;
    a.set_hooks(on_pageout, on_freed);

    // Plenty of memory: no hook.
    PhysAddr p = a.alloc(PageClass::Normal).value();
    a.free(p);
    CHECK(g_pageout_wakes == 0);
    CHECK(g_freed_calls == 0);

    // Dropping below free_min wakes the pagedaemon; a refusal does too.
    std::vector<PhysAddr> pages;
    while (!a.below_min())
        pages.push_back(a.alloc(PageClass::Normal).value());
    int after_min = g_pageout_wakes;
    CHECK(after_min >= 1);
    auto more = drain(a, PageClass::Normal);
    CHECK(g_pageout_wakes > after_min + int(more.size()) - 1);
    int before_fail = g_pageout_wakes;
    CHECK_FALSE(a.alloc(PageClass::Normal).ok());
    CHECK(g_pageout_wakes == before_fail + 1);

    // Freeing while memory is short wakes the waiters.
    a.free(more.back());
    more.pop_back();
    CHECK(g_freed_calls == 1);
    for (PhysAddr pa : more)
        a.free(pa);
    for (PhysAddr pa : pages)
        a.free(pa);
    CHECK(g_freed_calls > 1);
    a.set_hooks(nullptr, nullptr);
    CHECK(a.alloc_run(2, PageClass::Normal).ok());
}
