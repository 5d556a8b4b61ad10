// Several std::threads play harts and hammer the per-hart paths: local and
// cross-hart (remote) frees, polls and replenishment running at the same time,
// and the reserve guarantee under contention. Built twice: ASan/UBSan (with the
// other tests) and ThreadSanitizer (zalloc_tsan_test, this file alone).
#include "test/host/zalloc_fake_backend.h"
#include "test/host/zalloc_test_util.h"
#include "zalloc/kmalloc.h"
#include "zalloc/debug.h"
#include "zalloc/kmalloc_obj.h"
#include "zalloc/zone.h"

#include <doctest/doctest.h>

#include <atomic>
#include <cstring>
#include <mutex>
#include <random>
#include <thread>
#include <vector>

using namespace zalloc;

namespace {

constexpr unsigned HARTS = 4;
constexpr int ROUNDS = 300;
constexpr int BATCH = 64;

struct Obj {
    void* p;
    size_t size;
    uint8_t tag;
};

// Objects in flight between harts.
struct Mailbox {
    std::mutex m;
    std::vector<Obj> items;
    void put(const Obj& o)
    {
        std::lock_guard g(m);
        items.push_back(o);
    }
    bool take(Obj& o)
    {
        std::lock_guard g(m);
        if (items.empty())
            return false;
        o = items.back();
        items.pop_back();
        return true;
    }
};

void fill(const Obj& o) { std::memset(o.p, o.tag, o.size); }
bool intact(const Obj& o)
{
    for (size_t i = 0; i < o.size; i++)
        if (static_cast<uint8_t*>(o.p)[i] != o.tag)
            return false;
    return true;
}

// Runs `work(hart)` on HARTS threads bound to harts 0..HARTS-1, plus a poller on
// hart HARTS calling `poll()` until they finish.
template <typename Work, typename Poll>
void run_harts(Work work, Poll poll)
{
    cpu::host_set_count(HARTS + 1);
    std::atomic<bool> done {false};
    std::thread poller([&] {
        cpu::host_bind(HARTS);
        while (!done.load())
            poll();
    });
    std::vector<std::thread> ts;
    for (unsigned h = 0; h < HARTS; h++)
        ts.emplace_back([&, h] {
            cpu::host_bind(h);
            work(h);
        });
    for (auto& t : ts)
        t.join();
    done.store(true);
    poller.join();
    cpu::host_bind(0);
    cpu::host_set_count(1);
}

// The common hammer: allocate a batch, keep half, mail half to other harts, free
// what arrives (remote frees) and what was kept (local frees).
template <typename Alloc, typename Free, typename Size>
void hammer(unsigned hart, Mailbox& box, Alloc alloc, Free free_, Size size_of, std::atomic<int>& bad)
{
    std::mt19937_64 rng(hart * 7919 + 1);
    std::vector<Obj> mine;
    for (int r = 0; r < ROUNDS; r++) {
        for (int i = 0; i < BATCH; i++) {
            size_t size = size_of(rng);
            Obj o {alloc(size), size, uint8_t(hart * 16 + (r & 15) + 1)};
            if (!o.p) {
                bad++;
                continue;
            }
            fill(o);
            if (i & 1)
                box.put(o);
            else
                mine.push_back(o);
        }
        Obj o;
        for (int i = 0; i < BATCH / 2 && box.take(o); i++) {
            if (!intact(o))
                bad++;
            free_(o);
        }
        for (const Obj& k : mine) {
            if (!intact(k))
                bad++;
            free_(k);
        }
        mine.clear();
    }
}

// Every test runs twice: in debug mode (the slow paths see every call) and
// without it (the kernel default: the inline per-hart caches of hart_cache.h).
struct DebugMode {
    bool was;
    explicit DebugMode(bool on) : was(debug::enabled()) { debug::set_enabled(on); }
    ~DebugMode() { debug::set_enabled(was); }
};
#define BOTH_MODES_TEST(name, fn)                          \
    static void fn();                                      \
    TEST_CASE(name " (debug on)")                          \
    {                                                      \
        DebugMode d(true);                                 \
        fn();                                              \
    }                                                      \
    TEST_CASE(name " (debug off: per-hart caches)")        \
    {                                                      \
        DebugMode d(false);                                \
        fn();                                              \
    }                                                      \
    static void fn()

} // namespace

