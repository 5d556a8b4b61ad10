// kmalloc alone: size classes, page runs with their header, malloc types and
// their limits, kfree's checks, and kmalloc's failure paths.
#include "test/host/zalloc_fake_backend.h"
#include "test/host/zalloc_test_util.h"
#include "zalloc/kmalloc.h"
#include "zalloc/kmalloc_obj.h"

#include <doctest/doctest.h>

#include <cstring>
#include <vector>

using namespace zalloc;

namespace {
struct KmallocFixture {
    HartReset hr;
    FakeBackend be;
    KmallocFixture() { kmalloc_init(be); }
    ~KmallocFixture() { kmalloc_shutdown(); }
};

} // namespace

TEST_CASE("kmalloc classes: tight, monotonic, waste at most 25% above 128 bytes")
{
    CHECK(kmalloc_class_size(0) == 8);
    CHECK(kmalloc_class_size(15) == 128);
    CHECK(kmalloc_class_size(16) == 160);
    CHECK(kmalloc_class_size(KMALLOC_NCLASSES - 1) == KMALLOC_MAX_CLASS);
    for (size_t c = 1; c < KMALLOC_NCLASSES; c++)
        REQUIRE(kmalloc_class_size(c) > kmalloc_class_size(c - 1));
    for (size_t size = 1; size <= KMALLOC_MAX_CLASS; size++) {
        size_t c = kmalloc_class(size);
        REQUIRE(c < KMALLOC_NCLASSES);
        REQUIRE(kmalloc_class_size(c) >= size);
        if (c)
            REQUIRE(kmalloc_class_size(c - 1) < size);
        if (size > 128)
            REQUIRE((kmalloc_class_size(c) - size) * 4 < kmalloc_class_size(c));
    }
}

TEST_CASE("kmalloc: before kmalloc_init it panics, naming the type")
{
    HartReset hr;
    ZALLOC_MALLOC_DEFINE(M_EARLY, "too-early", 0);
    CHECK(panic_message([&] { (void)kmalloc(8, M_EARLY, M_NOWAIT); }).find("too-early") != std::string::npos);
}

TEST_CASE("kmalloc: every size class and page runs, contents kept, usable size")
{
    KmallocFixture f;
    ZALLOC_MALLOC_DEFINE(M_TEST, "kmtest", 0);
    std::vector<std::pair<unsigned char*, size_t>> v;
    for (size_t size : {1ul, 7ul, 8ul, 9ul, 100ul, 128ul, 129ul, 1000ul, 2048ul, 2049ul, 4032ul, 4033ul, 30000ul,
                        200000ul}) {
        auto* p = static_cast<unsigned char*>(kmalloc(size, M_TEST, M_WAITOK));
        REQUIRE(p);
        CHECK(reinterpret_cast<uintptr_t>(p) % 8 == 0);
        CHECK(kmalloc_usable_size(p) >= size);
        std::memset(p, int(size & 0xff), size);
        v.push_back({p, size});
    }
    // Page runs: 64-byte header, run aligned to the slab size.
    unsigned char* big = v.back().first;
    CHECK(reinterpret_cast<uintptr_t>(big) % SLAB_SIZE == KMALLOC_LARGE_HEADER);
    CHECK(kmalloc_usable_size(big) == 49 * 4096 - 64);
    CHECK(kmalloc_usable_size(v[9].first) == 4096 - 64); // 2049 bytes: one page
    CHECK(kmalloc_usable_size(v[11].first) == 2 * 4096 - 64);
    for (auto [p, size] : v)
        for (size_t i = 0; i < size; i++)
            REQUIRE(p[i] == (size & 0xff));
    TypeStats s = type_stats(M_TEST);
    CHECK(s.in_use == v.size());
    CHECK(s.requests == v.size());
    CHECK(s.memory >= 200000);
    CHECK(s.high_water == s.memory);
    for (auto [p, size] : v)
        kfree(p, M_TEST);
    s = type_stats(M_TEST);
    CHECK(s.in_use == 0);
    CHECK(s.memory == 0);
    CHECK(s.high_water > 200000);
    kfree(nullptr, M_TEST);
    malloc_type_unregister(M_TEST);
}

TEST_CASE("kmalloc: M_ZERO for classes and runs; zero-byte requests get the smallest class")
{
    KmallocFixture f;
    ZALLOC_MALLOC_DEFINE(M_Z, "kmzero", 0);
    for (size_t size : {24ul, 3000ul}) {
        auto* p = static_cast<unsigned char*>(kmalloc(size, M_Z, M_WAITOK));
        std::memset(p, 0x5c, size);
        kfree(p, M_Z);
        p = static_cast<unsigned char*>(kmalloc(size, M_Z, M_WAITOK | M_ZERO));
        for (size_t i = 0; i < size; i++)
            REQUIRE(p[i] == 0);
        kfree(p, M_Z);
    }
    void* z = kmalloc(0, M_Z, M_WAITOK);
    CHECK(kmalloc_usable_size(z) == 8);
    kfree(z, M_Z);
    malloc_type_unregister(M_Z);
}

