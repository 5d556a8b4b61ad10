#include "kstack/grow.h"

#include "kstack/stack.h"
#include "kstack/swap_internal.h"

#include "kern/seam/cpu.h"
#include "kern/arch/riscv/csr.h"
#include "kern/arch/riscv/hart.h"
#include "kern/sched/thread.h"
#include "vm/kmem.h"
#include "vm/owned_page.h"
#include "vm/tlb.h"

#include <atomic>

namespace kstack {
namespace {

// Enough for three stacks to grow from one page to full between two refills.
constexpr unsigned GROW_CACHE = 3 * (STACK_PAGES - 1) + 1;
// For code that cannot wait (interrupts off): one stack grown from one page
// to full. Such code is a spinlock section or an interrupt handler, short
// and shallow: it rarely grows at all (an interrupt with little room runs on
// the overflow stack, kern/arch/riscv/trapentry.S).
constexpr unsigned GROW_RESERVE = STACK_PAGES - 1;
// Map this far below the faulting address too: fewer faults for the frames
// that follow.
constexpr uintptr_t GROW_SLACK = 1024;

struct Pool {
    uint64_t pa[GROW_CACHE];
    unsigned n;
};
struct alignas(64) GrowCache {
    Pool cache;   // any growth
    Pool reserve; // only growth that cannot wait; refilled first, from the interrupt class
};
GrowCache g_cache[cpu::MAX_HARTS];
std::atomic<uint64_t> g_cached_pages;

bool fill(Pool& p, unsigned want, vm::kmem::Class cls)
{
    while (p.n < want) {
        lib::Result<uint64_t> pa = vm::kmem::alloc_page(cls, false);
        if (!pa.ok())
            return false;
        p.pa[p.n++] = pa.value();
        g_cached_pages.fetch_add(1, std::memory_order_relaxed);
    }
    return true;
}

} // namespace

bool refill_grow_cache()
{
    cpu::IrqGuard irq;
    GrowCache& c = g_cache[cpu::id()];
    if (fill(c.reserve, GROW_RESERVE, vm::kmem::Class::Interrupt))
        (void)fill(c.cache, GROW_CACHE, vm::kmem::Class::System);
    return c.cache.n != 0;
}

uint64_t grow_cache_pages() { return g_cached_pages.load(std::memory_order_relaxed); }

uint64_t grow_cache_wanted()
{
    uint64_t full = 0;
    for (unsigned h = 0; h < cpu::MAX_HARTS; h++)
        if (kern::hart(h).online.load(std::memory_order_relaxed))
            full += GROW_CACHE + GROW_RESERVE;
    uint64_t have = g_cached_pages.load(std::memory_order_relaxed);
    return full > have ? full - have : 0;
}

void note_grow_wait() { detail::note_grow_wait(); }

lib::Status map_all(Stack* s, bool may_block)
{
    uintptr_t bottom = LAYOUT.stack_bottom(s->slot);
    while (s->mapped_from > 0) {
        size_t i = s->mapped_from - 1;
        vm::kmem::OwnedPage pa = TRY(vm::kmem::alloc_owned_page(vm::kmem::Class::Normal, may_block));
        if (!vm::kmem::map_stack_page(bottom + i * PAGE_SIZE, pa.get()).ok())
            return lib::Error::NoMemory;
        s->pages[i] = pa.release();
        detail::fill(bottom + i * PAGE_SIZE, bottom + (i + 1) * PAGE_SIZE);
        detail::account_pages(1);
        s->mapped_from = uint32_t(i);
    }
    detail::update_limit(s);
    // Never run yet, but another hart may have cached "not mapped" for these
    // pages while the slot had an earlier owner.
    detail::mark_stale(s, ~0u);
    return {};
}

Grow grow_on_fault(uintptr_t sp, uintptr_t need, bool atomic)
{
    Stack* s = from_address(sp);
    if (!s || s->state != StackState::Resident)
        return Grow::NotAStack;
    uintptr_t bottom = LAYOUT.stack_bottom(s->slot);
    if (sp < bottom || need < bottom)
        return Grow::Overflow;
    uintptr_t want = need - bottom > GROW_SLACK ? need - GROW_SLACK : bottom;
    size_t first = (want - bottom) / PAGE_SIZE;
    if (first >= s->mapped_from) {
        // Mapped already: this hart's limit was stale. The pages between the
        // fault and that limit may also be cached here as "not mapped" (Sv39
        // keeps invalid entries until an sfence.vma): flush them, correct the
        // limit and retry, or the retry would fault the same way for ever.
        uintptr_t stale_limit = kern::this_hart().stack_limit;
        uintptr_t stack_top = LAYOUT.stack_top(s->slot);
        for (uintptr_t va = bottom + first * PAGE_SIZE; va < stale_limit && va < stack_top; va += PAGE_SIZE)
            vm::tlb::flush_local(va);
        kern::this_hart().stack_limit = mapped_bottom(s);
        return Grow::Grown;
    }
    size_t n = s->mapped_from - first;
    GrowCache& c = g_cache[cpu::id()];
    if (c.cache.n + (atomic ? c.reserve.n : 0) < n)
        return Grow::NoPage;
    for (size_t i = s->mapped_from; i-- > first;) {
        Pool& from = c.cache.n ? c.cache : c.reserve;
        uint64_t pa = from.pa[--from.n];
        uintptr_t va = bottom + i * PAGE_SIZE;
        if (!vm::kmem::map_stack_page(va, pa).ok())
            return Grow::NotAStack; // already mapped: the bookkeeping is wrong; report it
        vm::tlb::flush_local(va);
        s->pages[i] = pa;
        detail::fill(va, va + PAGE_SIZE);
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
    csr_set(sip, SIE_SSIE);
    return Grow::Grown;
}

} // namespace kstack
