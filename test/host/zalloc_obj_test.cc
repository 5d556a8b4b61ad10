// kmalloc_obj zones alone: slab layout and masking, the per-hart slabs, the zone
// lists, remote frees, release with hysteresis, type stability, static slabs,
// limits and the debug checks.
#include "test/host/zalloc_fake_backend.h"
#include "test/host/zalloc_test_util.h"
#include "zalloc/debug.h"
#include "zalloc/kmalloc_obj.h"

#include <doctest/doctest.h>

#include <cstring>
#include <set>
#include <vector>

using namespace zalloc;

namespace {
// A zone with no reserve and no free slabs kept, so list movements are visible.
ObjZoneSpec plain(const char* name, size_t size, uint32_t reserve = 0)
{
    ObjZoneSpec s {name, size, {}};
    s.cfg.reserve_slabs = reserve;
    return s;
}
} // namespace

TEST_CASE("slab layout: header, free stack, bitmap and objects fit 32 KiB")
{
    static_assert(SLAB_SIZE == 32768 && SLAB_PAGES == 8);
    static_assert(objects_per_slab(64) == 493);
    static_assert(objects_per_slab(2048) == 15);
    static_assert(objects_per_slab(1) == objects_per_slab(8));
    for (size_t size = 8; size <= SLAB_MAX_OBJ; size += 8) {
        SlabLayout l = slab_layout(size);
        REQUIRE(l.objs_offset % 64 == 0);
        REQUIRE(l.bitmap_offset >= SLAB_HEADER + 2 * l.nobjs);
        REQUIRE(l.objs_offset >= l.bitmap_offset + (l.nobjs + 63) / 64 * 8);
        REQUIRE(l.objs_offset + size_t(l.nobjs) * l.obj_size <= SLAB_SIZE);
        // Not one more object would fit.
        REQUIRE(l.objs_offset + size_t(l.nobjs + 1) * l.obj_size > SLAB_SIZE - 64);
    }
}

TEST_CASE("kmalloc_obj: objects are found by masking; contents kept; destroy returns all")
{
    HartReset hr;
    FakeBackend be;
    ObjZone z;
    z.init(plain("masking", 100), be);
    CHECK(z.object_size() == 104);
    std::vector<uint64_t*> v;
    std::set<void*> seen;
    for (int i = 0; i < 2000; i++) {
        auto* p = static_cast<uint64_t*>(z.alloc(M_WAITOK));
        REQUIRE(p);
        REQUIRE(seen.insert(p).second);
        REQUIRE(reinterpret_cast<uintptr_t>(p) % 8 == 0);
        Slab* s = Slab::of(p);
        REQUIRE(s->magic == Slab::MAGIC);
        REQUIRE(s->zone == &z);
        for (int w = 0; w < 13; w++)
            p[w] = uint64_t(i) << 8 | w;
        v.push_back(p);
    }
    for (int i = 0; i < 2000; i++)
        for (int w = 0; w < 13; w++)
            REQUIRE(v[i][w] == (uint64_t(i) << 8 | w));
    for (auto* p : v)
        z.free(p);
    CHECK(stats_of(z).used == 0);
    z.destroy();
    CHECK(be.pages_out == 0);
}

TEST_CASE("kmalloc_obj: M_ZERO")
{
    HartReset hr;
    FakeBackend be;
    ObjZone z;
    z.init(plain("zeroed", 256), be);
    auto* p = static_cast<unsigned char*>(z.alloc(M_WAITOK));
    std::memset(p, 0xee, 256);
    z.free(p);
    auto* q = static_cast<unsigned char*>(z.alloc(M_WAITOK | M_ZERO));
    CHECK(q == p);
    for (int i = 0; i < 256; i++)
        REQUIRE(q[i] == 0);
    z.free(q);
    z.destroy();
}

TEST_CASE("kmalloc_obj: active and alternate slabs, then exhausted, partial and free lists")
{
    HartReset hr;
    FakeBackend be;
    ObjZone z;
    ObjZoneSpec spec = plain("lists", 2048); // 15 per slab
    spec.cfg.keep_free_hi = 100;              // no release in this test
    z.init(spec, be);
    const size_t P = z.objs_per_slab();
    REQUIRE(P == 15);
    std::vector<void*> v;
    for (size_t i = 0; i < 4 * P; i++)
        v.push_back(z.alloc(M_WAITOK));
    ZoneStats s = stats_of(z);
    CHECK(s.slabs_hart == 2);      // active + alternate
    CHECK(s.slabs_exhausted == 2); // the two before them
    CHECK(s.slabs_partial == 0);
    CHECK(s.used == 4 * P);
    CHECK(s.free == 0);
    // Free one object of the first slab (exhausted, on the zone list): a remote
    // free, no list movement until poll() or a miss looks.
    z.free(v[0]);
    CHECK(stats_of(z).slabs_exhausted == 2);
    z.poll();
    CHECK(stats_of(z).slabs_exhausted == 1);
    CHECK(stats_of(z).slabs_partial == 1);
    // Free the whole second slab: poll() finds it fully free.
    for (size_t i = P; i < 2 * P; i++)
        z.free(v[i]);
    z.poll();
    s = stats_of(z);
    CHECK(s.slabs_free == 1);
    CHECK(s.slabs_partial == 1);
    CHECK(s.slabs_exhausted == 0);
    // A miss prefers the partial slab to the free one (limits fragmentation).
    void* p = z.alloc(M_WAITOK);
    CHECK(p == v[0]);
    CHECK(stats_of(z).slabs_free == 1);
    v[0] = p;
    for (size_t i = 0; i < 4 * P; i++)
        if (i < P || i >= 2 * P)
            z.free(v[i]);
    z.destroy();
}

