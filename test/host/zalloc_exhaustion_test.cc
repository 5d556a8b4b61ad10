// The progress guarantee, proven: with zero free pages the paging path makes
// exactly K = reserve slabs x objects per slab allocations per kmalloc_obj zone,
// normal callers fail cleanly, replenish restores the reserve, and one freed page
// unsticks an interrupt zalloc zone. Also every other allocator failure path.
#include "test/host/zalloc_fake_backend.h"
#include "test/host/zalloc_test_util.h"
#include "zalloc/debug.h"
#include "zalloc/kmalloc_obj.h"
#include "zalloc/zone.h"

#include <doctest/doctest.h>

#include <vector>

using namespace zalloc;

namespace {

// Zone declarations as the paging path would write them, K beside each.
struct SwapMeta {
    uint64_t words[12];
}; // 96 bytes
struct PagerReq {
    uint64_t words[5];
}; // 40 bytes
constexpr ObjZoneSpec SWAPMETA_SPEC {"swapmeta", sizeof(SwapMeta), {}}; // reserve 3 (default)
static_assert(SWAPMETA_SPEC.objs_per_slab() == 332 && SWAPMETA_SPEC.k() == 996);
constexpr ObjZoneSpec PAGERREQ_SPEC {"pagerreq", sizeof(PagerReq), {.reserve_slabs = 5}};
static_assert(PAGERREQ_SPEC.objs_per_slab() == 774 && PAGERREQ_SPEC.k() == 3870);

// Allocate with `flags` until failure; returns the objects.
std::vector<void*> drain(ObjZone& z, MFlags flags, size_t cap = 100000)
{
    std::vector<void*> v;
    while (v.size() < cap) {
        void* p = z.alloc(flags);
        if (!p)
            break;
        v.push_back(p);
    }
    return v;
}

void free_all(ObjZone& z, std::vector<void*>& v)
{
    for (void* p : v)
        z.free(p);
    v.clear();
}

} // namespace

TEST_CASE("guarantee: zero free pages, reserve callers get exactly K per zone, others fail cleanly")
{
    HartReset hr;
    FakeBackend be;
    ObjZone swap, req;
    swap.init(SWAPMETA_SPEC, be);
    req.init(PAGERREQ_SPEC, be);
    CHECK(swap.k_guarantee() == 996);
    CHECK(req.k_guarantee() == 3870);
    CHECK(swap.reserve_count() == 3);
    CHECK(req.reserve_count() == 5);
    be.set_free(0);
    size_t pages = be.pages_out;

    // Callers without M_USE_INTERRUPT_RESERVE never see a reserve slab.
    CHECK(swap.alloc(M_NOWAIT) == nullptr);
    CHECK(swap.alloc(M_RNOWAIT) == nullptr);
    CHECK(swap.alloc(M_WAITOK | M_NULLOK) == nullptr); // blocking: backend cannot wait
    CHECK(panic_message([&] { (void)swap.alloc(M_WAITOK); }).find("swapmeta") != std::string::npos);
    CHECK(swap.reserve_count() == 3);

    // The paging path: exactly K from each zone, interleaved, without a page.
    std::vector<void*> a, b;
    for (;;) {
        void* p = swap.alloc(M_INTNOWAIT);
        void* q = req.alloc(M_INTNOWAIT);
        if (p)
            a.push_back(p);
        if (q)
            b.push_back(q);
        if (!p && !q)
            break;
    }
    CHECK(a.size() == SWAPMETA_SPEC.k());
    CHECK(b.size() == PAGERREQ_SPEC.k());
    CHECK(be.pages_out == pages);
    CHECK(be.blocking_calls == 2); // only the two M_WAITOK attempts above
    CHECK(swap.reserve_count() == 0);
    CHECK(req.reserve_count() == 0);
    CHECK(be.replenish_requests >= 1);
    ZoneStats s = stats_of(swap);
    CHECK(s.failures >= 5);
    CHECK(s.used == 996);

    // Pages come back: the background replenisher restores every reserve.
    be.set_free(1000);
    CHECK(replenish_all());
    CHECK(swap.reserve_count() == 3);
    CHECK(req.reserve_count() == 5);
    // And the paging path has its K again, even though all of the first K are
    // still in use.
    be.set_free(0);
    std::vector<void*> again = drain(swap, M_INTNOWAIT);
    CHECK(again.size() == 996);
    free_all(swap, again);
    free_all(swap, a);
    free_all(req, b);
    swap.destroy();
    req.destroy();
    CHECK(be.pages_out == 0);
}

