// Randomized model tests: seeded sequences of thousands of allocations and frees
// on a zalloc zone, a kmalloc_obj zone and kmalloc, checked against a simple
// model (the set of live objects with their sizes and contents). Pages come and
// go so failure paths are mixed in; a failed allocation must be one the flags
// allow to fail, and the contents of every live object must survive everything.
#include "test/host/zalloc_fake_backend.h"
#include "test/host/zalloc_test_util.h"
#include "zalloc/kmalloc.h"
#include "zalloc/kmalloc_obj.h"
#include "zalloc/zone.h"

#include <doctest/doctest.h>

#include <cstring>
#include <map>
#include <random>
#include <vector>

using namespace zalloc;

namespace {

struct Live {
    size_t size;
    uint8_t tag;
};

// The model: live objects by address. Checks no overlap on insert.
struct Model {
    std::map<uintptr_t, Live> live;

    void add(void* p, size_t size, uint8_t tag)
    {
        auto a = reinterpret_cast<uintptr_t>(p);
        auto next = live.lower_bound(a);
        if (next != live.end())
            REQUIRE(a + size <= next->first);
        if (next != live.begin()) {
            auto prev = std::prev(next);
            REQUIRE(prev->first + prev->second.size <= a);
        }
        live[a] = {size, tag};
        std::memset(p, tag, size);
    }
    static void check(uintptr_t a, const Live& l)
    {
        auto* b = reinterpret_cast<const uint8_t*>(a);
        for (size_t i = 0; i < l.size; i++)
            if (b[i] != l.tag)
                FAIL("object " << a << " byte " << i << " changed");
    }
    std::pair<void*, Live> take(std::mt19937_64& rng)
    {
        auto it = live.begin();
        std::advance(it, rng() % live.size());
        check(it->first, it->second);
        auto r = std::make_pair(reinterpret_cast<void*>(it->first), it->second);
        live.erase(it);
        return r;
    }
    void check_all()
    {
        for (auto& [a, l] : live)
            check(a, l);
    }
};

const MFlags FLAGS[] = {M_WAITOK, M_NOWAIT, M_INTNOWAIT, M_WAITOK | M_ZERO, M_NOWAIT | M_ZERO, M_RNOWAIT};

template <typename AllocF, typename FreeF, typename SizeF>
void run_model(uint64_t seed, FakeBackend& be, int steps, AllocF alloc, FreeF free_, SizeF pick_size,
               size_t& failures)
{
    std::mt19937_64 rng(seed);
    Model m;
    for (int step = 0; step < steps; step++) {
        unsigned op = rng() % 100;
        if (op < 2) {
            // Memory pressure comes and goes. With no pages M_WAITOK would
            // panic (the fake cannot wait), so it is only used with plenty of pages.
            be.set_free(rng() % 3 == 0 ? 0 : 1u << 20);
        } else if (op < 55 || m.live.empty()) {
            MFlags f = FLAGS[rng() % 6];
            if (be.free_now() < (1u << 19) && f.may_block())
                f = M_NOWAIT;
            size_t size = pick_size(rng);
            void* p = alloc(size, f);
            if (!p) {
                REQUIRE(f.null_ok());
                failures++;
                continue;
            }
            if (f.has(MFlag::Zero))
                for (size_t i = 0; i < size; i++)
                    REQUIRE(static_cast<uint8_t*>(p)[i] == 0);
            m.add(p, size, uint8_t(rng() | 1));
        } else {
            auto [p, l] = m.take(rng);
            free_(p, l.size);
        }
        if (step % 1000 == 0)
            m.check_all();
    }
    m.check_all();
    while (!m.live.empty()) {
        auto [p, l] = m.take(rng);
        free_(p, l.size);
    }
}

} // namespace

TEST_CASE("model: zalloc zone, random sequences with pages coming and going")
{
    for (uint64_t seed : {1u, 2u, 3u}) {
        HartReset hr;
        FakeBackend be;
        Zone z;
        z.init("model-zone", 72, be);
        size_t failures = 0;
        run_model(
            seed, be, 20000, [&](size_t, MFlags f) { return z.alloc(f); }, [&](void* p, size_t) { z.free(p); },
            [](std::mt19937_64&) { return size_t(72); }, failures);
        CHECK(stats_of(z).used == 0);
        CHECK(stats_of(z).failures == failures);
        z.destroy();
        CHECK(be.pages_out == 0);
    }
}

TEST_CASE("model: kmalloc_obj zone, random sequences, polls and replenishes in between")
{
    for (uint64_t seed : {11u, 12u, 13u}) {
        HartReset hr;
        FakeBackend be;
        ObjZone z;
        ObjZoneSpec spec {"model-obj", 520, {}};
        spec.cfg.hold_polls = 1;
        z.init(spec, be);
        size_t failures = 0, allocs = 0;
        run_model(
            seed, be, 20000,
            [&](size_t, MFlags f) {
                if (++allocs % 500 == 0) {
                    z.poll();
                    (void)replenish_all();
                }
                return z.alloc(f);
            },
            [&](void* p, size_t) { z.free(p); }, [](std::mt19937_64&) { return size_t(520); }, failures);
        ZoneStats s = stats_of(z);
        CHECK(s.used == 0);
        CHECK(s.failures == failures);
        z.destroy();
        CHECK(be.pages_out == 0);
    }
}

TEST_CASE("model: kmalloc over all classes and page runs, per-type accounting exact")
{
    for (uint64_t seed : {21u, 22u}) {
        HartReset hr;
        FakeBackend be;
        kmalloc_init(be);
        ZALLOC_MALLOC_DEFINE(M_MODEL, "model-km", 0);
        size_t failures = 0;
        size_t live_bytes = 0;
        run_model(
            seed, be, 20000,
            [&](size_t size, MFlags f) {
                void* p = kmalloc(size, M_MODEL, f);
                if (p)
                    live_bytes += size;
                return p;
            },
            [&](void* p, size_t size) {
                live_bytes -= size;
                kfree(p, M_MODEL);
            },
            [](std::mt19937_64& rng) {
                unsigned r = rng() % 100;
                if (r < 70)
                    return size_t(1 + rng() % 128);
                if (r < 95)
                    return size_t(129 + rng() % 1920);
                return size_t(2049 + rng() % 40000);
            },
            failures);
        TypeStats all[64];
        size_t n = snapshot_types(all, 64);
        bool found = false;
        for (size_t i = 0; i < n && i < 64; i++) {
            if (all[i].name != M_MODEL.name)
                continue;
            found = true;
            CHECK(all[i].in_use == 0);
            CHECK(all[i].memory == 0);
            CHECK(all[i].failures == failures);
            CHECK(all[i].high_water > 0);
        }
        CHECK(found);
        CHECK(live_bytes == 0);
        malloc_type_unregister(M_MODEL);
        kmalloc_shutdown();
        CHECK(be.pages_out == 0);
    }
}
