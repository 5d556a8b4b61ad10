// kmalloc over size-class kmalloc_obj zones and page runs; see kmalloc.h.
#include "zalloc/kmalloc.h"

#include "kern/seam/panic.h"
#include "kern/sync/spinlock.h"
#include "lib/string.h"
#include "zalloc/kmalloc_obj.h"
#include "zalloc/stats.h"

#include <new>

namespace zalloc {

namespace {

constexpr const char* CLASS_NAMES[KMALLOC_NCLASSES] = {
    "kmalloc-8",    "kmalloc-16",   "kmalloc-24",   "kmalloc-32",   "kmalloc-40",   "kmalloc-48",
    "kmalloc-56",   "kmalloc-64",   "kmalloc-72",   "kmalloc-80",   "kmalloc-88",   "kmalloc-96",
    "kmalloc-104",  "kmalloc-112",  "kmalloc-120",  "kmalloc-128",  "kmalloc-160",  "kmalloc-192",
    "kmalloc-224",  "kmalloc-256",  "kmalloc-320",  "kmalloc-384",  "kmalloc-448",  "kmalloc-512",
    "kmalloc-640",  "kmalloc-768",  "kmalloc-896",  "kmalloc-1024", "kmalloc-1280", "kmalloc-1536",
    "kmalloc-1792", "kmalloc-2048",
};

struct LargeHeader {
    uint64_t magic;
    size_t npages;
    size_t size;
    MallocType* type;
    uint64_t pad[4];
};
static_assert(sizeof(LargeHeader) == KMALLOC_LARGE_HEADER);
constexpr uint64_t LARGE_MAGIC = 0x5a6573744c617267ull; // "ZestLarg"
static_assert(LARGE_MAGIC != Slab::MAGIC);

Backend* g_backend = nullptr;
constinit ksync::SpinLock g_types_lock("malloc-types");
constinit lib::List<MallocType, &MallocType::node> g_types;

void register_type(MallocType& t)
{
    if (t.registered.load(std::memory_order_acquire))
        return;
    ksync::SpinGuard g(g_types_lock);
    if (!t.registered.load(std::memory_order_relaxed)) {
        g_types.push_back(t);
        t.fast_key.store(t.limit ? 0 : t.slots_key(), std::memory_order_relaxed);
        t.registered.store(true, std::memory_order_release);
    }
}

void note_high_water(MallocType& t)
{
    size_t now = static_cast<size_t>(t.memory_now());
    size_t hw = t.high_water.load(std::memory_order_relaxed);
    while (now > hw && !t.high_water.compare_exchange_weak(hw, now, std::memory_order_relaxed)) {
    }
}

// The slow paths' accounting, the same counters as the fast paths'. Every
// allocation the slow path serves samples the high-water mark (malloc_type.h).
void account_alloc(MallocType& t, size_t bytes)
{
    {
        cpu::IrqGuard irq;
        kmalloc_detail::count_alloc(t.on(cpu::id()), MallocType::delta(bytes));
    }
    note_high_water(t);
}

// Under g_types_lock: the type's requests in 64 bits (malloc_type.h), and a
// high-water sample.
uint64_t fold_requests(MallocType& t, const MallocType::Totals& tot)
{
    t.allocs_folded += (tot.allocs_low - t.allocs_seen) & MallocType::OBJS_MASK;
    t.allocs_seen = tot.allocs_low;
    note_high_water(t);
    return t.allocs_folded + tot.failures;
}

void account_free(MallocType& t, size_t bytes)
{
    cpu::IrqGuard irq;
    kmalloc_detail::count_free(t.on(cpu::id()), MallocType::delta(bytes));
}

void* fail(MallocType& t, size_t size, MFlags flags, void* caller, const char* why)
{
    {
        cpu::IrqGuard irq;
        t.on(cpu::id()).failures.add(1);
    }
    if (flags.null_ok())
        return nullptr;
    panic("kmalloc(%zu, %s): M_WAITOK allocation failed: %s (caller %p)", size, t.name, why, caller);
}

} // namespace

namespace kmalloc_detail {

alignas(ObjZone) unsigned char g_class_storage[KMALLOC_NCLASSES * CLASS_STRIDE];

} // namespace kmalloc_detail

using kmalloc_detail::zone_of;

void kmalloc_init(Backend& backend)
{
    g_backend = &backend;
    for (size_t c = 0; c < KMALLOC_NCLASSES; c++) {
        ObjZone* z = new (zone_of(c)) ObjZone();
        *reinterpret_cast<uint64_t*>(reinterpret_cast<char*>(z) - kmalloc_detail::ZONE_OFFSET) =
            MallocType::delta(kmalloc_class_size(c));
        ObjZoneSpec spec {CLASS_NAMES[c], kmalloc_class_size(c), {}};
        spec.cfg.reserve_slabs = 1;
        z->init(spec, backend);
    }
}

void kmalloc_shutdown()
{
    for (size_t c = 0; c < KMALLOC_NCLASSES; c++)
        zone_of(c)->destroy();
    g_backend = nullptr;
}

ObjZone& kmalloc_class_zone(size_t cls) { return *zone_of(cls); }

void* kmalloc_slow(size_t size, MallocType& type, MFlags flags)
{
    void* caller = __builtin_return_address(0);
    if (!g_backend)
        panic("kmalloc(%zu, %s) before kmalloc_init (caller %p)", size, type.name, caller);
    register_type(type);
    if (size > KMALLOC_MAX)
        return fail(type, size, flags, caller, "request too large");
    if (size == 0)
        size = 1;
    bool small = size <= KMALLOC_MAX_CLASS;
    size_t cls = small ? kmalloc_class(size) : 0;
    size_t npages = small ? 0 : (size + KMALLOC_LARGE_HEADER + PAGE_SIZE - 1) / PAGE_SIZE;
    size_t bytes = small ? kmalloc_class_size(cls) : npages * PAGE_SIZE;
    if (type.limit && static_cast<size_t>(type.memory_now()) + bytes > type.limit)
        return fail(type, size, flags, caller, "malloc type limit reached");
    void* p;
    if (small) {
        p = zone_of(cls)->alloc_from(flags | M_NULLOK, caller);
        if (!p)
            return fail(type, size, flags, caller, zone_of(cls)->name());
    } else {
        void* run = g_backend->alloc_pages(npages, SLAB_PAGES, page_class(flags), false);
        if (!run && flags.may_block())
            run = g_backend->alloc_pages(npages, SLAB_PAGES, page_class(flags), true);
        if (!run)
            return fail(type, size, flags, caller, "no page run");
        kassert(reinterpret_cast<uintptr_t>(run) % SLAB_SIZE == 0);
        auto* h = static_cast<LargeHeader*>(run);
        *h = LargeHeader {LARGE_MAGIC, npages, size, &type, {}};
        p = h + 1;
        if (flags.has(MFlag::Zero))
            memset(p, 0, size);
    }
    account_alloc(type, bytes);
    return p;
}

void kfree_slow(void* p, MallocType& type)
{
    void* caller = __builtin_return_address(0);
    if (!p)
        return;
    Slab* s = Slab::of(p);
    if (s->magic == Slab::MAGIC) {
        ObjZone* z = s->zone;
        if (!kmalloc_detail::is_class_zone(z))
            panic("kfree(%p, %s): pointer of kmalloc_obj zone %s, not of kmalloc (caller %p)", p, type.name,
                  z ? z->name() : "?", caller);
        size_t bytes = z->object_size();
        z->free_from(p, caller);
        account_free(type, bytes);
        return;
    }
    auto* h = reinterpret_cast<LargeHeader*>(s);
    if (h->magic == LARGE_MAGIC && p == h + 1) {
        if (h->type != &type)
            panic("kfree(%p, %s): allocated as type %s (caller %p)", p, type.name, h->type->name, caller);
        size_t npages = h->npages;
        h->magic = 0;
        g_backend->free_pages(h, npages);
        account_free(type, npages * PAGE_SIZE);
        return;
    }
    panic("kfree(%p, %s): foreign pointer, neither a kmalloc object nor a kmalloc run (caller %p)", p, type.name,
          caller);
}

size_t kmalloc_usable_size(const void* p)
{
    Slab* s = Slab::of(p);
    if (s->magic == Slab::MAGIC)
        return s->obj_size;
    auto* h = reinterpret_cast<LargeHeader*>(s);
    kassert(h->magic == LARGE_MAGIC && p == h + 1);
    return h->npages * PAGE_SIZE - KMALLOC_LARGE_HEADER;
}

void malloc_type_unregister(MallocType& type)
{
    ksync::SpinGuard g(g_types_lock);
    if (type.registered.load(std::memory_order_relaxed)) {
        g_types.remove(type);
        type.fast_key.store(0, std::memory_order_relaxed);
        type.registered.store(false, std::memory_order_relaxed);
    }
}

void malloc_types_poll()
{
    ksync::SpinGuard g(g_types_lock);
    for (MallocType& t : g_types)
        (void)fold_requests(t, t.totals());
}

size_t snapshot_types(TypeStats* out, size_t max)
{
    ksync::SpinGuard g(g_types_lock);
    size_t i = 0;
    for (MallocType& t : g_types) {
        if (i < max) {
            TypeStats& s = out[i];
            s = TypeStats {};
            s.name = t.name;
            MallocType::Totals tot = t.totals();
            s.in_use = tot.in_use;
            s.memory = tot.memory;
            s.requests = fold_requests(t, tot);
            s.failures = tot.failures;
            s.high_water = t.high_water.load(std::memory_order_relaxed);
            s.limit = t.limit;
        }
        i++;
    }
    return i;
}

} // namespace zalloc