TEST_CASE("guarantee: the page reserve stays intact while the slab reserve lasts")
{
    HartReset hr;
    FakeBackend be;
    ObjZone swap;
    swap.init(SWAPMETA_SPEC, be);
    // 8 free pages, all of them below the Normal and System floors: only the
    // Interrupt class could take them.
    be.set_free(8);
    be.normal_floor = 8;
    be.system_floor = 8;
    std::vector<void*> v;
    for (size_t i = 0; i < SWAPMETA_SPEC.k(); i++) {
        void* p = swap.alloc(M_INTNOWAIT);
        REQUIRE(p);
        v.push_back(p);
    }
    CHECK(be.free_now() == 8); // K allocations, not one page taken
    CHECK(swap.alloc(M_NOWAIT) == nullptr);
    // Beyond K the paging path may take the last pages (class Interrupt).
    void* p = swap.alloc(M_INTNOWAIT);
    CHECK(p != nullptr);
    CHECK(be.free_now() == 0);
    v.push_back(p);
    free_all(swap, v);
    swap.destroy();
}

TEST_CASE("reserve: replenished after use, by poll_all, and restored from free slabs first")
{
    HartReset hr;
    FakeBackend be;
    be.set_free(0);
    ObjZone z;
    z.init(SWAPMETA_SPEC, be); // no pages at creation
    CHECK(z.reserve_count() == 0);
    CHECK(be.replenish_requests == 1);
    CHECK(stats_of(z).reserve_target == 3);
    CHECK_FALSE(replenish_all());
    be.set_free(8);
    CHECK_FALSE(replenish_all()); // one slab's worth of pages
    CHECK(z.reserve_count() == 1);
    be.set_free(1000);
    poll_all();
    CHECK(z.reserve_count() == 3);
    // A normal allocation that needs a new slab tops the reserve up after the
    // paging path used it.
    std::vector<void*> v = drain(z, M_INTNOWAIT, 332); // from a fresh page slab
    CHECK(z.reserve_count() == 3);
    be.set_free(0);
    std::vector<void*> w = drain(z, M_INTNOWAIT, 332); // takes a reserve slab
    CHECK(z.reserve_count() == 2);
    be.set_free(1000);
    std::vector<void*> x = drain(z, M_WAITOK, 332); // new slab, then top-up
    CHECK(z.reserve_count() == 3);
    // Fully free slabs refill the reserve before any page is asked for.
    free_all(z, v);
    free_all(z, w);
    free_all(z, x);
    be.set_free(0);
    std::vector<void*> y = drain(z, M_INTNOWAIT, 996); // eats the reserve
    free_all(z, y);
    size_t calls = be.alloc_calls;
    poll_all(); // reclassify: the freed slabs go to the reserve
    CHECK(z.reserve_count() == 3);
    CHECK(be.alloc_calls == calls);
    z.destroy();
}

TEST_CASE("reserve: M_INTWAIT takes the reserve before it blocks; M_WAITOK blocks and refills an empty reserve")
{
    HartReset hr;
    FakeBackend be;
    ObjZone z;
    ObjZoneSpec spec = SWAPMETA_SPEC;
    spec.cfg.reserve_slabs = 1;
    z.init(spec, be);
    be.set_free(0);
    int blocked = 0;
    be.on_block = [&] {
        blocked++;
        be.give_pages(16);
    };
    std::vector<void*> v = drain(z, M_INTWAIT, 332);
    CHECK(v.size() == 332);
    CHECK(blocked == 0); // the reserve slab, no sleeping
    CHECK(z.reserve_count() == 0);
    void* p = z.alloc(M_WAITOK); // no slab, no reserve: block
    REQUIRE(p);
    CHECK(blocked == 1);
    // The reserve was empty and the caller may block: it refilled it too.
    CHECK(z.reserve_count() == 1);
    v.push_back(p);
    free_all(z, v);
    z.destroy();
}