BOTH_MODES_TEST("threads: kmalloc_obj zone, cross-hart frees, concurrent polls", mt_obj)
{
    HartReset hr;
    FakeBackend be;
    ObjZone z;
    ObjZoneSpec spec {"mt-obj", 200, {}};
    spec.cfg.hold_polls = 1;
    spec.cfg.keep_free_hi = 1;
    spec.cfg.keep_free_lo = 0;
    z.init(spec, be);
    Mailbox box;
    std::atomic<int> bad {0};
    run_harts(
        [&](unsigned h) {
            hammer(
                h, box, [&](size_t) { return z.alloc(M_WAITOK); }, [&](const Obj& o) { z.free(o.p); },
                [](std::mt19937_64&) { return size_t(200); }, bad);
        },
        [&] { z.poll(); });
    Obj o;
    while (box.take(o)) {
        CHECK(intact(o));
        z.free(o.p);
    }
    CHECK(bad == 0);
    ZoneStats s = stats_of(z);
    CHECK(s.used == 0);
    CHECK(s.requests == uint64_t(HARTS) * ROUNDS * BATCH);
    z.destroy();
    CHECK(be.pages_out == 0);
}

BOTH_MODES_TEST("threads: zalloc zone, cross-hart frees, concurrent replenish", mt_zone)
{
    HartReset hr;
    FakeBackend be;
    Zone z;
    z.init("mt-zone", 48, be);
    Mailbox box;
    std::atomic<int> bad {0};
    run_harts(
        [&](unsigned h) {
            hammer(
                h, box, [&](size_t) { return z.alloc(M_WAITOK); }, [&](const Obj& o) { z.free(o.p); },
                [](std::mt19937_64&) { return size_t(48); }, bad);
        },
        [&] { (void)z.replenish(); });
    Obj o;
    while (box.take(o)) {
        CHECK(intact(o));
        z.free(o.p);
    }
    CHECK(bad == 0);
    CHECK(stats_of(z).used == 0);
    z.destroy();
    CHECK(be.pages_out == 0);
}

BOTH_MODES_TEST("threads: kmalloc, all classes and runs, cross-hart kfree, poll_all running", mt_kmalloc)
{
    HartReset hr;
    FakeBackend be;
    kmalloc_init(be);
    ZALLOC_MALLOC_DEFINE(M_MT, "mt-kmalloc", 0);
    Mailbox box;
    std::atomic<int> bad {0};
    run_harts(
        [&](unsigned h) {
            hammer(
                h, box, [&](size_t size) { return kmalloc(size, M_MT, M_WAITOK); },
                [&](const Obj& o) { kfree(o.p, M_MT); },
                [](std::mt19937_64& rng) {
                    unsigned r = rng() % 100;
                    return r < 97 ? size_t(1 + rng() % 2048) : size_t(2049 + rng() % 20000);
                },
                bad);
        },
        [&] { poll_all(); });
    Obj o;
    while (box.take(o)) {
        CHECK(intact(o));
        kfree(o.p, M_MT);
    }
    CHECK(bad == 0);
    TypeStats all[64];
    size_t n = snapshot_types(all, 64);
    for (size_t i = 0; i < n && i < 64; i++)
        if (all[i].name == M_MT.name) {
            CHECK(all[i].in_use == 0);
            CHECK(all[i].memory == 0);
            CHECK(all[i].requests == uint64_t(HARTS) * ROUNDS * BATCH);
        }
    malloc_type_unregister(M_MT);
    kmalloc_shutdown();
    CHECK(be.pages_out == 0);
}

BOTH_MODES_TEST("threads: with zero free pages, racing paging-path harts get exactly K in total", mt_reserve)
{
    HartReset hr;
    FakeBackend be;
    ObjZone z;
    ObjZoneSpec spec {"mt-reserve", 512, {}}; // 63 per slab
    spec.cfg.reserve_slabs = 6;
    z.init(spec, be);
    REQUIRE(z.reserve_count() == 6);
    be.set_free(0);
    std::vector<void*> got[HARTS];
    run_harts(
        [&](unsigned h) {
            while (void* p = z.alloc(M_INTNOWAIT))
                got[h].push_back(p);
        },
        [&] { (void)z.reserve_count(); });
    size_t total = 0;
    for (auto& g : got)
        total += g.size();
    CHECK(total == spec.k());
    CHECK(total == 6 * 63);
    CHECK(be.pages_out == 6 * SLAB_PAGES);
    for (auto& g : got)
        for (void* p : g)
            z.free(p);
    z.destroy();
}
