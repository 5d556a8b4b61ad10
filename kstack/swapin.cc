// Swap-in: the swapper thread, its queue, and the wake-path hook.
//
// A woken thread whose stack is out waits on the swapper's queue (FIFO, so
// the longest-waiting goes first). The swapper allocates pages with the system
// class (it may dip below where ordinary allocations stop: a woken thread is
// work the system already promised), reads the stack in one request, checks
// every page's checksum, maps the pages and only then queues the thread. A
// read error or a bad checksum is retried; after READ_TRIES the thread is
// killed with a message naming it, and nothing else is touched.
//
// With its queue empty and free pages back above free_target, the swapper
// brings stacks in before anyone wakes them, so a recovered system does not
// keep paying swap-in latency on every wakeup.
#include "kstack/checksum.h"
#include "kstack/stack.h"
#include "kstack/swap.h"
#include "kstack/swap_internal.h"

#include "dev/block.h"
#include "kern/console/panic.h"
#include "kern/console/printf.h"
#include "kern/arch/riscv/hart.h"
#include "kern/sched/sched.h"
#include "kern/sync/spinlock.h"
#include "kern/task/task.h"
#include "kern/sched/thread.h"
#include "kern/arch/riscv/timer.h"
#include "kern/sync/wait.h"
#include "lib/string.h"
#include "vm/kmem.h"
#include "vm/swap.h"
#include "zalloc/zone.h"