TEST_CASE("failure injection: every backend failure on the slab path returns null or panics by the flags")
{
    HartReset hr;
    FakeBackend be;
    ObjZone z;
    ObjZoneSpec spec = SWAPMETA_SPEC;
    spec.cfg.reserve_slabs = 0;
    z.init(spec, be);
    be.fail_after = 0;
    CHECK(z.alloc(M_NOWAIT) == nullptr);
    CHECK(z.alloc(M_INTNOWAIT) == nullptr); // no reserve to fall back on
    CHECK(z.alloc(M_WAITOK | M_NULLOK) == nullptr);
    std::string m = panic_message([&] { (void)z.alloc(M_WAITOK); });
    CHECK(m.find("swapmeta") != std::string::npos);
    CHECK(m.find("no slab and no pages") != std::string::npos);
    CHECK(stats_of(z).failures == 4);
    be.fail_after = 1; // the next slab works, then nothing
    std::vector<void*> v = drain(z, M_NOWAIT);
    CHECK(v.size() == 332);
    free_all(z, v);
    be.fail_after = -1;
    z.destroy();
}

TEST_CASE("guarantee: one freed page unsticks an interrupt zalloc zone")
{
    HartReset hr;
    FakeBackend be;
    Zone z;
    ZoneConfig cfg;
    cfg.interrupt = true;
    cfg.max_items = 63 * 16;
    z.init("pventry", 64, be, cfg);
    std::vector<void*> v;
    be.set_free(3);
    while (void* p = z.alloc(M_INTNOWAIT))
        v.push_back(p);
    CHECK(v.size() == 3 * 63); // three pages, held-back items included
    CHECK(stats_of(z).reserve_present == 0);
    CHECK(z.alloc(M_INTNOWAIT) == nullptr); // stuck
    size_t allocs = be.alloc_calls, out = be.pages_out;
    be.give_pages(1); // the paging path freed one page
    void* p = z.alloc(M_INTNOWAIT);
    REQUIRE(p);
    CHECK(be.pages_out == out + 1); // that page, mapped into the zone's range
    CHECK(be.alloc_calls == allocs); // no page-table page, no other page
    CHECK(be.free_now() == 0);
    CHECK(be.replenish_requests > 0); // the rest of the page is held back, short of zfreemin
    v.push_back(p);
    // The page was the last one: only the Interrupt class may take it.
    be.normal_floor = 1;
    be.system_floor = 1;
    for (int i = 0; i < 62; i++)
        v.push_back(z.alloc(M_INTNOWAIT));
    be.give_pages(1);
    CHECK(z.alloc(M_NOWAIT) == nullptr); // System class stops at the floor
    void* q = z.alloc(M_INTNOWAIT);
    CHECK(q != nullptr);
    v.push_back(q);
    for (void* x : v)
        z.free(x);
    z.destroy();
    CHECK(be.pages_out == 0);
}

TEST_CASE("zalloc: injected page failures return null, dip into held-back items, then panic for M_WAITOK")
{
    HartReset hr;
    FakeBackend be;
    Zone z;
    z.init("injected", 1024, be); // 3 per page
    std::vector<void*> v;
    for (int i = 0; i < 6; i++)
        v.push_back(z.alloc(M_WAITOK)); // three pages: three items held back
    CHECK(be.pages_out == 3);
    z.free(v.back()); // one item back in the cache
    v.pop_back();
    be.fail_after = 0;
    void* c = z.alloc(M_NOWAIT); // from the cache
    CHECK(c != nullptr);
    for (int i = 0; i < 3; i++) { // the held-back items, one dip each
        void* d = z.alloc(M_NOWAIT);
        REQUIRE(d != nullptr);
        v.push_back(d);
    }
    CHECK(z.dips() == 3);
    CHECK(z.alloc(M_NOWAIT) == nullptr);
    CHECK(z.alloc(M_WAITOK | M_NULLOK) == nullptr);
    CHECK(panic_message([&] { (void)z.alloc(M_WAITOK); }).find("injected") != std::string::npos);
    CHECK(stats_of(z).failures == 3);
    be.fail_after = -1;
    z.free(c);
    for (void* p : v)
        z.free(p);
    z.destroy();
}

