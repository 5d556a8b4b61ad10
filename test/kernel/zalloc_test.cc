// Kernel tests of zalloc/ on the real page allocator: the paging-progress
// guarantee at zero free pages on every hart at once, one page unsticking an
// interrupt zone, and a million-object churn that returns to baseline.
#include "kern/arch/riscv/hart.h"
#include "test/kernel/ktest.h"
#include "kern/console/printf.h"
#include "kern/arch/riscv/smp.h"
#include "lib/string.h"
#include "vm/page_chain.h"
#include "vm/kmem.h"
#include "zalloc/kmalloc.h"
#include "zalloc/kmalloc_obj.h"
#include "zalloc/stats.h"
#include "zalloc/zone.h"

namespace {

// A pager-like zone: 192-byte records, three reserve slabs.
constexpr zalloc::ObjZoneSpec PAGER_ZONE {"ktest-pager", 192, {.reserve_slabs = 3}};
constexpr size_t PAGER_K = PAGER_ZONE.k();
static_assert(PAGER_K == 3 * zalloc::objects_per_slab(192));

struct Grab {
    zalloc::ObjZone* zone;
    zalloc::MFlags flags;
    std::atomic<uint64_t> got {0};
    std::atomic<uint64_t> failed {0};
    // Objects are kept on a lock-free stack threaded through themselves.
    std::atomic<void*> list {nullptr};
    uint64_t per_hart;
};

void grab(Grab& g)
{
    for (uint64_t i = 0; i < g.per_hart; i++) {
        void* p = g.zone->alloc(g.flags);
        if (!p) {
            g.failed.fetch_add(1);
            continue;
        }
        g.got.fetch_add(1);
        void* head = g.list.load();
        do {
            *static_cast<void**>(p) = head;
        } while (!g.list.compare_exchange_weak(head, p));
    }
}

void release(Grab& g)
{
    void* p = g.list.exchange(nullptr);
    while (p) {
        void* next = *static_cast<void**>(p);
        g.zone->free(p);
        p = next;
    }
}

} // namespace

// With zero free pages: callers without the reserve fail cleanly, the paging
// path gets exactly K objects (all harts racing for them), then fails too.
KTEST(zalloc_paging_path_guarantee_at_zero_free_pages)
{
    ktest::Quiet quiet;
    uint64_t free0 = vm::kmem::free_pages();
    static zalloc::ObjZone zone;
    zone.init(PAGER_ZONE, vm::kmem::backend());
    KEXPECT_EQ(zone.reserve_count(), 3u);
    KEXPECT_EQ(zone.k_guarantee(), PAGER_K);

    vm::PageChain pages;
    pages.take_until_failure(vm::kmem::Class::Interrupt);
    KEXPECT_EQ(vm::kmem::free_pages(), 0u);

    static Grab normal;
    normal.zone = &zone;
    normal.flags = zalloc::M_NOWAIT; // may use the page reserve, not the slab reserve
    normal.got = 0;
    normal.failed = 0;
    normal.per_hart = 8;
    kern::smp::run_concurrently([] { grab(normal); });

    static Grab pager;
    pager.zone = &zone;
    pager.flags = zalloc::M_INTNOWAIT;
    pager.got = 0;
    pager.failed = 0;
    pager.per_hart = PAGER_K; // every hart asks for all of K: together they ask for more
    kern::smp::run_concurrently([] { grab(pager); });
    uint64_t got = pager.got.load();
    uint64_t reserve_left = zone.reserve_count();

    release(normal);
    release(pager);
    pages.free_all();
    zone.destroy();

    KEXPECT_EQ(normal.got.load(), 0u);
    KEXPECT_EQ(got, PAGER_K);
    KEXPECT_EQ(reserve_left, 0u);
    KEXPECT_EQ(vm::kmem::free_pages(), free0);
    kprintf("ktest: at zero free pages the paging path got K = %lu objects on %u harts; others got %lu\n", got,
            cpu::count(), normal.got.load());
}

