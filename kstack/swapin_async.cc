// Swap-in at wakeup time, without the swapper thread.
//
// The swapper path costs a woken thread two hand-offs on top of the read:
// waking the swapper, then the swapper queueing the thread. Here the waker
// starts the read itself, right after sched::wake() drops the run-queue lock:
// it claims the stack, takes its pages from a small pool of pre-allocated
// pages (no allocation, so any context will do), and submits one read. The
// disk's interrupt checks the checksums, maps the pages and queues the thread.
// Anything unusual goes to the swapper, which has the whole protocol
// (allocation that may wait, retries, killing): no pages in the pool, a disk
// that does not complete in interrupts (the polled SD card), a submit that
// fails, a read error or a bad checksum (counted here; the swapper reads again).
#include "kstack/stack.h"
#include "kstack/swap_internal.h"

#include "dev/block.h"
#include "kern/console/printf.h"
#include "kern/sync/spinlock.h"
#include "kern/sched/thread.h"
#include "kern/arch/riscv/timer.h"
#include "vm/kmem.h"
#include "vm/swap.h"

#include <new>

namespace kstack::swap {
namespace {

// Enough for eight full stacks at once; the swapper tops it up.
constexpr unsigned POOL = 8 * STACK_PAGES;

ksync::SpinLock g_pool_lock {"swapin-pool"}; // nothing is taken under it
uint64_t g_pool[POOL];
unsigned g_pooled;

// A wake-time read in flight: its request, where it reads to, whose stack
// it is. At most one per pooled stack's worth of pages, so a fixed array
// beside the pool, not a part of every swapped stack's SwapMeta.
struct AsyncRead {
    dev::BlockRequest req;
    dev::BlockSegment segs[STACK_PAGES];
    uint64_t pa[STACK_PAGES];
    kern::Thread* thread;
    SwapMeta* meta;
    uint64_t woken_at, submitted_at; // timer ticks, for Timing
    bool busy;                       // under g_pool_lock
};
constexpr unsigned READS = POOL / STACK_PAGES;
AsyncRead g_reads[READS];

// A free AsyncRead and the pages for a stack whose pages [first, STACK_PAGES)
// went out; nullptr when either is short.
AsyncRead* take_pages(size_t first, bool& low)
{
    ksync::SpinGuard g(g_pool_lock);
    if (g_pooled < STACK_PAGES - first)
        return nullptr;
    AsyncRead* r = nullptr;
    for (AsyncRead& a : g_reads)
        if (!a.busy) {
            r = &a;
            break;
        }
    if (!r)
        return nullptr;
    r->busy = true;
    uint64_t* pa = r->pa;
    for (size_t p = first; p < STACK_PAGES; p++)
        pa[p] = g_pool[--g_pooled];
    low = g_pooled < POOL / 2;
    return r;
}

void put_read(AsyncRead* r)
{
    ksync::SpinGuard g(g_pool_lock);
    r->busy = false;
}

// What the pool has no room for goes back to the page allocator after the
// pool's lock is dropped: the allocator's locks rank before `swapin-pool`
// (docs/locking.md), which is taken under a run-queue lock.
void return_pages(const uint64_t* pa, size_t first)
{
    size_t p = first;
    {
        ksync::SpinGuard g(g_pool_lock);
        for (; p < STACK_PAGES && g_pooled < POOL; p++)
            g_pool[g_pooled++] = pa[p];
    }
    for (; p < STACK_PAGES; p++)
        vm::kmem::free_page(pa[p]);
}

// The disk's interrupt (or submit() on an immediate error).
void read_done(dev::BlockRequest*, lib::Status st, void* ctx)
{
    auto* rd = static_cast<AsyncRead*>(ctx);
    SwapMeta* meta = rd->meta;
    uint64_t now = detail::stamp(detail::g_time.last_device, rd->submitted_at);
    kern::Thread* t = rd->thread;
    Stack* s = t->stack;
    bool good = st.ok() && detail::first_bad_page(meta, rd->segs) == meta->pages;
    vm::swap::account_io(dev::BlockOp::Read, st, meta->pages);
    if (!good) {
        (st.ok() ? detail::g_count.checksum_errors : detail::g_count.read_errors)
            .fetch_add(1, std::memory_order_relaxed);
        kprintf("swap: reading the stack of thread %lu (%s) from block %lu failed (%s) at its wakeup; "
                "the swapper tries again\n",
                t->id, t->name, meta->block, st.ok() ? "bad checksum" : lib::error_name(st.error()));
        return_pages(rd->pa, meta->first);
        put_read(rd);
        if (detail::unclaim_swapped(t, s)) // woken: it is on the swapper's queue now
            kick();
        return;
    }
    uint64_t pa[STACK_PAGES];
    for (size_t p = meta->first; p < STACK_PAGES; p++)
        pa[p] = rd->pa[p];
    put_read(rd);
    detail::g_count.at_wakeup.fetch_add(1, std::memory_order_relaxed);
    now = detail::stamp(detail::g_time.last_verify, now);
    detail::install(t, s, meta, pa, true, false); // frees meta
    (void)detail::stamp(detail::g_time.last_install, now);
    detail::g_time.in_count.fetch_add(1, std::memory_order_relaxed);
}

} // namespace

namespace detail {

void refill_async_pool()
{
    for (;;) {
        {
            ksync::SpinGuard g(g_pool_lock);
            if (g_pooled >= POOL)
                return;
        }
        lib::Result<uint64_t> pa = vm::kmem::alloc_page(vm::kmem::Class::System, false);
        if (!pa.ok())
            return;
        {
            ksync::SpinGuard g(g_pool_lock);
            if (g_pooled < POOL) {
                g_pool[g_pooled++] = pa.value();
                continue;
            }
        }
        vm::kmem::free_page(pa.value()); // another refill filled it meanwhile
        return;
    }
}

bool async_pool_low()
{
    ksync::SpinGuard g(g_pool_lock);
    return g_pooled < POOL / 2;
}

bool start_async_swap_in(kern::Thread* t)
{
    dev::BlockDevice* d = vm::swap::device();
    if (!d || !d->completes_in_interrupt())
        return false;
    Stack* s;
    SwapMeta* meta;
    uint64_t woken_at = kern::timer::now_ticks();
    if (!claim_swapped(t, false, s, meta))
        return false;
    bool low = false;
    AsyncRead* rd = take_pages(meta->first, low);
    if (!rd) {
        if (unclaim_swapped(t, s))
            kick();
        return true; // handed to the swapper
    }
    if (low)
        kick(); // the swapper tops the pool up
    rd->woken_at = woken_at;
    rd->meta = meta;
    for (size_t p = 0; p < meta->pages; p++)
        rd->segs[p] = {vm::kmem::phys_to_virt(rd->pa[meta->first + p]), uint32_t(PAGE_SIZE)};
    rd->thread = t;
    new (&rd->req) dev::BlockRequest();
    rd->req.op = dev::BlockOp::Read;
    rd->req.sector = meta->block * vm::swap::SECTORS_PER_BLOCK;
    rd->req.nsectors = meta->pages * vm::swap::SECTORS_PER_BLOCK;
    rd->req.segs = rd->segs;
    rd->req.nsegs = meta->pages;
    rd->req.done = read_done;
    rd->req.ctx = rd;
    // The completion may run on another hart before submit() returns: the
    // start is timed up to the submit call, the device from there on.
    rd->submitted_at = detail::stamp(detail::g_time.last_start, rd->woken_at);
    if (!d->submit(rd->req).ok()) {
        return_pages(rd->pa, meta->first);
        put_read(rd);
        if (unclaim_swapped(t, s))
            kick();
    }
    return true;
}

} // namespace detail

unsigned swapin_pool_pages()
{
    ksync::SpinGuard g(g_pool_lock);
    return g_pooled;
}

unsigned swapin_pool_wanted()
{
    ksync::SpinGuard g(g_pool_lock);
    return POOL - g_pooled;
}

} // namespace kstack::swap