namespace kstack::swap {

namespace detail {
Counters g_count;
}

namespace {

constexpr unsigned READ_TRIES = 3;
constexpr uint64_t EARLY_POLL_US = 200000; // how often an idle swapper checks for recovered memory
constexpr unsigned EARLY_BATCH = 8;        // early swap-ins per look
constexpr uint64_t EARLY_QUIET_US = 1000000; // no swap-out for this long before early swap-ins

zalloc::Zone g_meta_zone;
// Threads woken with their stack on swap, oldest wakeup first. A true leaf,
// taken under a run-queue lock and taking nothing under it (docs/locking.md):
// the swapper never sleeps with it held. The thread's run_node is free: it
// is Runnable but on no run queue.
ksync::SpinLock g_queue_lock {"swapin-queue"};
lib::List<kern::Thread, &kern::Thread::run_node> g_queue;
unsigned g_queued;
kern::Thread* g_swapper;

// What the swapper sleeps on: a kick flag and the sequence number of its
// sleep, under their own lock. kick() comes from wake()'s callers (under a
// wait queue's lock), from disk interrupts and from the pagers, always after
// the thread's run-queue lock is dropped; it takes the swapper's run-queue
// lock under this one (docs/locking.md). No wait queue: a kick from a waker
// holding a channel bucket's lock must not need that bucket again.
ksync::SpinLock g_kick_lock {"swapin-kick"};
bool g_kicked;        // a kick the swapper has not seen yet
uint64_t g_sleep_seq; // the swapper's sleep, 0 when it is not asleep

using detail::g_count;

uint64_t free_target() { return vm::kmem::phys().watermarks().free_target; }

// Memory has recovered: above free_target with a stack to spare, no swap-out
// pass running and none for EARLY_QUIET_US (pressure that is still going on
// would only send the stacks straight back out).
bool early_due()
{
    return g_count.swapped.load(std::memory_order_relaxed) != 0 &&
           vm::kmem::free_pages() > free_target() + STACK_PAGES &&
           g_count.outs_running.load(std::memory_order_acquire) == 0 &&
           kern::timer::now_us() - g_count.last_out_us.load(std::memory_order_relaxed) >= EARLY_QUIET_US;
}

void release_swap(SwapMeta* meta)
{
    vm::swap::space().free(meta->block, meta->pages);
    detail::free_meta(meta);
}

// Read the stack into pa[] and check it; retried. True when it is intact.
bool read_back(kern::Thread* t, const SwapMeta* meta, const uint64_t* pa)
{
    dev::BlockSegment segs[STACK_PAGES];
    for (size_t p = 0; p < meta->pages; p++)
        segs[p] = {vm::kmem::phys_to_virt(pa[meta->first + p]), uint32_t(PAGE_SIZE)};
    for (unsigned attempt = 1; attempt <= READ_TRIES; attempt++) {
        lib::Status st = vm::swap::read_run(meta->block, segs, meta->pages);
        if (!st.ok()) {
            g_count.read_errors.fetch_add(1, std::memory_order_relaxed);
            kprintf("swap: reading the stack of thread %lu (%s) from block %lu failed (%s), try %u of %u\n", t->id,
                    t->name, meta->block, lib::error_name(st.error()), attempt, READ_TRIES);
            continue;
        }
        size_t bad = detail::first_bad_page(meta, segs);
        if (bad == meta->pages)
            return true;
        g_count.checksum_errors.fetch_add(1, std::memory_order_relaxed);
        kprintf("swap: stack of thread %lu (%s), page %zu at block %lu read back with a bad checksum, try %u of %u\n",
                t->id, t->name, bad, meta->block + bad, attempt, READ_TRIES);
    }
    return false;
}

// What a thread whose stack was lost runs, on the fresh pages given in its
// place: it leaves as any thread of its kind does, so what it held comes
// back. A user thread takes its task down (a task cannot go on with one of
// its threads gone mid-call) through the task's own exit path: its IPC
// record, its place on the task's list, and with the last thread the address
// space and handles.
void die_of_lost_stack(void*)
{
    kern::Thread* me = kern::thread::current();
    if (kern::Task* task = me->task) {
        (void)kern::task::kill(task, kern::EXIT_STACK_LOST, "its kernel stack could not be read back from swap");
        kern::task::exit_thread(kern::EXIT_STACK_LOST);
    }
    kern::thread::exit(kern::EXIT_STACK_LOST);
}

} // namespace

namespace detail {

size_t first_bad_page(const SwapMeta* meta, const dev::BlockSegment* segs)
{
    for (size_t p = 0; p < meta->pages; p++)
        if (page_checksum(segs[p].buf, PAGE_SIZE) != meta->sum[meta->first + p])
            return p;
    return meta->pages;
}

bool claim_swapped(kern::Thread* t, bool early, Stack*& s, SwapMeta*& meta)
{
    s = nullptr;
    auto claim = [&](kern::Thread* th) {
        Stack* st = th->stack;
        if (!st || st->state != StackState::Swapped || (early && st->wanted))
            return;
        st->state = StackState::SwappingIn;
        kern::sched::drop_sleeper_locked(th); // off the swapped list
        s = st;
        meta = st->meta;
    };
    kern::sched::with_thread_locked(t, claim);
    return s != nullptr;
}

bool unclaim_swapped(kern::Thread* t, Stack* s)
{
    bool kick = false;
    auto undo = [&](kern::Thread* th) {
        s->state = StackState::Swapped;
        if (s->wanted && th->state == kern::ThreadState::Runnable) {
            queue_for_swapin_locked(th);
            kick = true;
        } else {
            kern::sched::add_swapped_locked(th);
        }
    };
    kern::sched::with_thread_locked(t, undo);
    return kick;
}

void install(kern::Thread* t, Stack* s, SwapMeta* meta, const uint64_t* pa, bool intact, bool early)
{
    uintptr_t bottom = LAYOUT.stack_bottom(s->slot);
    for (size_t p = meta->first; p < STACK_PAGES; p++) {
        // Page tables for the slot were built with its chunk and kept: mapping
        // cannot fail for want of memory, and takes no lock.
        if (!vm::kmem::map_stack_page(bottom + p * PAGE_SIZE, pa[p]).ok())
            panic("kstack: cannot remap stack page %zu of slot %u", p, s->slot);
        s->pages[p] = pa[p];
    }
    kstack::detail::account_pages(int64_t(meta->pages));
    // Any hart (this one too) flushes these pages before it runs the thread.
    kstack::detail::mark_stale(s, ~0u);
    uint32_t pages = meta->pages;
    release_swap(meta);
    g_count.swapped.fetch_sub(1, std::memory_order_relaxed);

    bool run = false;
    uint64_t wanted_at = 0;
    auto done = [&](kern::Thread* th) {
        s->meta = nullptr;
        s->state = StackState::Resident;
        run = s->wanted && th->state == kern::ThreadState::Runnable;
        wanted_at = s->wanted_at;
        s->wanted = false;
        if (intact)
            kern::sched::add_sleeper_locked(th); // back before its wakeup: a candidate again
        else
            kern::sched::restart_locked(th, die_of_lost_stack, nullptr); // out of its sleep, woken or not
    };
    kern::sched::with_thread_locked(t, done);
    if (run) {
        // How long the woken thread waited for its stack.
        uint64_t ticks = kern::timer::now_ticks() - wanted_at;
        g_count.wait_us.fetch_add(ticks * 1000000 / kern::timer::timebase_hz(), std::memory_order_relaxed);
        g_count.waits.fetch_add(1, std::memory_order_relaxed);
    }
    if (!intact) {
        kern::sched::enqueue_new(t);
        return;
    }
    // Everything counted and freed before the thread can run: whoever waits
    // for it to finish then sees the swap-in accounted for.
    g_count.swap_ins.fetch_add(1, std::memory_order_relaxed);
    g_count.pages_in.fetch_add(pages, std::memory_order_relaxed);
    if (early)
        g_count.early.fetch_add(1, std::memory_order_relaxed);
    if (run)
        kern::sched::enqueue_new(t);
}

} // namespace detail

namespace {

using detail::claim_swapped;
using detail::install;
using detail::unclaim_swapped;

// Bring t's stack back from the swapper thread. `early`: before its wakeup
// (memory has recovered): only with pages to spare, never waiting for them.
// Returns false if it did not start (not Swapped any more, or no pages for an
// early one).
bool swap_in(kern::Thread* t, bool early)
{
    Stack* s;
    SwapMeta* meta;
    if (!claim_swapped(t, early, s, meta))
        return false;

    uint64_t pa[STACK_PAGES] = {};
    for (size_t p = meta->first; p < STACK_PAGES; p++) {
        lib::Result<uint64_t> r = vm::kmem::alloc_page(early ? vm::kmem::Class::Normal : vm::kmem::Class::System,
                                                      !early);
        if (!r.ok()) {
            // Only an early swap-in gives up: put it back as it was.
            for (size_t q = meta->first; q < p; q++)
                vm::kmem::free_page(pa[q]);
            if (unclaim_swapped(t, s))
                swap::kick();
            return false;
        }
        pa[p] = r.value();
    }

    bool intact = read_back(t, meta, pa);
    if (!intact) {
        // The stack is lost. Give the slot fresh zeroed pages, on which the
        // thread runs only its way out (die_of_lost_stack).
        for (size_t p = meta->first; p < STACK_PAGES; p++)
            memset(vm::kmem::phys_to_virt(pa[p]), 0, PAGE_SIZE);
        kprintf("swap: thread %lu (%s) killed: its kernel stack could not be read back from swap\n", t->id,
                t->name);
        g_count.killed.fetch_add(1, std::memory_order_relaxed);
    }
    install(t, s, meta, pa, intact, early);
    return true;
}

// Collect a few sleeping threads with swapped stacks, the first to go out
// first, from the harts' swapped lists (sched::for_each_swapped: only
// pointers, the claim re-checks).
struct EarlyScan {
    kern::Thread* t[EARLY_BATCH];
    unsigned n;
};

bool find_swapped(EarlyScan& sc, kern::Thread& t)
{
    if (sc.n == EARLY_BATCH)
        return false;
    if (t.stack && t.stack->state == StackState::Swapped && !t.stack->wanted)
        sc.t[sc.n++] = &t;
    return true;
}

kern::Thread* pop_queued()
{
    ksync::SpinGuard g(g_queue_lock);
    kern::Thread* t = g_queue.pop_front();
    if (t)
        g_queued--;
    return t;
}

bool queue_empty()
{
    ksync::SpinGuard g(g_queue_lock);
    return g_queue.empty();
}

// Sleep until kick() or timeout_us, unless a kick came since the last look.
// Every hand-off links the thread on the queue before it kicks, so a thread
// queued after the swapper found the queue empty leaves the flag set, or
// wakes the sleep it finds recorded: none is lost.
void wait_for_kick(uint64_t timeout_us)
{
    {
        ksync::SpinGuard g(g_kick_lock);
        if (g_kicked) {
            g_kicked = false;
            return;
        }
        g_sleep_seq = kern::sched::prepare_sleep(&g_kicked, "swapin", kern::timer::deadline_after_us(timeout_us));
    }
    kern::sched::block();
    ksync::SpinGuard g(g_kick_lock);
    g_sleep_seq = 0;
    g_kicked = false;
}

void swapper_main(void*)
{
    for (;;) {
        detail::refill_async_pool(); // as far as memory allows; a kick on a low pool brings it back here
        if (kern::Thread* t = pop_queued()) {
            (void)swap_in(t, false);
            continue;
        }
        if (!early_due()) {
            wait_for_kick(EARLY_POLL_US);
            continue;
        }
        EarlyScan sc {};
        for (unsigned h = 0; h < cpu::MAX_HARTS && sc.n < EARLY_BATCH; h++)
            if (kern::hart(h).online.load(std::memory_order_relaxed))
                kern::sched::for_each_swapped(h, [&sc](kern::Thread& t) { return find_swapped(sc, t); });
        for (unsigned i = 0; i < sc.n && early_due() && queue_empty(); i++)
            (void)swap_in(sc.t[i], true); // a wakeup that came meanwhile goes first
        if (sc.n == 0)
            wait_for_kick(EARLY_POLL_US); // counted as swapped but not visible yet: look again later
    }
}

} // namespace

namespace detail {

SwapMeta* alloc_meta() { return static_cast<SwapMeta*>(g_meta_zone.alloc(zalloc::M_INTNOWAIT)); }
void free_meta(SwapMeta* m) { g_meta_zone.free(m); }

void queue_for_swapin_locked(kern::Thread* t)
{
    ksync::SpinGuard g(g_queue_lock);
    g_queue.push_back(*t);
    g_queued++;
}

} // namespace detail

void start()
{
    // One item per swapped stack. An interrupt zone reserves its whole VA
    // range (with page tables) up front, so size it by what can exist: even
    // with its stack on swap a thread keeps its Thread object, its stack
    // record and this item resident, so RAM cannot hold more threads than
    // that many bytes divide it into; never more than there are stack slots.
    // (Four per page, when a swapped thread cost more than a quarter page,
    // stopped the capacity benchmark at 62,900 swapped stacks in 64 MiB.)
    constexpr size_t least_per_thread = sizeof(kern::Thread) + sizeof(Stack) + sizeof(SwapMeta);
    size_t limit = vm::kmem::total_pages() * PAGE_SIZE / least_per_thread;
    g_meta_zone.init("swapmeta", sizeof(SwapMeta), vm::kmem::backend(),
                     {.max_items = limit < LAYOUT.nslots() ? limit : LAYOUT.nslots(), .interrupt = true,
                      .reserve_items = detail::META_RESERVE});
    // Fill the held-back items now, while memory is plentiful: the first
    // swap-out may come at zero free pages, when the zone cannot grow and
    // only what it holds back can be had (by any hart: held-back items are on
    // the zone's list, not in a hart's cache).
    if (!g_meta_zone.replenish())
        panic("swap: cannot fill the swap metadata reserve (%zu items) at boot", detail::META_RESERVE);
    lib::Result<kern::Thread*> t = kern::thread::spawn({.name = "swapper", .entry = swapper_main, .arg = nullptr,
                                                        .priority = kern::PRIO_SYSTEM,
                                                        .flags = kern::TF_SYSTEM | kern::TF_NO_SWAP |
                                                                  kern::TF_FULL_STACK});
    if (!t.ok())
        panic("cannot start the swapper: %s", lib::error_name(t.error()));
    g_swapper = t.value();
}

Wake on_wake_locked(kern::Thread* t)
{
    Stack* s = t->stack;
    switch (s->state) {
    case StackState::Resident:
        return Wake::Run;
    case StackState::SwappingOut:
    case StackState::SwappingIn:
        s->wanted = true; // whoever is moving it queues the thread when done
        s->wanted_at = kern::timer::now_ticks();
        return Wake::Deferred;
    case StackState::Swapped:
        // Read it back right away if it can be (woken(), after the run-queue
        // lock is dropped); else the swapper does it.
        s->wanted = true;
        s->wanted_at = kern::timer::now_ticks();
        return Wake::DeferredKick;
    case StackState::Free:
    case StackState::Cached:
        break;
    }
    panic("kstack: wakeup of thread %lu (%s) whose stack is %s", t->id, t->name, state_name(s->state));
}

void kick()
{
    ksync::SpinGuard g(g_kick_lock);
    g_kicked = true;
    if (g_sleep_seq) {
        (void)kern::sched::wake(g_swapper, g_sleep_seq);
        g_sleep_seq = 0;
    }
}

void woken(kern::Thread* t)
{
    if (detail::start_async_swap_in(t))
        return;
    // The swapper takes it (if it is still Swapped: the early path may have
    // claimed it meanwhile, and then queues it when done).
    bool queued = false;
    auto q = [&](kern::Thread* th) {
        if (th->stack->state == StackState::Swapped && th->stack->wanted && !th->run_node.linked()) {
            detail::queue_for_swapin_locked(th);
            queued = true;
        }
    };
    kern::sched::with_thread_locked(t, q);
    if (queued)
        kick();
}


unsigned swapin_queue_length()
{
    ksync::SpinGuard g(g_queue_lock);
    return g_queued;
}

namespace detail {
TimingCounters g_time;

uint64_t charge(std::atomic<uint64_t>& sum, uint64_t since)
{
    uint64_t now = kern::timer::now_ticks();
    sum.fetch_add(now - since, std::memory_order_relaxed);
    return now;
}

uint64_t stamp(std::atomic<uint64_t>& last, uint64_t since)
{
    uint64_t now = kern::timer::now_ticks();
    last.store(now - since, std::memory_order_relaxed);
    return now;
}
} // namespace detail

Timing timing()
{
    const auto& t = detail::g_time;
    return {t.out_scan.load(),  t.out_prepare.load(), t.out_submit.load(), t.out_io_wait.load(),
            t.out_unmap.load(), t.out_shootdown.load(), t.out_free.load(),
            t.scan_visits.load(), t.in_count.load(), t.last_start.load(), t.last_device.load(),
            t.last_verify.load(), t.last_install.load()};
}

Stats stats()
{
    const auto& c = g_count;
    return {c.swapped.load(),       c.swap_outs.load(),    c.swap_ins.load(),     c.pages_out.load(),
            c.pages_in.load(),      c.cancelled.load(),    c.early.load(),        c.at_wakeup.load(),
            c.write_errors.load(),
            c.read_errors.load(),   c.checksum_errors.load(), c.killed.load(),    c.full.load(),
            c.meta_failures.load(), c.wait_us.load(),      c.waits.load()};
}

} // namespace kstack::swap