TEST_CASE("kmalloc: a type's limit fails M_NOWAIT and panics M_WAITOK with the type's name")
{
    KmallocFixture f;
    ZALLOC_MALLOC_DEFINE(M_LIM, "kmlimited", 4096);
    void* a = kmalloc(2048, M_LIM, M_WAITOK);
    void* b = kmalloc(2048, M_LIM, M_WAITOK);
    REQUIRE(a);
    REQUIRE(b);
    CHECK(kmalloc(8, M_LIM, M_NOWAIT) == nullptr);
    std::string m = panic_message([&] { (void)kmalloc(8, M_LIM, M_WAITOK); });
    CHECK(m.find("kmlimited") != std::string::npos);
    CHECK(m.find("limit") != std::string::npos);
    TypeStats s = type_stats(M_LIM);
    CHECK(s.failures == 2);
    CHECK(s.requests == 4);
    CHECK(s.limit == 4096);
    kfree(a, M_LIM);
    void* c = kmalloc(8, M_LIM, M_NOWAIT);
    CHECK(c != nullptr);
    kfree(b, M_LIM);
    kfree(c, M_LIM);
    malloc_type_unregister(M_LIM);
}

TEST_CASE("kmalloc: page exhaustion, injected failures and absurd sizes")
{
    KmallocFixture f;
    ZALLOC_MALLOC_DEFINE(M_EX, "kmexhaust", 0);
    f.be.set_free(0);
    CHECK(kmalloc(10000, M_EX, M_NOWAIT) == nullptr);
    CHECK(kmalloc(10000, M_EX, M_INTNOWAIT) == nullptr); // runs have no reserve
    CHECK(kmalloc(10000, M_EX, M_WAITOK | M_NULLOK) == nullptr);
    CHECK(panic_message([&] { (void)kmalloc(10000, M_EX, M_WAITOK); }).find("kmexhaust") != std::string::npos);
    CHECK(kmalloc(KMALLOC_MAX + 1, M_EX, M_NOWAIT) == nullptr);
    CHECK(panic_message([&] { (void)kmalloc(~size_t(0), M_EX, M_WAITOK); }).find("too large") != std::string::npos);
    // Small classes: normal callers fail, the paging path gets the class's K.
    CHECK(kmalloc(64, M_EX, M_NOWAIT) == nullptr);
    std::string m = panic_message([&] { (void)kmalloc(64, M_EX, M_WAITOK); });
    CHECK(m.find("kmalloc-64") != std::string::npos);
    ObjZone& z64 = kmalloc_class_zone(kmalloc_class(64));
    CHECK(z64.k_guarantee() == 493);
    std::vector<void*> v;
    while (void* p = kmalloc(64, M_EX, M_INTNOWAIT))
        v.push_back(p);
    CHECK(v.size() == 493);
    f.be.set_free(1000);
    f.be.fail_after = 0;
    CHECK(kmalloc(5000, M_EX, M_NOWAIT) == nullptr);
    f.be.fail_after = -1;
    for (void* p : v)
        kfree(p, M_EX);
    TypeStats s = type_stats(M_EX);
    CHECK(s.failures == 10);
    CHECK(s.in_use == 0);
    malloc_type_unregister(M_EX);
}

TEST_CASE("kfree: foreign pointers, pointers of kmalloc_obj zones, wrong type of a run, double free")
{
    KmallocFixture f;
    ZALLOC_MALLOC_DEFINE(M_A, "kmtype-a", 0);
    ZALLOC_MALLOC_DEFINE(M_B, "kmtype-b", 0);
    ZALLOC_STATIC_SLABS(stray, 1);
    std::string m = panic_message([&] { kfree(stray[0] + 256, M_A); });
    CHECK(m.find("foreign") != std::string::npos);
    CHECK(m.find("kmtype-a") != std::string::npos);
    ObjZone z;
    z.init(ObjZoneSpec {"private-obj", 64, {}}, f.be);
    void* o = z.alloc(M_WAITOK);
    CHECK(panic_message([&] { kfree(o, M_A); }).find("private-obj") != std::string::npos);
    z.free(o);
    z.destroy();
    void* big = kmalloc(9000, M_A, M_WAITOK);
    CHECK(panic_message([&] { kfree(big, M_B); }).find("kmtype-a") != std::string::npos);
    CHECK(panic_message([&] { kfree(static_cast<char*>(big) + 64, M_A); }).find("foreign") != std::string::npos);
    kfree(big, M_A);
    void* s = kmalloc(64, M_A, M_WAITOK);
    kfree(s, M_A);
    m = panic_message([&] { kfree(s, M_A); });
    CHECK(m.find("kmalloc-64") != std::string::npos);
    CHECK(m.find("double free") != std::string::npos);
    // The failed kfree accounted nothing.
    CHECK(type_stats(M_A).in_use == 0);
    malloc_type_unregister(M_A);
    malloc_type_unregister(M_B);
}
