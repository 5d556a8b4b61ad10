// The per-hart caches of hart_cache.h, which only run without debug mode (the
// kernel default; host tests otherwise run with debug mode on): cap and flush,
// exact statistics, M_ZERO, poll returning a hart's list, destroy with objects
// cached, and kmalloc over cached classes.
#include "test/host/zalloc_fake_backend.h"
#include "test/host/zalloc_test_util.h"
#include "zalloc/debug.h"
#include "zalloc/hart_cache.h"
#include "zalloc/kmalloc.h"
#include "zalloc/kmalloc_obj.h"
#include "zalloc/zone.h"

#include <doctest/doctest.h>

#include <cstring>
#include <random>
#include <set>
#include <vector>

using namespace zalloc;

namespace {
struct NoDebug {
    bool was;
    NoDebug() : was(debug::enabled()) { debug::set_enabled(false); }
    ~NoDebug() { debug::set_enabled(was); }
};
// A freed object comes straight back from the hart's list (the one expected,
// if given), M_ZERO clears it, and freeing it (and nullptr) leaves none in use.
template <typename Z>
void check_reuse_zeroed(Z& z, unsigned char fill, void* expect_first)
{
    void* a = z.alloc(M_WAITOK);
    if (expect_first)
        CHECK(a == expect_first);
    std::memset(a, fill, 64);
    z.free(a);
    void* b = z.alloc(M_WAITOK | M_ZERO);
    CHECK(b == a);
    for (int i = 0; i < 64; i++)
        CHECK(static_cast<unsigned char*>(b)[i] == 0);
    z.free(b);
    z.free(nullptr);
    CHECK(stats_of(z).used == 0);
}

} // namespace

TEST_CASE("hart cache: the word packs allocations and room")
{
    // Room at the top, below bit 63: the free path tests the sign of word - ROOM_ONE.
    CHECK(ALLOC_ONE == 1);
    CHECK(ALLOCS_MASK + 1 == ROOM_ONE);
    CHECK(((uint64_t(HART_CACHE_MAX) * ROOM_ONE + ALLOCS_MASK) >> 63) == 0);
    CHECK(HART_CACHE_MAX >= 1023);
    HartHot h;
    h.word.store(ALLOCS_MASK); // no room, the most allocations
    void* x[2] = {};
    CHECK(!HartCaches::push_locked(h, x));
    HartCaches::add_room(h, 1);
    CHECK(HartCaches::room(h) == 1);
    CHECK((h.word.load() & ALLOCS_MASK) == ALLOCS_MASK);
    CHECK(HartCaches::push_locked(h, x));
    CHECK(HartCaches::room(h) == 0);
    h.word.store(h.word.load() & ~ALLOCS_MASK); // allocs back to 0, room 0
    CHECK(HartCaches::pop_locked(h) == x);
    CHECK(HartCaches::room(h) == 1);
    CHECK((h.word.load() & ALLOCS_MASK) == 1);
    // A room below zero (a push counted late, hart_cache.h) reads as full, and
    // pops bring it back.
    h.word.fetch_add(-2 * ROOM_ONE);
    CHECK(HartCaches::room(h) == -1);
    CHECK(!HartCaches::push_locked(h, x));
    CHECK(HartCaches::pop_locked(h) == nullptr);
    h.word.fetch_add(ROOM_ONE);
    CHECK(HartCaches::room(h) == 0);
    CHECK(!HartCaches::push_locked(h, x));
    CHECK(HartCaches::STRIDE % 16 == 0);
    CHECK(HartCaches::STRIDE >= 64);
}

TEST_CASE("zalloc without debug: the hart cache fills to its cap, then half goes back")
{
    HartReset hr;
    NoDebug nd;
    FakeBackend be;
    Zone z;
    ZoneConfig cfg;
    cfg.cache_cap = 8;
    cfg.burst = 4;
    z.init("fp-zone", 64, be, cfg);
    std::vector<void*> v;
    std::set<void*> seen;
    for (int i = 0; i < 100; i++) {
        void* p = z.alloc(M_WAITOK);
        REQUIRE(p);
        CHECK(seen.insert(p).second);
        v.push_back(p);
    }
    ZoneStats s = stats_of(z);
    CHECK(s.used == 100);
    CHECK(s.requests == 100);
    for (void* p : v)
        z.free(p);
    s = stats_of(z);
    CHECK(s.used == 0);
    CHECK(s.requests == 100);
    CHECK(s.used + s.free == s.pages * Zone::items_per_page(64));
    // LIFO on the hart: the last freed comes back first.
    check_reuse_zeroed(z, 0x5a, v.back());
    z.destroy();
    CHECK(be.pages_out == 0);
}

