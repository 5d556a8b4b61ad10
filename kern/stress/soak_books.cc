// The soak's memory balance (kern/stress/soak_internal.h): what is free, cached
// and in use, taken at the start and at the end and compared by soak.cc.
#include "kern/stress/soak_internal.h"

#include "kern/sched/sched.h"
#include "kern/task/task.h"
#include "kstack/grow.h"
#include "kstack/kstack.h"
#include "kstack/swap.h"
#include "lib/string.h"
#include "vm/kmem.h"
#include "vm/swap.h"
#include "vm/uspace.h"
#include "zalloc/registry.h"
#include "zalloc/stats.h"

namespace kern::soak::detail {
namespace {

zalloc::ZoneStats g_zs[MAX_ZONES];

} // namespace

void settle()
{
    sched::sleep_us(20000);
    for (int i = 0; i < 4; i++)
        zalloc::poll_all();
}

// Into b (static: with every zone's count it is a KiB or so).
void take_books(Books& b)
{
    b = {};
    size_t n = zalloc::snapshot_zones(g_zs, MAX_ZONES);
    b.nzones = n < MAX_ZONES ? n : MAX_ZONES;
    for (size_t i = 0; i < b.nzones; i++) {
        b.zone_pages += g_zs[i].pages;
        b.zones[i] = {g_zs[i].name, g_zs[i].used};
    }
    kstack::Stats ks = kstack::stats();
    b.stack_pages = ks.object_pages;
    b.cached_stacks = ks.cached_hart + ks.cached_global;
    b.grow_cache = kstack::grow_cache_pages();
    b.pool = kstack::swap::swapin_pool_pages();
    b.tasks = task::count();
    b.threads = thread::count();
    b.user_pages = vm::uspace::total_pages();
    b.swap_used = vm::swap::enabled() ? vm::swap::stats().used : 0;
    b.stacks_swapped = kstack::swap::stats().stacks_swapped;
    b.free_pages = vm::kmem::free_pages();
}

size_t used_at_start(const Books& b0, const char* name)
{
    for (size_t i = 0; i < b0.nzones; i++)
        if (strcmp(b0.zones[i].name, name) == 0)
            return b0.zones[i].used;
    return 0;
}

// The first zone with more items in use than at the start (a leak), or null.
// A cached stack keeps its metadata item (kstack/kstack.cc's "kstack" zone):
// the stack cache's growth is a cache, as its pages are.
const Books::Zone* zone_grown(const Books& b0, const Books& b1)
{
    for (size_t i = 0; i < b1.nzones; i++) {
        size_t allowed = used_at_start(b0, b1.zones[i].name);
        if (strcmp(b1.zones[i].name, "kstack") == 0 && b1.cached_stacks > b0.cached_stacks)
            allowed += b1.cached_stacks - b0.cached_stacks;
        if (b1.zones[i].used > allowed)
            return &b1.zones[i];
    }
    return nullptr;
}

} // namespace kern::soak::detail