TEST_CASE("kmalloc_obj: frees on another hart are remote and come back on the owner's next miss")
{
    HartReset hr;
    cpu::host_set_count(2);
    FakeBackend be;
    ObjZone z;
    z.init(plain("remote", 512), be); // 63 per slab
    const size_t P = z.objs_per_slab();
    std::vector<void*> v;
    for (size_t i = 0; i < P; i++)
        v.push_back(z.alloc(M_WAITOK)); // the whole active slab
    Slab* s = Slab::of(v[0]);
    CHECK(s->nfree == 0);
    cpu::host_bind(1);
    for (void* p : v)
        z.free(p); // not hart 1's slab: remote
    CHECK(s->nfree == 0);
    CHECK(s->remote_head.load() != 0);
    cpu::host_bind(0);
    size_t slabs = be.alloc_calls;
    for (size_t i = 0; i < P; i++)
        REQUIRE(Slab::of(z.alloc(M_WAITOK)) == s); // drained, no new slab
    CHECK(be.alloc_calls == slabs);
    // And local frees on the owner go straight to the stack.
    for (size_t i = 0; i < P; i++)
        z.free(s->obj(uint32_t(i)));
    CHECK(s->nfree == P);
    CHECK(s->remote_head.load() == 0);
    ZoneStats st = stats_of(z);
    CHECK(st.used == 0);
    CHECK(st.requests == 2 * P);
    z.destroy();
}

TEST_CASE("kmalloc_obj: fully free slabs are released with hysteresis")
{
    HartReset hr;
    FakeBackend be;
    ObjZone z;
    ObjZoneSpec spec = plain("hysteresis", 2048);
    spec.cfg.keep_free_hi = 4;
    spec.cfg.keep_free_lo = 2;
    spec.cfg.hold_polls = 2;
    z.init(spec, be);
    const size_t P = z.objs_per_slab();
    std::vector<void*> v;
    for (size_t i = 0; i < 12 * P; i++)
        v.push_back(z.alloc(M_WAITOK));
    for (void* p : v)
        z.free(p);
    z.poll();
    ZoneStats s = stats_of(z);
    CHECK(s.slabs_free == 10); // 12 minus the hart's two
    CHECK(s.slabs_released == 0); // first poll above hi: wait
    z.poll();
    s = stats_of(z);
    CHECK(s.slabs_free == 2); // second poll in a row: down to lo
    CHECK(s.slabs_released == 8);
    CHECK(be.frees == 8);
    // Between lo and hi nothing happens however long it lasts.
    for (size_t i = 0; i < 3 * P; i++)
        v[i] = z.alloc(M_WAITOK);
    for (size_t i = 0; i < 3 * P; i++)
        z.free(v[i]);
    for (int i = 0; i < 5; i++)
        z.poll();
    CHECK(stats_of(z).slabs_released == 8);
    // A dip below hi resets the count: above, below, above does not release.
    for (size_t i = 0; i < 8 * P; i++)
        v[i] = z.alloc(M_WAITOK);
    for (size_t i = 0; i < 8 * P; i++)
        z.free(v[i]);
    z.poll(); // above hi: 1
    for (size_t i = 0; i < 6 * P; i++)
        v[i] = z.alloc(M_WAITOK);
    z.poll(); // below: reset
    for (size_t i = 0; i < 6 * P; i++)
        z.free(v[i]);
    z.poll(); // above: 1 again
    CHECK(stats_of(z).slabs_released == 8);
    z.poll(); // 2: release
    CHECK(stats_of(z).slabs_released > 8);
    CHECK(stats_of(z).slabs_free == 2);
    z.destroy();
    CHECK(be.pages_out == 0);
}