TEST_CASE("zalloc without debug: cross-hart frees, per-hart counts add up")
{
    HartReset hr;
    NoDebug nd;
    cpu::host_set_count(3);
    FakeBackend be;
    Zone z;
    z.init("fp-zone-x", 200, be);
    std::vector<void*> v;
    for (int i = 0; i < 500; i++)
        v.push_back(z.alloc(M_WAITOK));
    cpu::host_bind(1);
    for (size_t i = 0; i < v.size(); i += 2)
        z.free(v[i]);
    cpu::host_bind(2);
    for (size_t i = 1; i < v.size(); i += 2)
        z.free(v[i]);
    CHECK(stats_of(z).used == 0);
    // Hart 2 allocates what it cached, then from the zone.
    std::vector<void*> w;
    for (int i = 0; i < 300; i++)
        w.push_back(z.alloc(M_WAITOK));
    CHECK(stats_of(z).used == 300);
    CHECK(stats_of(z).requests == 800);
    cpu::host_bind(0);
    for (void* p : w)
        z.free(p);
    CHECK(stats_of(z).used == 0);
    z.destroy();
}

TEST_CASE("kmalloc_obj without debug: refill from the active slab, flush to slabs, poll, destroy")
{
    HartReset hr;
    NoDebug nd;
    cpu::host_set_count(2);
    FakeBackend be;
    ObjZone z;
    ObjZoneSpec spec {"fp-obj", 64, {}};
    spec.cfg.hold_polls = 1;
    spec.cfg.keep_free_hi = 0;
    spec.cfg.keep_free_lo = 0;
    z.init(spec, be);
    const size_t P = z.objs_per_slab();
    std::vector<void*> v;
    std::set<void*> seen;
    for (size_t i = 0; i < 3 * P; i++) {
        void* p = z.alloc(M_WAITOK);
        REQUIRE(p);
        CHECK(seen.insert(p).second);
        v.push_back(p);
    }
    ZoneStats s = stats_of(z);
    CHECK(s.used == 3 * P);
    CHECK(s.requests == 3 * P);
    // Frees on another hart: into its list, then back to the slabs as remote frees.
    cpu::host_bind(1);
    for (void* p : v)
        z.free(p);
    s = stats_of(z);
    CHECK(s.used == 0);
    CHECK(s.used + s.free == (s.pages / SLAB_PAGES) * P);
    // Hart 1's poll returns its list; with every object back the slabs become free.
    z.poll();
    cpu::host_bind(0);
    z.poll();
    z.poll();
    s = stats_of(z);
    CHECK(s.used == 0);
    CHECK(s.slabs_exhausted + s.slabs_partial == 0);
    // M_ZERO on a cached object; then destroy with objects on a hart's list.
    check_reuse_zeroed(z, 0xa5, nullptr);
    z.destroy();
    CHECK(be.pages_out == 0);
}

TEST_CASE("kmalloc_obj without debug: the reserve guarantee holds with hart caches")
{
    HartReset hr;
    NoDebug nd;
    FakeBackend be;
    ObjZone z;
    ObjZoneSpec spec {"fp-reserve", 192, {}};
    z.init(spec, be);
    be.set_free(0);
    CHECK(z.alloc(M_NOWAIT) == nullptr);
    std::vector<void*> v;
    while (void* p = z.alloc(M_INTNOWAIT))
        v.push_back(p);
    CHECK(v.size() == spec.k());
    CHECK(stats_of(z).used == spec.k());
    for (void* p : v)
        z.free(p);
    CHECK(stats_of(z).used == 0);
    be.set_free(1u << 20);
    z.destroy();
}

