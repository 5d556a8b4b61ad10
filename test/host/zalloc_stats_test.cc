// vmstat -z / vmstat -m snapshots and their text, and the return to baseline
// after churning a large number of objects.
#include "test/host/zalloc_fake_backend.h"
#include "test/host/zalloc_test_util.h"
#include "zalloc/kmalloc.h"
#include "zalloc/kmalloc_obj.h"
#include "zalloc/stats.h"
#include "zalloc/zone.h"

#include <doctest/doctest.h>

#include <cstring>
#include <random>
#include <string>
#include <vector>

using namespace zalloc;

namespace {
const ZoneStats* find(const std::vector<ZoneStats>& v, const char* name)
{
    for (const ZoneStats& s : v)
        if (std::strcmp(s.name, name) == 0)
            return &s;
    return nullptr;
}
std::vector<ZoneStats> all_zones()
{
    std::vector<ZoneStats> v(zone_count() + 8);
    v.resize(snapshot_zones(v.data(), v.size()));
    return v;
}
} // namespace

TEST_CASE("stats: vmstat -z snapshot of both zone kinds, and its text")
{
    HartReset hr;
    FakeBackend be;
    Zone zz;
    zz.init("st-zalloc", 100, be);
    ObjZone oz;
    oz.init(ObjZoneSpec {"st-obj", 64, {}}, be);
    size_t zones = zone_count();
    std::vector<void*> a, b;
    for (int i = 0; i < 10; i++)
        a.push_back(zz.alloc(M_WAITOK));
    for (int i = 0; i < 600; i++)
        b.push_back(oz.alloc(M_WAITOK));
    void* extra = oz.alloc(M_WAITOK | M_NULLOK);
    CHECK(extra != nullptr);
    auto v = all_zones();
    CHECK(v.size() == zones);
    const ZoneStats* z = find(v, "st-zalloc");
    const ZoneStats* o = find(v, "st-obj");
    REQUIRE(z);
    REQUIRE(o);
    CHECK(z->kind == ZoneKind::Zalloc);
    CHECK(z->item_size == 112);
    CHECK(z->used == 10);
    CHECK(z->requests == 10);
    CHECK(z->pages == 2); // one page of items handed out, one held back
    CHECK(z->used + z->free == 72);
    CHECK(z->reserve_present == 36);
    CHECK(o->kind == ZoneKind::Obj);
    CHECK(o->item_size == 64);
    CHECK(o->used == 601);
    CHECK(o->reserve_present == 3);
    CHECK(o->reserve_target == 3);
    CHECK(o->k_guarantee == 3 * 493);
    CHECK(o->slabs_hart == 2);
    CHECK(o->pages == 5 * SLAB_PAGES);
    CHECK(o->used + o->free == 5 * 493);

    char buf[4096];
    size_t len = format_zone_stats(v.data(), v.size(), buf, sizeof buf);
    std::string text(buf);
    CHECK(len == text.size());
    CHECK(text.rfind("ZONE", 0) == 0);
    CHECK(text.find("st-zalloc") != std::string::npos);
    CHECK(text.find("st-obj") != std::string::npos);
    CHECK(text.find("3/3") != std::string::npos);
    // Truncated into a small buffer: NUL-terminated, full length reported.
    char small[40];
    CHECK(format_zone_stats(v.data(), v.size(), small, sizeof small) == len);
    CHECK(std::strlen(small) == sizeof small - 1);
    CHECK(std::string(buf).compare(0, sizeof small - 1, small) == 0);
    // Through a callback, one line at a time.
    std::vector<std::string> lines;
    format_zone_stats(v.data(), v.size(), [&lines](const char* line) { lines.push_back(line); });
    CHECK(lines.size() == v.size() + 1);
    for (const std::string& l : lines)
        CHECK(l.back() == '\n');

    for (void* p : a)
        zz.free(p);
    for (void* p : b)
        oz.free(p);
    CHECK(stats_of(oz).used == 1);
    zz.destroy();
    oz.free(extra);
    CHECK(stats_of(oz).used == 0);
    oz.destroy();
}