TEST_CASE("kmalloc_obj: no slab is released while a ReadGuard is open (type stability)")
{
    HartReset hr;
    FakeBackend be;
    ObjZone z;
    ObjZoneSpec spec = plain("typestable", 2048);
    spec.cfg.keep_free_hi = 0;
    spec.cfg.keep_free_lo = 0;
    spec.cfg.hold_polls = 1;
    z.init(spec, be);
    std::vector<void*> v;
    for (size_t i = 0; i < 5 * z.objs_per_slab(); i++)
        v.push_back(z.alloc(M_WAITOK));
    for (void* p : v)
        z.free(p);
    {
        ObjZone::ReadGuard rg(z);
        z.poll();
        z.poll();
        CHECK(stats_of(z).slabs_released == 0);
        // A reader may still look at a freed object: still this zone's memory.
        CHECK(Slab::of(v[0])->zone == &z);
    }
    z.poll();
    CHECK(stats_of(z).slabs_released == 3);
    z.destroy();
}

TEST_CASE("kmalloc_obj: static slabs serve a zone before the page allocator and are never released")
{
    HartReset hr;
    ZALLOC_STATIC_SLABS(boot_slabs, 2);
    NullBackend none;
    ObjZone z;
    ObjZoneSpec spec {"bootobj", 64, {}};
    spec.cfg.reserve_slabs = 2;
    spec.cfg.keep_free_hi = 0;
    spec.cfg.keep_free_lo = 0;
    spec.cfg.hold_polls = 1;
    z.init(spec, none, boot_slabs, 2);
    CHECK(z.reserve_count() == 2);
    // Boot code runs with the paging path's flags until pages exist.
    std::vector<void*> v;
    while (void* p = z.alloc(M_INTNOWAIT))
        v.push_back(p);
    CHECK(v.size() == spec.k());
    CHECK(v.size() == 2 * 493);
    for (void* p : v) {
        bool inside = p >= static_cast<void*>(boot_slabs) && p < static_cast<void*>(boot_slabs + 2);
        REQUIRE(inside);
    }
    for (void* p : v)
        z.free(p);
    z.poll();
    z.poll();
    CHECK(stats_of(z).slabs_released == 0);
    CHECK(stats_of(z).pages == 16);
    z.destroy();
}

TEST_CASE("kmalloc_obj: max_slabs limits the zone; failure rules follow the flags")
{
    HartReset hr;
    FakeBackend be;
    ObjZone z;
    ObjZoneSpec spec = plain("slablimit", 2048);
    spec.cfg.max_slabs = 2;
    z.init(spec, be);
    std::vector<void*> v;
    for (size_t i = 0; i < 2 * z.objs_per_slab(); i++)
        v.push_back(z.alloc(M_WAITOK));
    CHECK(z.alloc(M_NOWAIT) == nullptr);
    CHECK(z.alloc(M_WAITOK | M_NULLOK) == nullptr);
    std::string m = panic_message([&] { (void)z.alloc(M_WAITOK); });
    CHECK(m.find("slablimit") != std::string::npos);
    CHECK(m.find("limit") != std::string::npos);
    CHECK(stats_of(z).failures == 3);
    for (void* p : v)
        z.free(p);
    z.destroy();
}

TEST_CASE("kmalloc_obj debug: double free (local and remote), foreign pointers, use after free")
{
    HartReset hr;
    cpu::host_set_count(2);
    REQUIRE(debug::enabled());
    FakeBackend be;
    ObjZone z, other;
    z.init(plain("objdbg", 128), be);
    other.init(plain("objother", 128), be);
    void* a = z.alloc(M_WAITOK);
    void* b = z.alloc(M_WAITOK);
    z.free(a);
    std::string m = panic_message([&] { z.free(a); });
    CHECK(m.find("objdbg") != std::string::npos);
    CHECK(m.find("double free") != std::string::npos);
    CHECK(m.find("caller") != std::string::npos);
    cpu::host_bind(1); // the same, as a remote free
    CHECK(panic_message([&] { z.free(a); }).find("double free") != std::string::npos);
    cpu::host_bind(0);
    void* o = other.alloc(M_WAITOK);
    m = panic_message([&] { z.free(o); });
    CHECK(m.find("objdbg") != std::string::npos);
    CHECK(m.find("another zone") != std::string::npos);
    ZALLOC_STATIC_SLABS(stray, 1);
    CHECK(panic_message([&] { z.free(stray[0] + 512); }).find("foreign") != std::string::npos);
    CHECK(panic_message([&] { z.free(static_cast<char*>(b) + 8); }).find("boundary") != std::string::npos);
    CHECK(panic_message([&] { z.free(Slab::of(b)); }).find("boundary") != std::string::npos);
    // Use after free: scribble on freed a; a is the next object handed out.
    static_cast<char*>(a)[100] = 7;
    m = panic_message([&] { (void)z.alloc(M_WAITOK); });
    CHECK(m.find("modified after free") != std::string::npos);
    CHECK(m.find("objdbg") != std::string::npos);
    z.free(a); // it was handed out (bit set) before the check panicked
    z.free(b);
    other.free(o);
    z.destroy();
    other.destroy();
}