TEST_CASE("kmalloc without debug: churn over cached classes returns to baseline")
{
    HartReset hr;
    NoDebug nd;
    FakeBackend be;
    kmalloc_init(be);
    ZALLOC_MALLOC_DEFINE(M_FP, "fp-kmalloc", 0);
    std::mt19937_64 rng(7);
    std::vector<std::pair<void*, size_t>> live(256, {nullptr, 0});
    for (int i = 0; i < 100000; i++) {
        auto& [p, n] = live[rng() % live.size()];
        if (p) {
            CHECK(static_cast<unsigned char*>(p)[0] == static_cast<unsigned char>(n));
            CHECK(static_cast<unsigned char*>(p)[n - 1] == static_cast<unsigned char>(n));
            kfree(p, M_FP);
        }
        n = 1 + rng() % 3000;
        p = kmalloc(n, M_FP, M_WAITOK);
        REQUIRE(p);
        std::memset(p, static_cast<unsigned char>(n), n);
    }
    for (auto& [p, n] : live)
        kfree(p, M_FP);
    CHECK(M_FP.memory_now() == 0);
    for (size_t c = 0; c < KMALLOC_NCLASSES; c++)
        CHECK(stats_of(kmalloc_class_zone(c)).used == 0);
    malloc_type_unregister(M_FP);
    kmalloc_shutdown();
    CHECK(be.pages_out == 0);
}

namespace {
// kmalloc over a fresh backend, debug off, on hart 0 of a one-hart machine
// (each test calls kmalloc_shutdown() itself, to check what it gives back).
struct FastKmalloc {
    HartReset hr;
    NoDebug nd;
    FakeBackend be;
    FastKmalloc() { kmalloc_init(be); }
};
} // namespace

TEST_CASE("kmalloc fast path: the class table names the same class as kmalloc_class for every size")
{
    CHECK(kmalloc_detail::CLASS_OF[0] == 0); // size 0 is served as 1
    for (size_t size = 1; size <= KMALLOC_MAX_CLASS; size++)
        REQUIRE(kmalloc_detail::CLASS_OF[(size + 7) / 8] == kmalloc_class(size));
    for (size_t c = 0; c < KMALLOC_NCLASSES; c++) {
        CHECK(kmalloc_detail::is_class_zone(kmalloc_detail::zone_of(c)));
        CHECK(MallocType::delta(kmalloc_class_size(c)) == ((kmalloc_class_size(c) / 8) << 32 | 1));
    }
    CHECK(!kmalloc_detail::is_class_zone(nullptr));
    CHECK(!kmalloc_detail::is_class_zone(
        reinterpret_cast<ObjZone*>(reinterpret_cast<char*>(kmalloc_detail::zone_of(KMALLOC_NCLASSES - 1)) +
                                   kmalloc_detail::CLASS_STRIDE)));
}

TEST_CASE("kmalloc without debug: per-hart counters add up across harts, requests exact")
{
    FastKmalloc f;
    FakeBackend& be = f.be;
    cpu::host_set_count(3);
    ZALLOC_MALLOC_DEFINE(M_XH, "fp-crosshart", 0);
    // Hart 0 allocates 100 (64 B and 200 B -> 224 B class, one run), harts 1
    // and 2 free them; hart 1 allocates 37 more.
    std::vector<void*> v;
    size_t bytes = 0;
    for (int i = 0; i < 100; i++) {
        size_t n = i == 50 ? 5000 : (i % 2 ? 64 : 200);
        v.push_back(kmalloc(n, M_XH, M_WAITOK));
        REQUIRE(v.back());
        bytes += n == 5000 ? 2 * 4096 : kmalloc_class_size(kmalloc_class(n));
    }
    TypeStats s = type_stats(M_XH);
    CHECK(s.in_use == 100);
    CHECK(s.memory == bytes);
    CHECK(s.requests == 100);
    CHECK(s.high_water == bytes);
    cpu::host_bind(1);
    for (size_t i = 0; i < v.size(); i += 2)
        kfree(v[i], M_XH);
    std::vector<void*> w;
    for (int i = 0; i < 37; i++)
        w.push_back(kmalloc(8, M_XH, M_WAITOK));
    cpu::host_bind(2);
    for (size_t i = 1; i < v.size(); i += 2)
        kfree(v[i], M_XH);
    s = type_stats(M_XH);
    CHECK(s.in_use == 37);
    CHECK(s.memory == 37 * 8);
    CHECK(s.requests == 137);
    CHECK(s.failures == 0);
    CHECK(s.high_water == bytes);
    for (void* p : w)
        kfree(p, M_XH);
    s = type_stats(M_XH);
    CHECK(s.in_use == 0);
    CHECK(s.memory == 0);
    CHECK(M_XH.memory_now() == 0);
    malloc_type_unregister(M_XH);
    kmalloc_shutdown();
    CHECK(be.pages_out == 0);
}