TEST_CASE("stats: vmstat -m snapshot and text")
{
    HartReset hr;
    FakeBackend be;
    kmalloc_init(be);
    ZALLOC_MALLOC_DEFINE(M_ST, "st-type", 1 << 20);
    void* p = kmalloc(100, M_ST, M_WAITOK);
    void* q = kmalloc(10000, M_ST, M_WAITOK);
    TypeStats t[64];
    size_t n = snapshot_types(t, 64);
    const TypeStats* s = nullptr;
    for (size_t i = 0; i < n && i < 64; i++)
        if (std::strcmp(t[i].name, "st-type") == 0)
            s = &t[i];
    REQUIRE(s);
    CHECK(s->in_use == 2);
    CHECK(s->memory == 104 + 3 * 4096); // class 104, a 3-page run
    CHECK(s->high_water == s->memory);
    CHECK(s->limit == 1 << 20);
    CHECK(s->requests == 2);
    char buf[2048];
    format_type_stats(t, n < 64 ? n : 64, buf, sizeof buf);
    std::string text(buf);
    CHECK(text.rfind("TYPE", 0) == 0);
    CHECK(text.find("st-type") != std::string::npos);
    CHECK(text.find("1024K") != std::string::npos); // the limit
    kfree(p, M_ST);
    kfree(q, M_ST);
    malloc_type_unregister(M_ST);
    kmalloc_shutdown();
}

TEST_CASE("stats: after churning 200,000 objects everything returns to baseline")
{
    HartReset hr;
    FakeBackend be;
    kmalloc_init(be);
    ZALLOC_MALLOC_DEFINE(M_CHURN, "churn", 0);
    ObjZone oz;
    oz.init(ObjZoneSpec {"churn-obj", 136, {}}, be);
    auto before = all_zones();
    size_t pages_before = be.pages_out;
    std::mt19937_64 rng(99);
    std::vector<std::pair<void*, bool>> live;
    uint64_t km_requests = 0;
    for (int round = 0; round < 40; round++) {
        for (int i = 0; i < 5000; i++) {
            if (rng() % 4 == 0)
                live.push_back({oz.alloc(M_WAITOK), true});
            else {
                live.push_back({kmalloc(1 + rng() % 3000, M_CHURN, M_WAITOK), false});
                km_requests++;
            }
        }
        std::shuffle(live.begin(), live.end(), rng);
        for (size_t i = live.size() / 2; i < live.size(); i++) {
            if (live[i].second)
                oz.free(live[i].first);
            else
                kfree(live[i].first, M_CHURN);
        }
        live.resize(live.size() / 2);
    }
    for (auto [p, obj] : live) {
        if (obj)
            oz.free(p);
        else
            kfree(p, M_CHURN);
    }
    CHECK(be.pages_out > pages_before);
    for (int i = 0; i < 3; i++)
        poll_all();
    auto after = all_zones();
    REQUIRE(after.size() == before.size());
    for (size_t i = 0; i < after.size(); i++) {
        const ZoneStats& a = after[i];
        const ZoneStats* b = find(before, a.name);
        REQUIRE(b);
        CHECK(a.used == b->used);
        CHECK(a.reserve_present == b->reserve_present);
        CHECK(a.slabs_partial == 0);
        CHECK(a.slabs_exhausted == 0);
        CHECK(a.slabs_free <= 2); // keep_free_lo
        // At most the hart's two slabs and keep_free_lo free ones beyond baseline.
        CHECK(a.pages <= b->pages + 4 * SLAB_PAGES);
    }
    TypeStats t[64];
    size_t n = snapshot_types(t, 64);
    for (size_t i = 0; i < n && i < 64; i++)
        if (std::strcmp(t[i].name, "churn") == 0) {
            CHECK(t[i].in_use == 0);
            CHECK(t[i].memory == 0);
            CHECK(t[i].requests == km_requests);
        }
    size_t zone_pages = 0;
    for (const ZoneStats& a : after)
        zone_pages += a.pages;
    CHECK(be.pages_out == zone_pages); // every page the backend gave is a zone's
    oz.destroy();
    malloc_type_unregister(M_CHURN);
    kmalloc_shutdown();
    CHECK(be.pages_out == 0);
}
