#include "kstack/kstack.h"
#include "kstack/stack.h"

#include "kstack/cache_policy.h"
#include "kstack/grow.h"

#include "boot/bootargs.h"
#include "kern/arch/riscv/fixup.h"
#include "kern/arch/riscv/hart.h"
#include "kern/console/panic.h"
#include "kern/console/printf.h"
#include "kern/arch/riscv/smp.h"
#include "kern/sync/spinlock.h"
#include "kern/sched/thread.h"
#include "lib/list.h"
#include "lib/string.h"
#include "vm/kmem.h"
#include "vm/owned_page.h"
#include "vm/layout.h"
#include "vm/tlb.h"
#include "zalloc/zone.h"

namespace kstack {

const char* state_name(StackState s)
{
    switch (s) {
    case StackState::Free: return "free";
    case StackState::Cached: return "cached";
    case StackState::Resident: return "resident";
    case StackState::SwappingOut: return "swap-out";
    case StackState::Swapped: return "swapped";
    case StackState::SwappingIn: return "swap-in";
    }
    return "?";
}

namespace {

using detail::FILL;
constexpr size_t NSLOTS = LAYOUT.nslots();
// Page tables for the region are built a 2 MiB chunk at a time, on first use,
// and kept: a stack page can then always be mapped (swap-in, growth) without
// allocating a page-table page.
constexpr size_t CHUNK = 2ul << 20;
constexpr size_t NCHUNKS = vm::layout::KSTACK_SIZE / CHUNK;
constexpr size_t SLOTS_PER_TABLE = 512;
constexpr size_t NTABLES = (NSLOTS + SLOTS_PER_TABLE - 1) / SLOTS_PER_TABLE;

zalloc::Zone g_meta_zone;

ksync::SpinLock g_lock {"kstack"};              // slots, chunks, tables, global cache
uint64_t g_slot_bits[(NSLOTS + 63) / 64];      // 1 = slot in use
uint64_t g_chunk_bits[(NCHUNKS + 63) / 64];    // 1 = page tables built
Stack** g_tables[NTABLES];                     // slot -> Stack*, a page of pointers at a time
size_t g_slot_hint;
lib::List<Stack, &Stack::cache_node> g_global_cache;
size_t g_global_cache_max = 16;

// Per-hart cache: a few ready stacks, touched only by their hart, interrupts off.
constexpr unsigned HART_CACHE = CachePolicy::HART_CACHE;
struct alignas(64) HartCache {
    Stack* s[HART_CACHE];
    unsigned n;
};
HartCache g_hart_cache[cpu::MAX_HARTS];

std::atomic<uint64_t> g_in_use, g_pages, g_built, g_destroyed, g_hits, g_misses, g_guard_faults, g_max_hw;
std::atomic<uint64_t> g_cached_hart, g_cached_global;
std::atomic<uint64_t> g_grow_faults, g_grown, g_given_back, g_grow_waits;

bool test_bit(const uint64_t* b, size_t i) { return b[i / 64] & (1ull << (i % 64)); }
void set_bit(uint64_t* b, size_t i) { b[i / 64] |= 1ull << (i % 64); }
void clear_bit(uint64_t* b, size_t i) { b[i / 64] &= ~(1ull << (i % 64)); }

// Under g_lock. A slot whose chunk has page tables and whose table page exists.
lib::Result<size_t> take_slot_locked()
{
    for (size_t n = 0; n < NSLOTS; n++) {
        size_t slot = (g_slot_hint + n) % NSLOTS;
        if (test_bit(g_slot_bits, slot))
            continue;
        size_t chunk = (LAYOUT.slot_base(slot) - LAYOUT.base()) / CHUNK;
        if (!test_bit(g_chunk_bits, chunk)) {
            if (!vm::kmem::populate(LAYOUT.base() + chunk * CHUNK, CHUNK).ok())
                return lib::Error::NoMemory;
            set_bit(g_chunk_bits, chunk);
        }
        size_t t = slot / SLOTS_PER_TABLE;
        if (!g_tables[t]) {
            lib::Result<uint64_t> pa = vm::kmem::alloc_page(vm::kmem::Class::System, false);
            if (!pa.ok())
                return lib::Error::NoMemory;
            g_tables[t] = static_cast<Stack**>(vm::kmem::phys_to_virt(pa.value()));
            memset(g_tables[t], 0, PAGE_SIZE);
        }
        set_bit(g_slot_bits, slot);
        g_slot_hint = slot + 1;
        return slot;
    }
    return lib::Error::NoSpace;
}

void release_slot_locked(size_t slot)
{
    clear_bit(g_slot_bits, slot);
    g_tables[slot / SLOTS_PER_TABLE][slot % SLOTS_PER_TABLE] = nullptr;
    if (slot < g_slot_hint)
        g_slot_hint = slot;
}


// Unmap and free a stack's pages and its slot.
void destroy(Stack* s)
{
    uintptr_t bottom = LAYOUT.stack_bottom(s->slot);
    vm::tlb::Batch batch;
    for (size_t i = 0; i < STACK_PAGES; i++) {
        if (!s->pages[i])
            continue;
        (void)vm::kmem::unmap_page(bottom + i * PAGE_SIZE);
        batch.add(bottom + i * PAGE_SIZE);
    }
    // Other harts may have cached the mapping (they touched objects on this
    // stack): flush before the pages can be reused.
    batch.flush();
    for (size_t i = 0; i < STACK_PAGES; i++) {
        if (s->pages[i]) {
            vm::kmem::free_page(s->pages[i]);
            s->pages[i] = 0;
            g_pages.fetch_sub(1, std::memory_order_relaxed);
        }
    }
    {
        ksync::SpinGuard g(g_lock);
        release_slot_locked(s->slot);
    }
    s->state = StackState::Free;
    g_meta_zone.free(s);
    g_destroyed.fetch_add(1, std::memory_order_relaxed);
}

// Pages a new stack starts with (bootarg kstack_pages=N; the rest grow on
// demand, kstack/grow.cc).
size_t g_initial_pages = 1;

lib::Result<Stack*> build(bool may_block)
{
    auto* s = static_cast<Stack*>(g_meta_zone.alloc(may_block ? zalloc::M_WAITOK | zalloc::M_NULLOK : zalloc::M_NOWAIT));
    if (!s)
        return lib::Error::NoMemory;
    memset(s, 0, sizeof *s);
    lib::Result<size_t> slot = lib::Error::NoSpace;
    {
        ksync::SpinGuard g(g_lock);
        slot = take_slot_locked();
        if (slot.ok())
            g_tables[slot.value() / SLOTS_PER_TABLE][slot.value() % SLOTS_PER_TABLE] = s;
    }
    if (!slot.ok()) {
        g_meta_zone.free(s);
        return slot.error();
    }
    s->slot = static_cast<uint32_t>(slot.value());
    s->mapped_from = uint32_t(STACK_PAGES - g_initial_pages);
    uintptr_t bottom = LAYOUT.stack_bottom(s->slot);
    for (size_t i = s->mapped_from; i < STACK_PAGES; i++) {
        auto pa = vm::kmem::alloc_owned_page(vm::kmem::Class::Normal, may_block);
        if (!pa.ok() || !vm::kmem::map_page(bottom + i * PAGE_SIZE, pa->get(), vm::kmem::Perm::ReadWrite).ok()) {
            s->state = StackState::Resident;
            destroy(s);
            return lib::Error::NoMemory;
        }
        s->pages[i] = pa->release();
        g_pages.fetch_add(1, std::memory_order_relaxed);
    }
    detail::fill(mapped_bottom(s), bottom + STACK_SIZE);
    // A hart that touched this slot under its last owner (a stale pointer
    // read with a probe, the hold checker) may cache "not mapped" for it
    // even after destroy()'s shootdown: each hart flushes before it first
    // runs the new owner, as after any mapping (before_switch_in).
    detail::mark_stale(s, ~0u);
    g_built.fetch_add(1, std::memory_order_relaxed);
    return s;
}

// The deepest word the stack's last user touched, as bytes below the top.
size_t measure(const Stack* s)
{
    const auto* p = reinterpret_cast<const uint64_t*>(mapped_bottom(s));
    const auto* end = reinterpret_cast<const uint64_t*>(LAYOUT.stack_top(s->slot));
    while (p < end && *p == FILL)
        p++;
    return static_cast<size_t>(reinterpret_cast<uintptr_t>(end) - reinterpret_cast<uintptr_t>(p));
}

} // namespace

void init()
{
    uint64_t v;
    g_meta_zone.init("kstack", sizeof(Stack), vm::kmem::backend());
    if (kern::bootargs::get_number("kstack_pages", v))
        g_initial_pages = v < 1 ? 1 : v > STACK_PAGES ? STACK_PAGES : size_t(v);
    refill_grow_cache();
    g_global_cache_max = CachePolicy::global_limit(cpu::MAX_HARTS);
    if (kern::bootargs::get_number("kstack_cache", v))
        g_global_cache_max = size_t(v);
}

lib::Result<Stack*> alloc(bool may_block)
{
    refill_grow_cache(); // a new thread may grow at once
    Stack* s = nullptr;
    {
        cpu::IrqGuard irq;
        HartCache& c = g_hart_cache[cpu::id()];
        if (c.n) {
            s = c.s[--c.n];
            g_cached_hart.fetch_sub(1, std::memory_order_relaxed);
        }
    }
    if (!s) {
        ksync::SpinGuard g(g_lock);
        s = g_global_cache.pop_front();
        if (s)
            g_cached_global.fetch_sub(1, std::memory_order_relaxed);
    }
    if (s) {
        g_hits.fetch_add(1, std::memory_order_relaxed);
    } else {
        g_misses.fetch_add(1, std::memory_order_relaxed);
        s = TRY(build(may_block));
    }
    s->state = StackState::Resident;
    s->owner = nullptr;
    g_in_use.fetch_add(1, std::memory_order_relaxed);
    return s;
}

void free(Stack* s)
{
    if (!s)
        return;
    // High water of the thread that used it, then restore the pattern over
    // just the part it touched.
    size_t hw = measure(s);
    s->high_water = static_cast<uint32_t>(hw);
    uint64_t max = g_max_hw.load(std::memory_order_relaxed);
    while (hw > max && !g_max_hw.compare_exchange_weak(max, hw)) {
    }
    uintptr_t top = LAYOUT.stack_top(s->slot);
    detail::fill(top - hw, top);
    s->owner = nullptr;
    s->state = StackState::Cached;
    g_in_use.fetch_sub(1, std::memory_order_relaxed);
    // Short of memory, the pages go back at once instead of into a cache:
    // whoever is waiting for memory now (the swapper bringing back the
    // stack of a woken thread, above all) gets them without a round trip
    // through the pagedaemon's trim, and the hart caches, which it never
    // trims, do not keep up to HART_CACHE stacks per hart from it. Reaping
    // swapped threads at 64 MiB, four-page stacks: memory waits were 14.5
    // of the first 19.6 s (1,595 waits for 5,120 threads) with the caches.
    if (vm::kmem::phys().below_min()) {
        destroy(s);
        return;
    }
    {
        cpu::IrqGuard irq;
        HartCache& c = g_hart_cache[cpu::id()];
        if (CachePolicy::on_free(c.n, 0, 0) == CacheChoice::Hart) {
            c.s[c.n++] = s;
            g_cached_hart.fetch_add(1, std::memory_order_relaxed);
            return;
        }
    }
    {
        ksync::SpinGuard g(g_lock);
        if (CachePolicy::on_free(HART_CACHE, g_global_cache.size(), g_global_cache_max) == CacheChoice::Global) {
            g_global_cache.push_back(*s);
            g_cached_global.fetch_add(1, std::memory_order_relaxed);
            return;
        }
    }
    destroy(s);
}

namespace {
// On each hart in turn (smp::call_on_all): move its own cache to the global one.
void spill_hart_cache()
{
    cpu::IrqGuard irq;
    HartCache& c = g_hart_cache[cpu::id()];
    ksync::SpinGuard g(g_lock);
    while (c.n) {
        g_global_cache.push_back(*c.s[--c.n]);
        g_cached_hart.fetch_sub(1, std::memory_order_relaxed);
        g_cached_global.fetch_add(1, std::memory_order_relaxed);
    }
}
} // namespace

size_t drop_caches()
{
    kern::smp::call_on_all(spill_hart_cache);
    return trim_cache(0);
}

size_t trim_cache(size_t keep)
{
    size_t n = 0;
    for (;;) {
        Stack* s;
        {
            ksync::SpinGuard g(g_lock);
            if (g_global_cache.size() <= keep)
                return n;
            s = g_global_cache.pop_back();
            g_cached_global.fetch_sub(1, std::memory_order_relaxed);
        }
        destroy(s);
        n++;
    }
}

uintptr_t top(const Stack* s) { return LAYOUT.stack_top(s->slot); }
uintptr_t frames_top(const Stack* s) { return LAYOUT.stack_top(s->slot) - TOP_AREA_BYTES; }
void* top_area(const Stack* s) { return reinterpret_cast<void*>(LAYOUT.stack_top(s->slot) - TOP_AREA_BYTES); }
uintptr_t bottom(const Stack* s) { return LAYOUT.stack_bottom(s->slot); }
unsigned slot(const Stack* s) { return s->slot; }
StackState state(const Stack* s) { return s->state; }
void set_owner(Stack* s, kern::Thread* t)
{
    s->owner = t;
    detail::update_limit(s);
}
uintptr_t limit(const Stack* s) { return mapped_bottom(s); }
uint32_t stale_harts(const Stack* s) { return s->stale_harts.load(std::memory_order_acquire); }
size_t mapped_pages(const Stack* s) { return s->state == StackState::Resident ? STACK_PAGES - s->mapped_from : 0; }
kern::Thread* owner(const Stack* s) { return s->owner; }

Stack* from_address(uintptr_t va)
{
    if (!LAYOUT.contains(va))
        return nullptr;
    size_t slot = LAYOUT.slot_of(va);
    Stack** table = g_tables[slot / SLOTS_PER_TABLE];
    return table ? table[slot % SLOTS_PER_TABLE] : nullptr;
}

// Another thread's stack may be swapped out under us (ps runs on any hart):
// read it with probes, so a page unmapped mid-scan ends the scan instead of
// faulting, and fall back to the figure recorded at swap-out.
size_t high_water(const Stack* s)
{
    if (s->state != StackState::Resident)
        return s->high_water;
    uintptr_t top = LAYOUT.stack_top(s->slot);
    for (uintptr_t p = mapped_bottom(s); p < top; p += 8) {
        uint64_t v;
        if (probe_read_u64(p, &v) != 0)
            return s->high_water;
        if (v != FILL)
            return top - p;
    }
    return 0;
}

void before_switch_in(Stack* s, unsigned hart)
{
    if (s->state != StackState::Resident) [[unlikely]]
        panic("sched: thread %lu (%s) picked to run with its stack %s", s->owner ? s->owner->id : 0,
              s->owner ? s->owner->name : "?", state_name(s->state));
    uint32_t bit = 1u << hart;
    if (!(s->stale_harts.load(std::memory_order_acquire) & bit))
        return;
    s->stale_harts.fetch_and(~bit, std::memory_order_acq_rel);
    uintptr_t bottom = LAYOUT.stack_bottom(s->slot);
    for (size_t p = s->mapped_from; p < STACK_PAGES; p++)
        vm::tlb::flush_local(bottom + p * PAGE_SIZE);
}

namespace detail {
void mark_stale(Stack* s, uint32_t harts) { s->stale_harts.fetch_or(harts, std::memory_order_release); }

void fill(uintptr_t from, uintptr_t to)
{
    for (auto* p = reinterpret_cast<uint64_t*>(from); p < reinterpret_cast<uint64_t*>(to); p++)
        *p = FILL;
}
void update_limit(Stack* s)
{
    if (s->owner)
        s->owner->stack_limit = mapped_bottom(s);
}
void note_grown(uint64_t pages)
{
    g_grow_faults.fetch_add(1, std::memory_order_relaxed);
    g_grown.fetch_add(pages, std::memory_order_relaxed);
    g_pages.fetch_add(pages, std::memory_order_relaxed);
}
void note_grow_wait() { g_grow_waits.fetch_add(1, std::memory_order_relaxed); }
void note_given_back(uint64_t pages)
{
    g_given_back.fetch_add(pages, std::memory_order_relaxed);
    g_pages.fetch_sub(pages, std::memory_order_relaxed);
}
void account_pages(int64_t delta) { g_pages.fetch_add(uint64_t(delta), std::memory_order_relaxed); }
} // namespace detail

Stats stats()
{
    return {g_in_use.load(),  g_cached_hart.load(), g_cached_global.load(), g_pages.load(),
            g_built.load(),   g_destroyed.load(),   g_hits.load(),          g_misses.load(),
            g_guard_faults.load(), g_max_hw.load(), g_grow_faults.load(), g_grown.load(),
            g_given_back.load(), g_grow_waits.load()};
}

size_t initial_pages() { return g_initial_pages; }
void set_initial_pages(size_t n) { g_initial_pages = n < 1 ? 1 : n > STACK_PAGES ? STACK_PAGES : n; }

void mapped_histogram(uint64_t* hist)
{
    for (size_t i = 0; i <= STACK_PAGES; i++)
        hist[i] = 0;
    ksync::SpinGuard g(g_lock);
    for (size_t t = 0; t < NTABLES; t++) {
        if (!g_tables[t])
            continue;
        for (size_t i = 0; i < SLOTS_PER_TABLE; i++) {
            const Stack* s = g_tables[t][i];
            if (s && s->owner)
                hist[mapped_pages(s)]++;
        }
    }
}

void note_guard_fault() { g_guard_faults.fetch_add(1, std::memory_order_relaxed); }

} // namespace kstack