TEST_CASE("kmalloc without debug: the high-water mark is sampled on the slow path and at every read")
{
    FastKmalloc f;
    ZALLOC_MALLOC_DEFINE(M_HW, "fp-highwater", 0);
    ObjZone& z64 = kmalloc_class_zone(kmalloc_class(64));
    std::vector<void*> v;
    // The first allocation takes the slow path (the type is registered): sampled.
    v.push_back(kmalloc(64, M_HW, M_WAITOK));
    CHECK(M_HW.high_water.load() == 64);
    // Growing past what the class's hart list holds: each refill is the slow
    // path, which samples, so the mark trails the memory by less than a list.
    for (int i = 1; i < 300; i++)
        v.push_back(kmalloc(64, M_HW, M_WAITOK));
    size_t hw = M_HW.high_water.load();
    CHECK(hw > 64);
    CHECK(hw <= 300 * 64);
    CHECK(300 * 64 - hw < 64 * (z64.objs_per_slab() + 64));
    // A read samples: the peak is exact.
    TypeStats s = type_stats(M_HW);
    CHECK(s.high_water == 300 * 64);
    for (void* p : v)
        kfree(p, M_HW);
    // Steady alloc/free at 16 live, on the hart's list: no sample, no new peak.
    for (int r = 0; r < 10; r++) {
        v.clear();
        for (int i = 0; i < 16; i++)
            v.push_back(kmalloc(64, M_HW, M_WAITOK));
        for (void* p : v)
            kfree(p, M_HW);
    }
    s = type_stats(M_HW);
    CHECK(s.requests == 300 + 160);
    CHECK(s.high_water == 300 * 64);
    CHECK(s.in_use == 0);
    // A new peak: the slow path samples on the way, poll_all() makes it exact.
    v.clear();
    for (int i = 0; i < 310; i++)
        v.push_back(kmalloc(64, M_HW, M_WAITOK));
    poll_all();
    CHECK(M_HW.high_water.load() == 310 * 64);
    for (void* p : v)
        kfree(p, M_HW);
    malloc_type_unregister(M_HW);
    kmalloc_shutdown();
}

TEST_CASE("kmalloc without debug: requests stay exact when the alloc words' 32 object bits wrap")
{
    FastKmalloc f;
    ZALLOC_MALLOC_DEFINE(M_WR, "fp-wrap", 0);
    cpu::host_set_count(2);
    kfree(kmalloc(64, M_WR, M_WAITOK), M_WR); // registered, one request
    CHECK(type_stats(M_WR).requests == 1);
    // As if hart 0 had made 2^32 - 3 more allocations and frees of 8 bytes
    // (the most the readers may miss is under 2^32): the low 32 bits of the
    // sum are then 2 short of wrapping.
    constexpr uint64_t N = MallocType::OBJS_MASK - 2;
    M_WR.on(0).alloc.add(N * MallocType::delta(8));
    M_WR.on(0).freed.add(N * MallocType::delta(8));
    TypeStats s = type_stats(M_WR);
    CHECK(s.in_use == 0);
    CHECK(s.memory == 0);
    CHECK(s.requests == 1 + N);
    // Ten allocations on each hart wrap the sum's object bits.
    std::vector<void*> v;
    for (unsigned h = 0; h < 2; h++) {
        cpu::host_bind(h);
        for (int i = 0; i < 10; i++)
            v.push_back(kmalloc(64, M_WR, M_WAITOK));
    }
    s = type_stats(M_WR);
    CHECK(s.in_use == 20);
    CHECK(s.memory == 20 * 64);
    CHECK(s.requests == 1 + N + 20);
    poll_all(); // a read between the reads changes nothing
    CHECK(type_stats(M_WR).requests == 1 + N + 20);
    CHECK(M_WR.totals().allocs_low < 20); // wrapped
    cpu::host_bind(0);
    for (void* p : v)
        kfree(p, M_WR);
    CHECK(type_stats(M_WR).in_use == 0);
    malloc_type_unregister(M_WR);
    kmalloc_shutdown();
}