TEST_CASE("failure paths: destroy with objects in use, oversized objects, replenish at a limit")
{
    HartReset hr;
    FakeBackend be;
    Zone z;
    ZoneConfig zc;
    zc.max_items = 15;
    z.init("inuse-zone", 256, be, zc);
    void* a = z.alloc(M_WAITOK);
    CHECK(panic_message([&] { z.destroy(); }).find("inuse-zone") != std::string::npos);
    // At its limit a zone holds nothing back, so replenish has nothing to do.
    std::vector<void*> v {a};
    while (void* p = z.alloc(M_NOWAIT))
        v.push_back(p);
    CHECK(v.size() == 15);
    CHECK(z.replenish());
    for (void* p : v)
        z.free(p);
    z.destroy();

    ObjZone o;
    ObjZoneSpec spec {"inuse-obj", 64, {}};
    spec.cfg.max_slabs = 3; // the reserve fills the limit
    o.init(spec, be);
    CHECK(o.reserve_count() == 3);
    CHECK(o.alloc(M_NOWAIT) == nullptr); // normal callers: limit, no reserve
    void* b = o.alloc(M_INTNOWAIT);      // the paging path: reserve slab
    REQUIRE(b);
    CHECK_FALSE(o.replenish()); // cannot refill past the limit
    CHECK(panic_message([&] { o.destroy(); }).find("inuse-obj") != std::string::npos);
    o.free(b);
    o.destroy();

    ObjZone big;
    CHECK(panic_message([&] { big.init(ObjZoneSpec {"too-big", SLAB_MAX_OBJ + 8, {}}, be); }).find("too-big") !=
          std::string::npos);
}

TEST_CASE("failure paths: without debug mode a repeated free is still caught when drained")
{
    HartReset hr;
    cpu::host_set_count(2);
    debug::set_enabled(false);
    FakeBackend be;
    ObjZone z;
    ObjZoneSpec spec {"nodebug", 1024, {}};
    spec.cfg.reserve_slabs = 0;
    z.init(spec, be);
    debug::set_enabled(true); // the zone sampled the switch at init
    void* p = z.alloc(M_WAITOK);
    cpu::host_bind(1);
    z.free(p);
    z.free(p); // not detected here (no debug bitmap), but the list now loops
    z.poll();  // hart 1's cached objects go back: remote frees to hart 0's slab
    cpu::host_bind(0);
    std::vector<void*> v;
    std::string m = panic_message([&] {
        for (;;)
            v.push_back(z.alloc(M_WAITOK));
    });
    CHECK(m.find("nodebug") != std::string::npos);
    CHECK(m.find("more free objects") != std::string::npos);
    // The zone is corrupt now: take it off the registry; the backend frees its
    // memory at the end of the test.
    size_t n = zone_count();
    z.abandon();
    CHECK(zone_count() == n - 1);
}

TEST_CASE("page classes: slab and page refills honour the caller's flags")
{
    HartReset hr;
    FakeBackend be;
    ObjZone o;
    ObjZoneSpec spec {"classes-obj", 2048, {}};
    spec.cfg.reserve_slabs = 0;
    o.init(spec, be);
    Zone z;
    z.init("classes-zone", 2048, be); // 1 per page
    // 16 free pages: Normal may not go below 16, System below 8.
    be.set_free(16);
    be.normal_floor = 16;
    be.system_floor = 8;
    CHECK(o.alloc(M_RNOWAIT) == nullptr);  // Normal class
    CHECK(z.alloc(M_RNOWAIT) == nullptr);
    void* a = o.alloc(M_NOWAIT); // System class: one slab, 8 pages
    REQUIRE(a);
    CHECK(be.free_now() == 8);
    CHECK(o.objs_per_slab() == 15);
    std::vector<void*> v;
    for (int i = 0; i < 14; i++)
        v.push_back(o.alloc(M_NOWAIT)); // the rest of that slab
    CHECK(o.alloc(M_NOWAIT) == nullptr); // System stops at its floor
    void* b = o.alloc(M_INTNOWAIT);      // Interrupt may take the last pages
    REQUIRE(b);
    CHECK(be.free_now() == 0);
    be.set_free(9);
    void* c = z.alloc(M_NOWAIT); // a zalloc page, System class
    REQUIRE(c);
    CHECK(be.free_now() == 8);
    CHECK(z.alloc(M_NOWAIT) == nullptr);
    void* d = z.alloc(M_INTNOWAIT);
    CHECK(d != nullptr);
    CHECK(be.blocking_calls == 0); // none of these callers may sleep
    o.free(a);
    o.free(b);
    for (void* p : v)
        o.free(p);
    z.free(c);
    z.free(d);
    o.destroy();
    z.destroy();
}
