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
    h.word.set(ALLOCS_MASK); // no room, the most allocations
    void* x[2] = {};
    CHECK(!HartCaches::push_locked(h, x));
    HartCaches::add_room(h, 1);
    CHECK(HartCaches::room(h) == 1);
    CHECK((h.word.get() & ALLOCS_MASK) == ALLOCS_MASK);
    CHECK(HartCaches::push_locked(h, x));
    CHECK(HartCaches::room(h) == 0);
    h.word.set(h.word.get() & ~ALLOCS_MASK); // allocs back to 0, room 0
    CHECK(HartCaches::pop_locked(h) == x);
    CHECK(HartCaches::room(h) == 1);
    CHECK((h.word.get() & ALLOCS_MASK) == 1);
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