TEST_CASE("kmalloc without debug: every failure path still fails the same way")
{
    FastKmalloc f;
    FakeBackend& be = f.be;
    ZALLOC_MALLOC_DEFINE(M_FF, "fp-fail", 0);
    ZALLOC_MALLOC_DEFINE(M_FL, "fp-limited", 128);
    // Zero bytes: the smallest class, through the fast path once warm.
    void* z = kmalloc(0, M_FF, M_WAITOK);
    CHECK(kmalloc_usable_size(z) == 8);
    kfree(z, M_FF);
    z = kmalloc(0, M_FF, M_WAITOK);
    CHECK(kmalloc_usable_size(z) == 8);
    kfree(z, M_FF);
    // Above the largest class: a page run; above KMALLOC_MAX: failure.
    void* r = kmalloc(KMALLOC_MAX_CLASS + 1, M_FF, M_WAITOK);
    CHECK(kmalloc_usable_size(r) == 4096 - 64);
    kfree(r, M_FF);
    CHECK(kmalloc(KMALLOC_MAX + 1, M_FF, M_NOWAIT) == nullptr);
    CHECK(panic_message([&] { (void)kmalloc(KMALLOC_MAX + 1, M_FF, M_WAITOK); }).find("too large") !=
          std::string::npos);
    // A limited type never takes the fast path: the limit holds exactly.
    void* a = kmalloc(64, M_FL, M_WAITOK);
    void* b = kmalloc(64, M_FL, M_WAITOK);
    CHECK(kmalloc(8, M_FL, M_NOWAIT) == nullptr);
    kfree(a, M_FL);
    a = kmalloc(64, M_FL, M_NOWAIT);
    CHECK(a != nullptr);
    kfree(a, M_FL);
    kfree(b, M_FL);
    // Class-zone exhaustion: the hart's list is used up, no page is left.
    ObjZone& z64 = kmalloc_class_zone(kmalloc_class(64));
    std::vector<void*> v;
    be.set_free(0);
    while (void* p = kmalloc(64, M_FF, M_NOWAIT))
        v.push_back(p);
    CHECK(v.size() < z64.objs_per_slab() + 64); // what the zone held, no more
    CHECK(panic_message([&] { (void)kmalloc(64, M_FF, M_WAITOK); }).find("kmalloc-64") != std::string::npos);
    TypeStats s = type_stats(M_FF);
    CHECK(s.failures == 4);
    CHECK(s.requests == 7 + v.size());
    CHECK(s.in_use == v.size());
    be.set_free(1u << 20);
    for (void* p : v)
        kfree(p, M_FF);
    // Foreign pointers and objects of other zones still panic through kfree_slow.
    ZALLOC_STATIC_SLABS(stray, 1);
    CHECK(panic_message([&] { kfree(stray[0] + 256, M_FF); }).find("foreign") != std::string::npos);
    ObjZone other;
    other.init(ObjZoneSpec {"fp-other", 64, {}}, be);
    void* o = other.alloc(M_WAITOK);
    CHECK(panic_message([&] { kfree(o, M_FF); }).find("fp-other") != std::string::npos);
    other.free(o);
    other.destroy();
    CHECK(type_stats(M_FF).in_use == 0);
    malloc_type_unregister(M_FF);
    malloc_type_unregister(M_FL);
    kmalloc_shutdown();
    CHECK(be.pages_out == 0);
}

TEST_CASE("kmalloc without debug: kfree with a type never used (a caller's bug) is accounted to that type, safely")
{
    FastKmalloc f;
    ZALLOC_MALLOC_DEFINE(M_USED, "fp-used", 0);
    ZALLOC_MALLOC_DEFINE(M_NEVER, "fp-never", 0);
    // A type with no key yet takes kfree_slow, which finds its counters by
    // hart index, not through the (unset) key.
    void* p = kmalloc(64, M_USED, M_WAITOK);
    kfree(p, M_NEVER);
    CHECK(type_stats(M_USED).in_use == 1);
    CHECK(M_NEVER.totals().in_use == MallocType::OBJS_MASK); // one object less than none, mod 2^32
    p = kmalloc(64, M_USED, M_WAITOK);
    kfree(p, M_USED);
    CHECK(type_stats(M_USED).in_use == 1);
    malloc_type_unregister(M_USED);
    kmalloc_shutdown();
}
