// Swap-out: choose stacks, claim them, write them in clusters, unmap, shoot
// down the TLBs once per cluster, free the pages. Called by the pagedaemon and
// the emergency pager (vm/pageout.cc). Nothing here waits for memory
// (kstack/swap.h says why it must not).
#include "kstack/checksum.h"
#include "kstack/stack.h"
#include "kstack/swap.h"
#include "kstack/swap_internal.h"

#include "dev/block.h"
#include "kern/sched.h"
#include "kern/thread.h"
#include "kern/timer.h"
#include "vm/kmem.h"
#include "vm/swap.h"
#include "vm/swap_policy.h"
#include "vm/tlb.h"

namespace kstack::swap {

// One pass looks at the MAX_SCAN longest sleepers; a cluster is at most
// CLUSTER_STACKS stacks (32 pages, 128 KiB: one write request of 32 device
// segments, well inside a virtio disk's limit).
constexpr size_t MAX_SCAN = 256;
constexpr size_t CLUSTER_STACKS = 8;
constexpr uint32_t CLUSTER_PAGES = CLUSTER_STACKS * STACK_PAGES;

struct Scratch {
    vm::swap_policy::Candidate cand[MAX_SCAN];
    kern::Thread* thread[MAX_SCAN];
    uint64_t seq[MAX_SCAN];
    uint32_t chosen[MAX_SCAN];
    size_t n;
};

namespace {

Scratch g_scratch[3];
std::atomic<uint64_t> g_idle_us {2000000};

uint64_t us_to_ticks(uint64_t us) { return us * kern::timer::timebase_hz() / 1000000; }

// Thread-list walk (under its lock, interrupts off): keep the MAX_SCAN
// longest sleepers that look eligible, cand[] a max-heap on sleep_since (the
// most recent sleeper on top, the one to evict), so a walk of n threads costs
// n log MAX_SCAN. The reads are racy; claim() re-checks under the run-queue
// lock. cand[].id indexes thread[] and seq[].
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

void consider(kern::Thread& t, void* ctx)
{
    auto& sc = *static_cast<Scratch*>(ctx);
    if (!t.stack || (t.flags & kern::TF_NO_SWAP) || t.state != kern::ThreadState::Sleeping ||
        t.stack_holds.held() || t.stack->state != StackState::Resident)
        return;
    vm::swap_policy::Candidate c {.sleep_since = t.sleep_since, .holds = 0,
                                  .pages = uint32_t(STACK_PAGES - t.stack->mapped_from), .sleeping = true,
                                  .no_swap = false, .resident = true, .id = 0};
    if (sc.n < MAX_SCAN) {
        c.id = uint32_t(sc.n);
        sc.thread[sc.n] = &t;
        sc.seq[sc.n] = t.sleep_seq;
        sc.cand[sc.n] = c;
        sift_up(sc.cand, sc.n++);
        return;
    }
    if (sc.cand[0].sleep_since <= t.sleep_since)
        return; // more recent than every one kept
    c.id = sc.cand[0].id; // evict the most recent sleeper, reuse its slot
    sc.thread[c.id] = &t;
    sc.seq[c.id] = t.sleep_seq;
    sc.cand[0] = c;
    sift_down(sc.cand, MAX_SCAN, 0);
}

} // namespace

namespace detail {

// Take a stack for swap-out if its thread is still in the same sleep and
// still eligible: Resident -> SwappingOut under the run-queue lock, so a
// wakeup from now on only marks it wanted.
Stack* claim(kern::Thread* t, uint64_t seq, uint64_t cutoff)
{
    Stack* got = nullptr;
    auto fn = [&](kern::Thread* th) {
        Stack* s = th->stack;
        if (th->state != kern::ThreadState::Sleeping || th->sleep_seq != seq || th->on_cpu.load() ||
            th->stack_holds.held() || (th->flags & kern::TF_NO_SWAP) || !s || s->state != StackState::Resident ||
            th->sleep_since > cutoff)
            return;
        s->state = StackState::SwappingOut;
        s->wanted = false;
        got = s;
    };
    kern::sched::with_thread_locked(t, fn);
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
    };
    kern::sched::with_thread_locked(t, fn);
    if (run)
        kern::sched::enqueue_new(t);
}

} // namespace detail

