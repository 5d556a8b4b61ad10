// Swap-out: choose stacks, claim them, write them in clusters, unmap, shoot
// down the TLBs once per pass, free the pages. Called by the pagedaemon and
// the emergency pager (vm/pageout.cc). Nothing here waits for memory
// (kstack/swap.h says why it must not).
//
// The writes are pipelined: while up to IO_DEPTH clusters are on their way to
// the disk, the next one is claimed and checksummed, so the CPU's share of a
// swap-out overlaps the device's. When every write of a wave (up to WAVE
// clusters) is back, its stacks are unmapped with one TLB shootdown for all
// of them and their pages freed, while the disk goes on with the next wave's
// first clusters.
#include "kstack/checksum.h"
#include "kstack/stack.h"
#include "kstack/swap.h"
#include "kstack/swap_internal.h"

#include "dev/block.h"
#include "kern/arch/riscv/hart.h"
#include "kern/sched/sched.h"
#include "kern/sync/spinlock.h"
#include "kern/sync/wait.h"
#include "kern/sched/thread.h"
#include "kern/arch/riscv/timer.h"
#include "vm/kmem.h"
#include "vm/swap.h"
#include "vm/swap_policy.h"
#include "vm/tlb.h"

#include <atomic>
#include <new>

namespace kstack::swap {

// One pass looks at the MAX_SCAN longest sleepers; a cluster is at most
// CLUSTER_STACKS stacks (32 pages, 128 KiB: one write request of 32 device
// segments, well inside a virtio disk's limit).
constexpr size_t MAX_SCAN = 256;
constexpr size_t CLUSTER_STACKS = 8;
constexpr uint32_t CLUSTER_PAGES = CLUSTER_STACKS * STACK_PAGES;

// A wave: up to WAVE clusters (detail::WAVE_STACKS stacks) written, then
// unmapped with one shootdown and freed, with at most IO_DEPTH clusters of
// the next wave claimed meanwhile. Waves keep the metadata a pass holds
// before it frees anything small: at zero free memory the metadata zone's
// held-back items cover a wave and those clusters (swapin.cc).
constexpr size_t WAVE = detail::WAVE_STACKS / CLUSTER_STACKS;
static_assert(WAVE * CLUSTER_STACKS == detail::WAVE_STACKS);
constexpr size_t IO_DEPTH = 4;
static_assert(IO_DEPTH * CLUSTER_STACKS == detail::AHEAD_STACKS);
// Cluster slots: a wave written and being finished, and IO_DEPTH clusters of
// the next one on their way meanwhile.
constexpr size_t RING = WAVE + IO_DEPTH;

struct Item {
    kern::Thread* t;
    Stack* s;
    SwapMeta* meta;
    bool going; // still on its way out (not cancelled)
};

// One write: up to CLUSTER_STACKS stacks in one request.
struct Cluster {
    Item items[CLUSTER_STACKS];
    size_t m;
    uint64_t run, blocks;
    dev::BlockSegment segs[CLUSTER_PAGES]; // one per page, direct-map addresses
    uint32_t nsegs;
    dev::BlockRequest req;
    bool done;          // under Scratch::io_lock
    lib::Status status;
    struct Scratch* sc;
};

struct Scratch {
    vm::swap_policy::Candidate cand[MAX_SCAN];
    kern::Thread* thread[MAX_SCAN];
    uint64_t seq[MAX_SCAN];
    uint32_t chosen[MAX_SCAN];
    size_t n;
    uint64_t cutoff; // the scan: sleeps that began after this are too recent
    Cluster cl[RING];
    uint64_t freed[detail::WAVE_STACKS * STACK_PAGES]; // a wave's pages, freed in one batch
    Item* fin[detail::WAVE_STACKS];                     // a wave's stacks that went out,
    kern::Thread* fin_t[detail::WAVE_STACKS];           //   and their threads
    ksync::SpinLock io_lock {"swapout-io"}; // a leaf: completion flags
};

namespace {

// The chain's value after each count of leading fill words (checksum.h).
constexpr FillPrefix FILL_PREFIX(PAGE_SIZE, kstack::detail::FILL);
static_assert(PAGE_SIZE / 8 <= checksum_detail::MAX_WORDS);

Scratch g_scratch[3];
std::atomic<uint64_t> g_idle_us {2000000};

uint64_t us_to_ticks(uint64_t us) { return us * kern::timer::timebase_hz() / 1000000; }

// The scan: each hart's sleepers, oldest first (sched::for_each_sleeper,
// under that hart's run-queue lock, interrupts off). Keep the MAX_SCAN
// longest sleepers of all harts, cand[] a max-heap on sleep_since (the most
// recent sleeper on top, the one to evict). A hart's list is left at the
// first sleep too recent for the idle threshold, or newer than every one
// kept: so a pass looks at about MAX_SCAN threads per hart, however many
// threads there are. claim() re-checks each under the run-queue lock.
// cand[].id indexes thread[] and seq[].
void sift_down(vm::swap_policy::Candidate* c, size_t n, size_t i)
{
    for (;;) {
        size_t big = i, l = 2 * i + 1, r = l + 1;
        if (l < n && c[l].sleep_since > c[big].sleep_since)
            big = l;
        if (r < n && c[r].sleep_since > c[big].sleep_since)
            big = r;
        if (big == i)
            return;
        vm::swap_policy::Candidate t = c[i];
        c[i] = c[big];
        c[big] = t;
        i = big;
    }
}

void sift_up(vm::swap_policy::Candidate* c, size_t i)
{
    while (i > 0 && c[(i - 1) / 2].sleep_since < c[i].sleep_since) {
        vm::swap_policy::Candidate t = c[i];
        c[i] = c[(i - 1) / 2];
        c[(i - 1) / 2] = t;
        i = (i - 1) / 2;
    }
}

bool consider(Scratch& sc, kern::Thread& t)
{
    detail::g_time.scan_visits.fetch_add(1, std::memory_order_relaxed);
    if (t.sleep_since > sc.cutoff || (sc.n == MAX_SCAN && sc.cand[0].sleep_since <= t.sleep_since))
        return false; // this one and every later one on this hart are more recent
    if (!t.stack || (t.flags & kern::TF_NO_SWAP) || t.state != kern::ThreadState::Sleeping ||
        t.stack_holds.held() || t.stack->state != StackState::Resident)
        return true;
    vm::swap_policy::Candidate c {.sleep_since = t.sleep_since, .holds = 0,
                                  .pages = uint32_t(STACK_PAGES - t.stack->mapped_from), .sleeping = true,
                                  .no_swap = false, .resident = true, .id = 0};
    if (sc.n < MAX_SCAN) {
        c.id = uint32_t(sc.n);
        sc.thread[sc.n] = &t;
        sc.seq[sc.n] = t.sleep_seq;
        sc.cand[sc.n] = c;
        sift_up(sc.cand, sc.n++);
        return true;
    }
    c.id = sc.cand[0].id; // evict the most recent sleeper, reuse its slot
    sc.thread[c.id] = &t;
    sc.seq[c.id] = t.sleep_seq;
    sc.cand[0] = c;
    sift_down(sc.cand, MAX_SCAN, 0);
    return true;
}

} // namespace

namespace detail {

// Take a stack for swap-out if its thread is still in the same sleep and
// still eligible: Resident -> SwappingOut under the run-queue lock, so a
// wakeup from now on only marks it wanted.
namespace {
// claim()'s test and state change, the thread's run-queue lock held.
Stack* claim_locked(kern::Thread* th, uint64_t seq, uint64_t cutoff)
{
    Stack* s = th->stack;
    if (th->state != kern::ThreadState::Sleeping || th->sleep_seq != seq || th->on_cpu.load() ||
        th->stack_holds.held() || (th->flags & kern::TF_NO_SWAP) || !s || s->state != StackState::Resident ||
        th->sleep_since > cutoff)
        return nullptr;
    s->state = StackState::SwappingOut;
    s->wanted = false;
    kern::sched::drop_sleeper_locked(th); // no longer a candidate
    return s;
}
} // namespace

Stack* claim(kern::Thread* t, uint64_t seq, uint64_t cutoff)
{
    Stack* got = nullptr;
    kern::sched::with_thread_locked(t, [&](kern::Thread* th) { got = claim_locked(th, seq, cutoff); });
    return got;
}

// Back to Resident without having freed anything (write failed, no space,
// or woken before the pages went): queue the thread if a wakeup came.
void keep_resident(kern::Thread* t, Stack* s)
{
    bool run = false;
    auto fn = [&](kern::Thread* th) {
        s->state = StackState::Resident;
        run = s->wanted && th->state == kern::ThreadState::Runnable;
        s->wanted = false;
        kern::sched::add_sleeper_locked(th); // still asleep: a candidate again
    };
    kern::sched::with_thread_locked(t, fn);
    if (run)
        kern::sched::enqueue_new(t);
}

} // namespace detail

namespace {

using detail::claim;
using detail::keep_resident;

// Claim up to n stacks, give each its metadata, a place on swap and its
// checksums, and build the write. False if nothing is left to write.
bool prepare(Cluster& cl, kern::Thread* const* threads, const uint64_t* seqs, size_t n, uint64_t cutoff, OutResult& r)
{
    cl.m = 0;
    // The claims a run-queue lock hold per hart (the caller groups the
    // threads by hart); the metadata after, outside the lock.
    Stack* got[CLUSTER_STACKS];
    kern::sched::with_threads_locked(threads, n, [&](size_t i, kern::Thread* th) {
        got[i] = detail::claim_locked(th, seqs[i], cutoff);
    });
    for (size_t i = 0; i < n; i++) {
        Stack* s = got[i];
        if (!s)
            continue;
        SwapMeta* meta = detail::alloc_meta();
        if (!meta) {
            detail::g_count.meta_failures.fetch_add(1, std::memory_order_relaxed);
            keep_resident(threads[i], s);
            continue;
        }
        cl.items[cl.m++] = {threads[i], s, meta, true};
    }
    if (cl.m == 0)
        return false;

    // Only the mapped part of each stack goes out (stacks grow on demand).
    auto pages_of = [&](size_t count) {
        uint32_t k = 0;
        for (size_t i = 0; i < count; i++)
            k += uint32_t(STACK_PAGES - cl.items[i].s->mapped_from);
        return k;
    };
    lib::Result<uint64_t> run = vm::swap::space().alloc(pages_of(cl.m));
    if (!run.ok()) {
        // Full (or too fragmented for the whole cluster): send as many as fit,
        // keep the rest, and tell the caller to stop.
        detail::g_count.full.fetch_add(1, std::memory_order_relaxed);
        r.full = true;
        size_t fit = cl.m;
        while (!run.ok() && --fit > 0)
            run = vm::swap::space().alloc(pages_of(fit));
        for (size_t i = fit; i < cl.m; i++) {
            detail::free_meta(cl.items[i].meta);
            keep_resident(cl.items[i].t, cl.items[i].s);
        }
        cl.m = fit;
        if (cl.m == 0)
            return false;
    }

    // Checksums first: the thread is not running and nothing on its stack is
    // linked anywhere (no holds), so the pages cannot change from here on.
    cl.run = run.value();
    cl.nsegs = 0;
    uint64_t block = cl.run;
    for (size_t i = 0; i < cl.m; i++) {
        Stack* s = cl.items[i].s;
        SwapMeta* meta = cl.items[i].meta;
        meta->block = block;
        meta->first = s->mapped_from;
        meta->pages = uint32_t(STACK_PAGES - s->mapped_from);
        // One read of each page: its checksum, and the untouched fill words
        // from the mapped bottom up (the deepest use, kstack.cc's measure()).
        // Read, and handed to the disk, through the direct map (s->pages[]
        // holds each page's physical address): the driver then finds each
        // page's physical address without a page-table walk under the kernel
        // page-table lock, which cost it more than the device notify (two
        // walks of 32 pages per request, docs/swap.md), and this hart never
        // loads the stack region's entries into its TLB.
        size_t untouched = 0;
        bool filled = true;
        for (size_t p = meta->first; p < STACK_PAGES; p++) {
            void* va = vm::kmem::phys_to_virt(s->pages[p]);
            cl.segs[cl.nsegs++] = {va, uint32_t(PAGE_SIZE)};
            PageScan ps = scan_page(va, FILL_PREFIX);
            meta->sum[p] = ps.sum;
            if (filled) {
                untouched += ps.leading * 8;
                filled = ps.leading == PAGE_SIZE / 8;
            }
        }
        s->high_water = uint32_t(size_t(meta->pages) * PAGE_SIZE - untouched);
        block += meta->pages;
    }
    cl.blocks = block - cl.run;
    return true;
}

// The disk's interrupt (or submit() on an immediate error).
void write_done(dev::BlockRequest*, lib::Status st, void* ctx)
{
    auto& cl = *static_cast<Cluster*>(ctx);
    vm::swap::account_io(dev::BlockOp::Write, st, cl.blocks);
    ksync::SpinGuard g(cl.sc->io_lock);
    cl.status = st;
    cl.done = true;
    ksync::wakeup(cl.sc);
}

void submit(Scratch& sc, Cluster& cl)
{
    cl.sc = &sc;
    cl.done = false;
    new (&cl.req) dev::BlockRequest();
    cl.req.op = dev::BlockOp::Write;
    cl.req.sector = cl.run * vm::swap::SECTORS_PER_BLOCK;
    cl.req.nsectors = uint32_t(cl.blocks * vm::swap::SECTORS_PER_BLOCK);
    cl.req.segs = cl.segs;
    cl.req.nsegs = cl.nsegs;
    cl.req.done = write_done;
    cl.req.ctx = &cl;
    lib::Status st = vm::swap::device()->submit(cl.req);
    if (!st.ok()) { // refused: `done` will not be called
        vm::swap::account_io(dev::BlockOp::Write, st, cl.blocks);
        ksync::SpinGuard g(sc.io_lock);
        cl.status = st;
        cl.done = true;
    }
}

void wait(Scratch& sc, Cluster& cl)
{
    ksync::SpinGuard g(sc.io_lock);
    while (!cl.done)
        (void)ksync::sleep_on(&sc, &sc.io_lock, 0, "swap-out I/O");
}

// A written cluster: a stack whose thread was woken during the write stays
// (cheaper than reading it back). A failed write keeps the whole cluster.
void settle(Cluster& cl, OutResult& r)
{
    if (!cl.status.ok()) {
        detail::g_count.write_errors.fetch_add(1, std::memory_order_relaxed);
        r.io_error = true;
        vm::swap::space().free(cl.run, uint32_t(cl.blocks));
        for (size_t i = 0; i < cl.m; i++) {
            cl.items[i].going = false;
            detail::free_meta(cl.items[i].meta);
            keep_resident(cl.items[i].t, cl.items[i].s);
        }
        return;
    }
    for (size_t i = 0; i < cl.m; i++) {
        Item& it = cl.items[i];
        // Without the run-queue lock: while the stack is SwappingOut only a
        // wakeup writes `wanted`, and only from false to true, so a true read
        // is final; a wakeup this read misses is seen by finish() under the
        // lock, which hands the thread to the swapper (correct, only dearer).
        if (!std::atomic_ref<bool>(it.s->wanted).load(std::memory_order_relaxed))
            continue;
        it.going = false;
        vm::swap::space().free(it.meta->block, it.meta->pages);
        detail::free_meta(it.meta);
        keep_resident(it.t, it.s);
        detail::g_count.cancelled.fetch_add(1, std::memory_order_relaxed);
        r.cancelled++;
    }
}

// The stacks that went out, their pages already freed (finish_wave):
// Swapped, and straight to the swapper if a thread was woken while they
// went. One run-queue lock hold per hart for the lot (grouped by hart).
void mark_swapped(Scratch& sc, size_t n, OutResult& r)
{
    bool kick = false;
    kern::sched::with_threads_locked(sc.fin_t, n, [&](size_t i, kern::Thread* th) {
        Item& it = *sc.fin[i];
        it.s->meta = it.meta;
        it.s->state = StackState::Swapped;
        if (it.s->wanted && th->state == kern::ThreadState::Runnable) {
            detail::queue_for_swapin_locked(th);
            kick = true;
        } else {
            kern::sched::add_swapped_locked(th); // for an early swap-in
        }
    });
    if (kick)
        swap::kick();
    r.stacks += n; // from here a swap-in may free the metadata: read nothing of it
}

// Order xs[0..n) (and ys with them) by their threads' harts, read without
// a lock: only a hint for with_threads_locked, which checks under the lock.
template <typename T>
void group_by_hart(kern::Thread** ts, T* ys, size_t n)
{
    for (size_t i = 1; i < n; i++)
        for (size_t j = i; j > 0 && ts[j - 1]->hart > ts[j]->hart; j--) {
            kern::Thread* t = ts[j];
            ts[j] = ts[j - 1];
            ts[j - 1] = t;
            T y = ys[j];
            ys[j] = ys[j - 1];
            ys[j - 1] = y;
        }
}

// The pipeline's position (cluster counts since the pass began; cluster n
// is in slot n % RING): submitted, written (waited for, oldest first), and
// finished (settled, unmapped, freed).
struct Pipe {
    uint64_t made = 0, waited = 0, finished = 0;
    uint64_t pending_blocks = 0; // written or on their way, not finished yet
    bool drain = false;          // out of metadata: finish everything first
};

Cluster& slot(Scratch& sc, uint64_t n) { return sc.cl[n % RING]; }

void wait_oldest(Scratch& sc, Pipe& p, OutResult& r)
{
    uint64_t w0 = kern::timer::now_ticks();
    Cluster& cl = slot(sc, p.waited++);
    wait(sc, cl);
    (void)detail::charge(detail::g_time.out_io_wait, w0);
    r.io_error = r.io_error || !cl.status.ok();
}

// Finish the written clusters [p.finished, upto): settle the wakeups, unmap
// everything that goes with one shootdown, free the pages. The disk writes
// the next wave's first clusters meanwhile.
void finish_wave(Scratch& sc, Pipe& p, uint64_t upto, OutResult& r)
{
    uint64_t t1 = kern::timer::now_ticks();
    for (uint64_t c = p.finished; c < upto; c++)
        settle(slot(sc, c), r);
    vm::tlb::Batch batch;
    for (uint64_t c = p.finished; c < upto; c++) {
        Cluster& cl = slot(sc, c);
        for (size_t j = 0; j < cl.m; j++) {
            Item& it = cl.items[j];
            if (!it.going)
                continue;
            uintptr_t from = LAYOUT.stack_bottom(it.s->slot) + it.meta->first * PAGE_SIZE;
            uint64_t old[STACK_PAGES];
            vm::kmem::unmap_stack_pages(from, it.meta->pages, old);
            for (size_t pg = 0; pg < it.meta->pages; pg++)
                batch.add(from + pg * PAGE_SIZE);
        }
    }
    t1 = detail::charge(detail::g_time.out_unmap, t1);
    batch.flush();
    t1 = detail::charge(detail::g_time.out_shootdown, t1);
    // The wave's pages go back in one batch (one lock hold of this hart's
    // page cache, one wakeup of memory waiters), taken out of their Stacks
    // before any is marked Swapped: from then on a swap-in may install new
    // pages there.
    size_t nfree = 0;
    for (uint64_t c = p.finished; c < upto; c++) {
        Cluster& cl = slot(sc, c);
        for (size_t j = 0; j < cl.m; j++) {
            Item& it = cl.items[j];
            if (!it.going)
                continue;
            for (size_t pg = it.meta->first; pg < STACK_PAGES; pg++) {
                sc.freed[nfree++] = it.s->pages[pg];
                it.s->pages[pg] = 0;
            }
        }
    }
    vm::kmem::free_page_batch(sc.freed, nfree);
    kstack::detail::account_pages(-int64_t(nfree));
    size_t nfin = 0;
    for (uint64_t c = p.finished; c < upto; c++) {
        Cluster& cl = slot(sc, c);
        for (size_t j = 0; j < cl.m; j++)
            if (cl.items[j].going) {
                sc.fin[nfin] = &cl.items[j];
                sc.fin_t[nfin++] = cl.items[j].t;
            }
        p.pending_blocks -= cl.blocks;
    }
    group_by_hart(sc.fin_t, sc.fin, nfin);
    r.pages_freed += nfree;
    mark_swapped(sc, nfin, r);
    detail::g_count.swapped.fetch_add(nfin, std::memory_order_relaxed);
    detail::g_count.swap_outs.fetch_add(nfin, std::memory_order_relaxed);
    detail::g_count.pages_out.fetch_add(nfree, std::memory_order_relaxed);
    p.finished = upto;
    (void)detail::charge(detail::g_time.out_free, t1);
}

// Write chosen[*i..k) in clusters, IO_DEPTH on their way to the disk at a
// time, each prepared while the ones before it are written; a wave (WAVE
// clusters) is finished as soon as all of it is written, while the disk
// goes on with the next wave's first clusters.
void pipeline(Scratch& sc, size_t& i, size_t k, uint64_t need_pages, uint64_t cutoff, OutResult& r)
{
    kern::Thread* threads[CLUSTER_STACKS];
    uint64_t seqs[CLUSTER_STACKS];
    Pipe p;
    for (;;) {
        if (p.waited - p.finished == WAVE) {
            finish_wave(sc, p, p.waited, r);
            continue;
        }
        if (p.drain && p.made == p.finished)
            p.drain = false; // this wave's pages are back: the metadata zone refills from them
        bool more = !p.drain && i < k && r.pages_freed + p.pending_blocks < need_pages && !r.full && !r.io_error;
        if (more) {
            // Slots: a wave written, IO_DEPTH after it on their way, this one.
            size_t c = vm::swap_policy::cluster_size(k - i, uint32_t(STACK_PAGES), CLUSTER_PAGES);
            for (size_t j = 0; j < c; j++) {
                threads[j] = sc.thread[sc.chosen[i + j]];
                seqs[j] = sc.seq[sc.chosen[i + j]];
            }
            group_by_hart(threads, seqs, c);
            i += c;
            uint64_t meta_failures = detail::g_count.meta_failures.load(std::memory_order_relaxed);
            Cluster& cl = slot(sc, p.made);
            uint64_t t0 = kern::timer::now_ticks();
            bool any = prepare(cl, threads, seqs, c, cutoff, r);
            (void)detail::charge(detail::g_time.out_prepare, t0);
            if (any) {
                while (p.made - p.waited >= IO_DEPTH)
                    wait_oldest(sc, p, r);
                t0 = kern::timer::now_ticks();
                submit(sc, cl);
                (void)detail::charge(detail::g_time.out_submit, t0);
                p.made++;
                p.pending_blocks += cl.blocks;
                // Per cluster: the swapper's early swap-ins wait for a quiet second.
                detail::g_count.last_out_us.store(kern::timer::now_us(), std::memory_order_relaxed);
            }
            // Out of metadata: free what is out first, the zone refills from those pages.
            if (detail::g_count.meta_failures.load(std::memory_order_relaxed) != meta_failures)
                p.drain = true;
            continue;
        }
        if (p.made > p.waited) {
            wait_oldest(sc, p, r);
            continue;
        }
        if (p.waited > p.finished) {
            finish_wave(sc, p, p.waited, r);
            continue;
        }
        return; // nothing in flight, nothing left to finish, nothing more to claim
    }
}

} // namespace

Scratch& scratch(unsigned which) { return g_scratch[which < 3 ? which : 2]; }

uint64_t idle_us() { return g_idle_us.load(std::memory_order_relaxed); }
void set_idle_us(uint64_t us) { g_idle_us.store(us, std::memory_order_relaxed); }

OutResult swap_out(Scratch& sc, uint64_t need_pages, uint64_t idle)
{
    OutResult r;
    if (!vm::swap::enabled() || need_pages == 0)
        return r;
    sc.n = 0;
    uint64_t now = kern::timer::now_ticks();
    uint64_t scan0 = now;
    uint64_t idle_ticks = us_to_ticks(idle);
    sc.cutoff = now >= idle_ticks ? now - idle_ticks : 0;
    for (unsigned h = 0; h < cpu::MAX_HARTS; h++)
        if (kern::hart(h).online.load(std::memory_order_relaxed))
            kern::sched::for_each_sleeper(h, [&sc](kern::Thread& t) { return consider(sc, t); });
    size_t k = vm::swap_policy::select(sc.cand, sc.n, now, idle_ticks, need_pages, sc.chosen, MAX_SCAN);
    (void)detail::charge(detail::g_time.out_scan, scan0);
    if (k == 0) {
        r.no_candidates = true;
        return r;
    }
    // chosen[] holds indices into thread[]/seq[] (select sorted cand[] in place).
    uint64_t cutoff = now >= idle_ticks ? now - idle_ticks : 0;
    size_t i = 0;
    // While a pass runs (a slow disk may take seconds), the swapper brings
    // nothing back early: that is what the pass is freeing memory from.
    detail::g_count.outs_running.fetch_add(1, std::memory_order_acq_rel);
    pipeline(sc, i, k, need_pages, cutoff, r);
    detail::g_count.last_out_us.store(kern::timer::now_us(), std::memory_order_relaxed);
    detail::g_count.outs_running.fetch_sub(1, std::memory_order_acq_rel);
    return r;
}

} // namespace kstack::swap
