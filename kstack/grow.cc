#include "kstack/grow.h"

#include "kstack/stack.h"
#include "kstack/swap_internal.h"

#include "kern/cpu.h"
#include "kern/csr.h"
#include "kern/hart.h"
#include "kern/thread.h"
#include "vm/kmem.h"
#include "vm/tlb.h"

#include <atomic>

namespace kstack {
namespace {

// Enough for three stacks to grow from one page to full between two refills.
constexpr unsigned GROW_CACHE = 3 * (STACK_PAGES - 1) + 1;
// Map this far below the faulting address too: the trap handler's own frames
// go there before the trap returns.
constexpr uintptr_t GROW_SLACK = 1024;

struct alignas(64) GrowCache {
    uint64_t pa[GROW_CACHE];
    unsigned n;
};
GrowCache g_cache[cpu::MAX_HARTS];
std::atomic<uint64_t> g_cached_pages;

} // namespace

void refill_grow_cache()
{
    cpu::IrqGuard irq;
    GrowCache& c = g_cache[cpu::id()];
    while (c.n < GROW_CACHE) {
        lib::Result<uint64_t> pa = vm::kmem::alloc_page(vm::kmem::Class::System, false);
        if (!pa.ok())
            return;
        c.pa[c.n++] = pa.value();
        g_cached_pages.fetch_add(1, std::memory_order_relaxed);
    }
}

uint64_t grow_cache_pages() { return g_cached_pages.load(std::memory_order_relaxed); }

Grow grow_on_fault(uintptr_t sp, uintptr_t need)
{
    Stack* s = from_address(sp);
    if (!s || s->state != StackState::Resident)
        return Grow::NotAStack;
    uintptr_t bottom = LAYOUT.stack_bottom(s->slot);
    if (sp < bottom || need < bottom)
        return Grow::Overflow;
    uintptr_t want = need - bottom > GROW_SLACK ? need - GROW_SLACK : bottom;
    size_t first = (want - bottom) / PAGE;
    if (first >= s->mapped_from) {
        // Mapped already: this hart's limit was stale. Correct it and retry.
        kern::this_hart().stack_limit = mapped_bottom(s);
        return Grow::Grown;
    }
    size_t n = s->mapped_from - first;
    GrowCache& c = g_cache[cpu::id()];
    if (c.n < n)
        return Grow::CacheEmpty;
    for (size_t i = s->mapped_from; i-- > first;) {
        uint64_t pa = c.pa[--c.n];
        uintptr_t va = bottom + i * PAGE;
        if (!vm::kmem::map_stack_page(va, pa).ok())
            return Grow::NotAStack; // already mapped: the bookkeeping is wrong; report it
        vm::tlb::flush_local(va);
        s->pages[i] = pa;
        detail::fill(va, va + PAGE);
    }
    g_cached_pages.fetch_sub(n, std::memory_order_relaxed);
    s->mapped_from = uint32_t(first);
    s->grow_faults++;
    detail::update_limit(s);
    kern::this_hart().stack_limit = mapped_bottom(s);
    detail::note_grown(n);
    // Another hart may hold a stale "not mapped" for these pages (Sv39 allows
    // caching invalid entries): it flushes them before it next runs this thread.
    detail::mark_stale(s, ~(1u << cpu::id()));
    // The cache is refilled in the soft-interrupt handler, which runs as soon
    // as the faulting code has interrupts on again, so holds no spinlock.
    csr_set(sip, csr::SIE_SSIE);
    return Grow::Grown;
}

} // namespace kstack