namespace {

using detail::claim;
using detail::keep_resident;

struct Item {
    kern::Thread* t;
    Stack* s;
    SwapMeta* meta;
    bool going; // still on its way out (not cancelled)
};

// Write one cluster; returns pages freed.
uint64_t write_cluster(kern::Thread* const* threads, const uint64_t* seqs, size_t n, uint64_t cutoff,
                       OutResult& r)
{
    Item items[CLUSTER_STACKS];
    size_t m = 0;
    for (size_t i = 0; i < n; i++) {
        Stack* s = claim(threads[i], seqs[i], cutoff);
        if (!s)
            continue;
        SwapMeta* meta = detail::alloc_meta();
        if (!meta) {
            detail::g_count.meta_failures.fetch_add(1, std::memory_order_relaxed);
            keep_resident(threads[i], s);
            continue;
        }
        items[m++] = {threads[i], s, meta, true};
    }
    if (m == 0)
        return 0;

    auto undo_all = [&]() {
        for (size_t i = 0; i < m; i++) {
            detail::free_meta(items[i].meta);
            keep_resident(items[i].t, items[i].s);
        }
    };
    // Only the mapped part of each stack goes out (stacks grow on demand).
    auto pages_of = [&](size_t count) {
        uint32_t n = 0;
        for (size_t i = 0; i < count; i++)
            n += uint32_t(STACK_PAGES - items[i].s->mapped_from);
        return n;
    };
    lib::Result<uint64_t> run = vm::swap::space().alloc(pages_of(m));
    if (!run.ok()) {
        // Full (or too fragmented for the whole cluster): send as many as fit,
        // keep the rest, and tell the caller to stop.
        detail::g_count.full.fetch_add(1, std::memory_order_relaxed);
        r.full = true;
        size_t fit = m;
        while (!run.ok() && --fit > 0)
            run = vm::swap::space().alloc(pages_of(fit));
        for (size_t i = fit; i < m; i++) {
            detail::free_meta(items[i].meta);
            keep_resident(items[i].t, items[i].s);
        }
        m = fit;
        if (m == 0)
            return 0;
    }

    // Checksums first: the thread is not running and nothing on its stack is
    // linked anywhere (no holds), so the pages cannot change from here on.
    dev::BlockSegment segs[CLUSTER_STACKS];
    uint64_t block = run.value();
    for (size_t i = 0; i < m; i++) {
        Stack* s = items[i].s;
        SwapMeta* meta = items[i].meta;
        uintptr_t from = mapped_bottom(s);
        s->high_water = uint32_t(kstack::detail::deepest_use(s));
        meta->block = block;
        meta->first = s->mapped_from;
        meta->pages = uint32_t(STACK_PAGES - s->mapped_from);
        for (size_t p = meta->first; p < STACK_PAGES; p++)
            meta->sum[p] = page_checksum(reinterpret_cast<const void*>(LAYOUT.stack_bottom(s->slot) + p * PAGE), PAGE);
        segs[i] = {reinterpret_cast<void*>(from), uint32_t(meta->pages * PAGE)};
        block += meta->pages;
    }
    if (!vm::swap::write_run(run.value(), segs, uint32_t(m)).ok()) {
        // The stacks are untouched: they stay, and the space goes back.
        detail::g_count.write_errors.fetch_add(1, std::memory_order_relaxed);
        r.io_error = true;
        vm::swap::space().free(run.value(), uint32_t(block - run.value()));
        undo_all();
        return 0;
    }

    // Woken during the write: cheaper to keep the stack than to read it back.
    for (size_t i = 0; i < m; i++) {
        Item& it = items[i];
        bool wanted = false;
        auto check = [&](kern::Thread*) { wanted = it.s->wanted; };
        kern::sched::with_thread_locked(it.t, check);
        if (!wanted)
            continue;
        it.going = false;
        vm::swap::space().free(it.meta->block, it.meta->pages);
        detail::free_meta(it.meta);
        keep_resident(it.t, it.s);
        detail::g_count.cancelled.fetch_add(1, std::memory_order_relaxed);
        r.cancelled++;
    }

    // Unmap everything, one shootdown for the cluster, then free the pages.
    vm::tlb::Batch batch;
    for (size_t i = 0; i < m; i++) {
        if (!items[i].going)
            continue;
        uintptr_t bottom = LAYOUT.stack_bottom(items[i].s->slot);
        for (size_t p = items[i].meta->first; p < STACK_PAGES; p++) {
            (void)vm::kmem::unmap_stack_page(bottom + p * PAGE);
            batch.add(bottom + p * PAGE);
        }
    }
    batch.flush();
    uint64_t freed = 0;
    for (size_t i = 0; i < m; i++) {
        Item& it = items[i];
        if (!it.going)
            continue;
        for (size_t p = it.meta->first; p < STACK_PAGES; p++) {
            vm::kmem::free_page(it.s->pages[p]);
            it.s->pages[p] = 0;
        }
        kstack::detail::account_pages(-int64_t(it.meta->pages));
        freed += it.meta->pages;
        bool kick = false;
        auto done = [&](kern::Thread* th) {
            it.s->meta = it.meta;
            it.s->state = StackState::Swapped;
            // Woken while the pages were going: straight to the swapper.
            if (it.s->wanted && th->state == kern::ThreadState::Runnable) {
                detail::queue_for_swapin_locked(th);
                kick = true;
            }
        };
        kern::sched::with_thread_locked(it.t, done);
        if (kick)
            swap::kick();
        detail::g_count.swapped.fetch_add(1, std::memory_order_relaxed);
        detail::g_count.swap_outs.fetch_add(1, std::memory_order_relaxed);
        detail::g_count.pages_out.fetch_add(it.meta->pages, std::memory_order_relaxed);
        r.stacks++;
    }
    return freed;
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
    kern::thread::for_each(consider, &sc);
    uint64_t now = kern::timer::now_ticks();
    uint64_t idle_ticks = us_to_ticks(idle);
    size_t k = vm::swap_policy::select(sc.cand, sc.n, now, idle_ticks, need_pages, sc.chosen, MAX_SCAN);
    if (k == 0) {
        r.no_candidates = true;
        return r;
    }
    // chosen[] holds indices into thread[]/seq[] (select sorted cand[] in place).
    kern::Thread* threads[CLUSTER_STACKS];
    uint64_t seqs[CLUSTER_STACKS];
    uint64_t cutoff = now >= idle_ticks ? now - idle_ticks : 0;
    size_t i = 0;
    while (i < k && r.pages_freed < need_pages && !r.full && !r.io_error) {
        size_t c = vm::swap_policy::cluster_size(k - i, uint32_t(STACK_PAGES), CLUSTER_PAGES);
        for (size_t j = 0; j < c; j++) {
            threads[j] = sc.thread[sc.chosen[i + j]];
            seqs[j] = sc.seq[sc.chosen[i + j]];
        }
        r.pages_freed += write_cluster(threads, seqs, c, cutoff, r);
        // Per cluster: the swapper's early swap-ins wait for a quiet second.
        detail::g_count.last_out_us.store(kern::timer::now_us(), std::memory_order_relaxed);
        i += c;
    }
    return r;
}

} // namespace kstack::swap