// An interrupt zone that cannot grow is unstuck by exactly one freed page.
KTEST(zalloc_interrupt_zone_one_page_unsticks)
{
    ktest::Quiet quiet;
    static zalloc::Zone zone;
    constexpr size_t ITEM = 256;
    zone.init("ktest-intr", ITEM, vm::kmem::backend(), {.max_items = 4096, .interrupt = true});
    uint64_t free0 = vm::kmem::free_pages();
    vm::PageChain pages;
    pages.take_until_failure(vm::kmem::Class::Interrupt);

    // Drain the zone: everything it has, held-back items included.
    static void* items[4096];
    size_t n = 0;
    while (n < 4096) {
        void* p = zone.alloc(zalloc::M_INTNOWAIT);
        if (!p)
            break;
        items[n++] = p;
    }
    bool stuck = zone.alloc(zalloc::M_INTNOWAIT) == nullptr;
    // One page back: the zone maps it into its reserved range and carries on.
    vm::kmem::free_page(pages.pop());
    void* after = zone.alloc(zalloc::M_INTNOWAIT);
    size_t more = 0;
    if (after)
        items[n++] = after;
    while (n < 4096) {
        void* p = zone.alloc(zalloc::M_INTNOWAIT);
        if (!p)
            break;
        items[n++] = p;
        more++;
    }
    for (size_t i = 0; i < n; i++)
        zone.free(items[i]);
    zone.destroy();
    pages.free_all();

    KEXPECT(stuck);
    KEXPECT(after != nullptr);
    // That one page gave a page's worth of items (the first one included).
    KEXPECT_EQ(more + 1, zalloc::Zone::items_per_page(ITEM));
    KEXPECT_EQ(vm::kmem::free_pages(), free0);
}

namespace {
ZALLOC_MALLOC_DEFINE(g_churn_type, "ktest-churn", 0);

struct ZoneTotals {
    size_t used;  // objects in use, every zone
    size_t pages; // pages held, every zone
};
ZoneTotals zone_totals()
{
    static zalloc::ZoneStats zs[64];
    size_t n = zalloc::snapshot_zones(zs, 64);
    ZoneTotals z {0, 0};
    for (size_t i = 0; i < n && i < 64; i++) {
        z.used += zs[i].used;
        z.pages += zs[i].pages;
    }
    return z;
}
} // namespace

// A million kmalloc/kfree pairs over every size class and page runs, with a
// window of live objects freed in random order; every counter comes back.
KTEST(kmalloc_million_churn_returns_to_baseline)
{
    ktest::Quiet quiet;
    constexpr size_t WINDOW = 512;
    static void* live[WINDOW];
    static size_t live_size[WINDOW];
    ZoneTotals z0 = zone_totals();
    uint64_t free0 = vm::kmem::free_pages();
    uint64_t x = 0x9e3779b97f4a7c15ull;
    auto rnd = [&] {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        return x;
    };
    for (size_t i = 0; i < WINDOW; i++)
        live[i] = nullptr;
    uint64_t corrupt = 0;
    for (uint64_t i = 0; i < 1000000; i++) {
        size_t slot = rnd() % WINDOW;
        if (live[slot]) {
            if (*static_cast<uint8_t*>(live[slot]) != uint8_t(live_size[slot]))
                corrupt++;
            zalloc::kfree(live[slot], g_churn_type);
            live[slot] = nullptr;
        }
        size_t size = (rnd() % 64 == 0) ? 3000 + rnd() % 9000 : 1 + rnd() % 2048;
        live[slot] = zalloc::kmalloc(size, g_churn_type, zalloc::M_WAITOK);
        live_size[slot] = size;
        *static_cast<uint8_t*>(live[slot]) = uint8_t(size);
    }
    for (size_t i = 0; i < WINDOW; i++)
        if (live[i])
            zalloc::kfree(live[i], g_churn_type);
    for (int i = 0; i < 4; i++)
        zalloc::poll_all();
    KEXPECT_EQ(corrupt, 0u);
    KEXPECT_EQ(g_churn_type.totals().in_use, 0ul);
    KEXPECT_EQ(g_churn_type.memory_now(), 0);
    ZoneTotals z1 = zone_totals();
    KEXPECT_EQ(z1.used, z0.used);
    // Every page is either free again or held by a zone (free slabs kept by
    // the release hysteresis, reserve slabs); nothing leaked.
    uint64_t free1 = vm::kmem::free_pages();
    int64_t unaccounted = int64_t(free0) - int64_t(free1) - (int64_t(z1.pages) - int64_t(z0.pages));
    if (unaccounted != 0)
        t.failf("%ld pages unaccounted for (free %lu -> %lu, zone pages %zu -> %zu)", long(unaccounted), free0,
                free1, z0.pages, z1.pages);
}
