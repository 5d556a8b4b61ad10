// Kernel stacks that grow on demand (kstack/grow.h) and give pages back
// (kstack/shrink.h): deep recursion in many threads at once, faults right at
// a context switch charged to the right stack, pages given back and grown
// again with the data above them intact.
#include "kern/seam/cpu.h"
#include "kern/arch/riscv/fixup.h"
#include "kern/arch/riscv/hart.h"
#include "test/kernel/ktest.h"
#include "kern/console/printf.h"
#include "kern/sched/sched.h"
#include "kern/sched/thread.h"
#include "kstack/kstack.h"
#include "kstack/shrink.h"
#include "kstack/swap.h"
#include "lib/random.h"
#include "vm/kmem.h"
#include "vm/page_chain.h"
#include "vm/pageout.h"

#include <atomic>

using namespace kern;

namespace {

uint64_t word(uint64_t seed, unsigned level, unsigned i)
{
    uint64_t x = seed * 0x9e3779b97f4a7c15ull ^ (uint64_t(level) << 40) ^ i;
    x ^= x >> 29;
    x *= 0xbf58476d1ce4e5b9ull;
    return x ^ (x >> 32);
}

uintptr_t sp_now()
{
    uintptr_t sp;
    asm volatile("mv %0, sp" : "=r"(sp));
    return sp;
}

// Recurse with 256 bytes of checked data per frame until `stop(level)` says
// so, run `at_bottom` there, and check every frame on the way back.
template <typename Stop, typename Bottom>
__attribute__((noinline)) bool descend(uint64_t seed, unsigned level, Stop& stop, Bottom& at_bottom)
{
    volatile uint64_t data[32];
    for (unsigned i = 0; i < 32; i++)
        data[i] = word(seed, level, i);
    bool ok = stop(level) ? at_bottom() : descend(seed, level + 1, stop, at_bottom);
    for (unsigned i = 0; i < 32; i++)
        ok = ok && data[i] == word(seed, level, i);
    return ok;
}

// ---- 15 KiB deep in many threads at once --------------------------------------

struct Deep {
    std::atomic<unsigned> ok {0}, bad {0};
    std::atomic<unsigned> full {0}; // stacks fully mapped at the bottom
};
Deep g_deep;
constexpr size_t DEEP_BYTES = 15 * 1024;

void deep_body(void* arg)
{
    uint64_t seed = reinterpret_cast<uintptr_t>(arg);
    Thread* me = thread::current();
    uintptr_t top = kstack::top(me->stack);
    auto stop = [&](unsigned) { return top - sp_now() >= DEEP_BYTES; };
    auto bottom = [&]() {
        if (kstack::mapped_pages(me->stack) == kstack::STACK_PAGES)
            g_deep.full.fetch_add(1);
        for (int i = 0; i < 3; i++)
            sched::yield(); // switches (and interrupts) at full depth
        return true;
    };
    (descend(seed, 0, stop, bottom) ? g_deep.ok : g_deep.bad).fetch_add(1);
}

// ---- a fault inside the context switch ----------------------------------------

struct SwitchPair {
    std::atomic<unsigned> ok {0}, bad {0}, wrong_limit {0}, grew_in_switch {0};
};
SwitchPair g_sw;
std::atomic<unsigned> g_sw_offset;

// Get sp to `off` bytes above the stack's mapped limit, then yield: the
// frames of yield() and the scheduler cross into the unmapped page, so the
// stack grows during the switch itself. Afterwards the hart's limit must be
// this thread's.
void switch_body(void* arg)
{
    uint64_t seed = reinterpret_cast<uintptr_t>(arg);
    Thread* me = thread::current();
    unsigned off = g_sw_offset.load();
    // The limit as the thread starts: should one of descend()'s own frames
    // cross it (and grow the stack), the descent must still stop there, not
    // chase the new limit down to the guard.
    uintptr_t limit = kstack::limit(me->stack);
    auto stop = [&](unsigned) { return sp_now() < limit + 64 + off; };
    auto bottom = [&]() {
        size_t pages = kstack::mapped_pages(me->stack);
        for (int i = 0; i < 2; i++)
            sched::yield();
        if (kstack::mapped_pages(me->stack) > pages)
            g_sw.grew_in_switch.fetch_add(1);
        if (this_hart().stack_limit != kstack::limit(me->stack))
            g_sw.wrong_limit.fetch_add(1);
        return true;
    };
    (descend(seed, 0, stop, bottom) ? g_sw.ok : g_sw.bad).fetch_add(1);
}

// ---- give back, grow again ------------------------------------------------------

struct Regrow {
    std::atomic<unsigned> asleep {0}, ok {0}, bad {0};
};
Regrow g_rg;

// Deep once (the stack grows to four pages), back up, then asleep with only
// the top frames live: the pages below can be given back. Woken, deep again:
// it grows into fresh pages; the frames above must be as they were.
void regrow_body(void* arg)
{
    uint64_t seed = reinterpret_cast<uintptr_t>(arg);
    Thread* me = thread::current();
    uintptr_t top = kstack::top(me->stack);
    auto deep = [&](unsigned) { return top - sp_now() >= 13 * 1024; };
    auto nothing = []() { return true; };
    bool ok = descend(seed, 0, deep, nothing);
    auto shallow = [&](unsigned level) { return level >= 2; };
    auto sleep_then_deep = [&]() {
        g_rg.asleep.fetch_add(1);
        sched::sleep_us(600000000ull); // woken by the test
        return descend(seed + 1, 0, deep, nothing);
    };
    ok = ok && descend(seed + 2, 0, shallow, sleep_then_deep);
    (ok ? g_rg.ok : g_rg.bad).fetch_add(1);
}

bool join_all(Thread** t, unsigned n)
{
    for (unsigned i = 0; i < n; i++)
        if (t[i])
            thread::join(t[i]);
    return true;
}

} // namespace

KTEST(kgrow_fifteen_kib_in_many_threads)
{
    constexpr unsigned N = 32;
    g_deep.ok.store(0);
    g_deep.bad.store(0);
    g_deep.full.store(0);
    (void)kstack::drop_caches();
    kstack::Stats k0 = kstack::stats();
    Thread* th[N] = {};
    for (unsigned i = 0; i < N; i++) {
        auto r = thread::spawn({.name = "deep", .entry = deep_body, .arg = reinterpret_cast<void*>(uintptr_t(i + 1)),
                                .hart = int(i % cpu::count()), .joinable = true});
        KEXPECT(r.ok());
        th[i] = r.value();
    }
    join_all(th, N);
    kstack::Stats k1 = kstack::stats();
    kprintf("ktest: kgrow_fifteen_kib_in_many_threads: %u of %u verified, %u fully mapped at the bottom; "
            "%lu grow faults, %lu pages grown\n",
            g_deep.ok.load(), N, g_deep.full.load(), k1.grow_faults - k0.grow_faults, k1.pages_grown - k0.pages_grown);
    KEXPECT_EQ(g_deep.ok.load(), N);
    KEXPECT_EQ(g_deep.bad.load(), 0u);
    KEXPECT_EQ(g_deep.full.load(), N);
}

KTEST(kgrow_fault_during_switch_is_charged_to_its_stack)
{
    // Sweep where the fault falls in the switch path: 0 to 1.5 KiB above the
    // limit, a pair of threads bound to one hart each time.
    unsigned runs = 0;
    g_sw.ok.store(0);
    g_sw.bad.store(0);
    g_sw.wrong_limit.store(0);
    g_sw.grew_in_switch.store(0);
    kstack::Stats k0 = kstack::stats();
    for (unsigned off = 0; off <= 1536; off += 32) {
        g_sw_offset.store(off);
        (void)kstack::drop_caches(); // fresh one-page stacks: they grow in the switch path
        Thread* th[2] = {};
        for (unsigned i = 0; i < 2; i++) {
            auto r = thread::spawn({.name = "switcher", .entry = switch_body,
                                    .arg = reinterpret_cast<void*>(uintptr_t(off * 2 + i + 1)), .flags = TF_BOUND,
                                    .hart = 0, .joinable = true});
            KEXPECT(r.ok());
            th[i] = r.value();
        }
        join_all(th, 2);
        runs += 2;
    }
    kstack::Stats k1 = kstack::stats();
    kprintf("ktest: kgrow_fault_during_switch_is_charged_to_its_stack: %u threads, %lu grow faults, %u of them "
            "inside yield() and the switch\n",
            runs, k1.grow_faults - k0.grow_faults, g_sw.grew_in_switch.load());
    KEXPECT_EQ(g_sw.ok.load(), runs);
    KEXPECT_EQ(g_sw.bad.load(), 0u);
    KEXPECT_EQ(g_sw.wrong_limit.load(), 0u);
    KEXPECT(g_sw.grew_in_switch.load() > 0);
}

KTEST(kgrow_pages_given_back_and_grown_again)
{
    constexpr unsigned N = 16;
    g_rg.asleep.store(0);
    g_rg.ok.store(0);
    g_rg.bad.store(0);
    Thread* th[N] = {};
    for (unsigned i = 0; i < N; i++) {
        auto r = thread::spawn({.name = "regrow", .entry = regrow_body, .arg = reinterpret_cast<void*>(uintptr_t(7 * i + 3)),
                                .hart = int(i % cpu::count()), .joinable = true});
        KEXPECT(r.ok());
        th[i] = r.value();
    }
    while (g_rg.asleep.load() != N)
        sched::sleep_us(1000);
    bool all_asleep = false;
    for (int tries = 0; tries < 1000 && !all_asleep; tries++) {
        all_asleep = true;
        for (unsigned i = 0; i < N; i++)
            all_asleep = all_asleep && th[i]->state == ThreadState::Sleeping && !th[i]->on_cpu.load();
        if (!all_asleep)
            sched::sleep_us(1000);
    }
    uint64_t before = 0;
    for (unsigned i = 0; i < N; i++)
        before += kstack::mapped_pages(th[i]->stack);
    kstack::Stats k0 = kstack::stats();
    kstack::GiveBackResult gb = kstack::give_back(kstack::swap::scratch(2), ~0ull, 0);
    uint64_t after = 0;
    for (unsigned i = 0; i < N; i++)
        after += kstack::mapped_pages(th[i]->stack);
    for (unsigned i = 0; i < N; i++)
        (void)sched::wake(th[i]);
    join_all(th, N);
    kstack::Stats k1 = kstack::stats();
    kprintf("ktest: kgrow_pages_given_back_and_grown_again: %u threads: %lu pages before, %lu after giving back "
            "%lu; %lu grow faults after waking\n",
            N, before, after, gb.pages, k1.grow_faults - k0.grow_faults);
    KEXPECT(all_asleep);
    KEXPECT_EQ(g_rg.ok.load(), N);
    KEXPECT_EQ(g_rg.bad.load(), 0u);
    KEXPECT(gb.stacks >= N);
        KEXPECT(after <= N * 2);
    KEXPECT(k1.grow_faults - k0.grow_faults >= N);
    KEXPECT(k1.pages_given_back - k0.pages_given_back >= gb.pages);
}

// GCC stores into a large new frame before it moves sp past it: the access
// is below the mapped stack while sp still has room, so the trap comes
// through the ordinary path, not the overflow one. It must grow too.
namespace {
__attribute__((noinline)) void big_frame()
{
    volatile char pad[4096];
    pad[0] = 1;
    pad[sizeof pad - 1] = 1;
    asm volatile("" ::"r"(pad) : "memory");
}
std::atomic<uint64_t> g_big_grown;
void big_frame_body(void*)
{
    size_t before = kstack::mapped_pages(thread::current()->stack);
    big_frame();
    g_big_grown.store(kstack::mapped_pages(thread::current()->stack) - before);
}
} // namespace

KTEST(kgrow_store_below_sp_grows_too)
{
    (void)kstack::drop_caches(); // a fresh one-page stack
    g_big_grown.store(0);
    auto r = thread::spawn({.name = "big-frame", .entry = big_frame_body, .joinable = true});
    KEXPECT(r.ok());
    thread::join(r.value());
    KEXPECT(g_big_grown.load() >= 1);
}

// Stacks that must grow when no free page is left. Every free page is taken
// (the last ones too) while a crowd of threads on every hart is about to go
// 15 KiB deep: they empty the harts' growth caches at once. A thread that
// finds nothing to grow into must wait for memory, not take the kernel down;
// meanwhile the pagedaemon and the emergency pager run at zero free pages,
// which they can only do if they never need to grow themselves.
//
// A thread that has been down and back stays alive until released: one that
// exited at the floor would have its stack torn down at once (kstack::free
// below free_min), and those pages would let the next waiter grow, so that
// with time enough every thread could finish at zero and the window would
// prove nothing (all twelve did, in one of five boots of the whole suite
// on 2 harts and 32 MiB).
namespace {
struct ZeroGrow {
    std::atomic<bool> go {false}, release {false};
    std::atomic<unsigned> ready {0}, ok {0}, bad {0};
};
ZeroGrow g_zg;

void zero_grow_body(void* arg)
{
    uint64_t seed = reinterpret_cast<uintptr_t>(arg);
    Thread* me = thread::current();
    uintptr_t top = kstack::top(me->stack);
    g_zg.ready.fetch_add(1);
    while (!g_zg.go.load())
        sched::sleep_us(1000);
    auto stop = [&](unsigned) { return top - sp_now() >= DEEP_BYTES; };
    auto nothing = []() { return true; };
    (descend(seed, 0, stop, nothing) ? g_zg.ok : g_zg.bad).fetch_add(1);
    while (!g_zg.release.load())
        sched::sleep_us(1000);
}

struct ZeroHog : vm::PageChain {
    ZeroHog() = default;
    ZeroHog(const ZeroHog&) = delete;
    ZeroHog& operator=(const ZeroHog&) = delete;
    ~ZeroHog() { free_all(); }
};
} // namespace

KTEST(kgrow_at_zero_free_pages_waits)
{
    const unsigned n = 6 * cpu::count(); // two harts' caches' worth, twice over
    constexpr unsigned MAX = 6 * cpu::MAX_HARTS;
    g_zg.go.store(false);
    g_zg.release.store(false);
    g_zg.ready.store(0);
    g_zg.ok.store(0);
    g_zg.bad.store(0);
    (void)kstack::drop_caches(); // fresh one-page stacks: every one of them grows
    Thread* th[MAX] = {};
    for (unsigned i = 0; i < n; i++) {
        auto r = thread::spawn({.name = "zero-grow", .entry = zero_grow_body,
                                .arg = reinterpret_cast<void*>(uintptr_t(3 * i + 1)), .flags = TF_BOUND,
                                .hart = int(i % cpu::count()), .joinable = true});
        KEXPECT(r.ok());
        th[i] = r.value();
    }
    while (g_zg.ready.load() != n)
        sched::sleep_us(1000);
    kstack::Stats k0 = kstack::stats();
    uint64_t at_zero;
    unsigned done_at_zero;
    {
        ZeroHog hog;
        vm::pageout::pause();
        (void)hog.take_until_failure(vm::kmem::Class::Interrupt);
        at_zero = vm::kmem::free_pages();
        g_zg.go.store(true);
        sched::sleep_us(200000);
        done_at_zero = g_zg.ok.load() + g_zg.bad.load();
        // The paging threads at work with nothing free: the pagedaemon takes
        // back cached stacks and idle pages, the emergency pager runs when it
        // stalls.
        vm::pageout::resume();
        vm::pageout::wake();
        sched::sleep_us(200000);
    }
    g_zg.release.store(true);
    join_all(th, n);
    kstack::Stats k1 = kstack::stats();
    kprintf("ktest: kgrow_at_zero_free_pages_waits: %u threads, %lu pages free at the floor, %u finished there; "
            "%u verified; %lu waits for memory\n",
            n, at_zero, done_at_zero, g_zg.ok.load(), k1.grow_waits - k0.grow_waits);
    KEXPECT_EQ(at_zero, 0ul);
    KEXPECT_EQ(g_zg.ok.load(), n);
    KEXPECT_EQ(g_zg.bad.load(), 0u);
    KEXPECT(done_at_zero < n);              // some could not grow at zero
    KEXPECT(k1.grow_waits > k0.grow_waits); // and waited
    // The paging threads, the reaper and the idle threads never grow.
    static unsigned full, short_;
    full = short_ = 0;
    thread::for_each([](Thread& t) {
        if (t.flags & TF_FULL_STACK)
            (kstack::mapped_pages(t.stack) == kstack::STACK_PAGES ? full : short_)++;
    });
    KEXPECT(full >= 4u); // pagedaemon, emergency pager, reaper, idle0 (+ the swapper with a disk)
    KEXPECT_EQ(short_, 0u);
}

// Growth on the ordinary trap path, with its own frames in the way: sp a few
// hundred bytes above the mapped limit, then a 4 KiB frame that GCC stores
// into before it moves sp. The trap frame fits above the limit, so the fault
// comes through the ordinary path, but the handler's frames do not: the
// growth must not run on the stack it is growing (its callees would fault
// into the pages it is about to map). Every offset of sp from 320 bytes (just
// room for the trap frame) to 1.5 KiB above the limit, in 16-byte steps.
namespace {
std::atomic<unsigned> g_rent_ok, g_rent_offset;

__attribute__((noinline)) void big_frame_at(uintptr_t target)
{
    uintptr_t now = sp_now();
    size_t pad = now > target ? (now - target) & ~uintptr_t(15) : 0;
    volatile char* p = static_cast<volatile char*>(__builtin_alloca(pad));
    if (pad)
        p[pad - 1] = 0;
    big_frame();
    asm volatile("" ::"r"(p) : "memory");
}

void reentrant_body(void*)
{
    Thread* me = thread::current();
    size_t before = kstack::mapped_pages(me->stack);
    big_frame_at(kstack::limit(me->stack) + g_rent_offset.load());
    if (kstack::mapped_pages(me->stack) > before)
        g_rent_ok.fetch_add(1);
}
} // namespace

KTEST(kgrow_ordinary_path_growth_is_reentrant)
{
    unsigned runs = 0;
    g_rent_ok.store(0);
    for (unsigned off = 320; off <= 1536; off += 16) {
        g_rent_offset.store(off);
        (void)kstack::drop_caches(); // a fresh one-page stack
        auto r = thread::spawn({.name = "reentrant", .entry = reentrant_body, .joinable = true});
        KEXPECT(r.ok());
        thread::join(r.value());
        runs++;
    }
    kprintf("ktest: kgrow_ordinary_path_growth_is_reentrant: %u offsets, %u grew\n", runs, g_rent_ok.load());
    KEXPECT_EQ(g_rent_ok.load(), runs);
}

// A freshly built stack's pages are new mappings like any other: a hart that
// touched the slot under its last owner may cache "not mapped" for them, so
// every hart must flush before it first runs the new thread. And a hart whose
// limit is stale (higher than the stack's mapped bottom) takes a fault to the
// overflow path for nothing: the growth code finds the page mapped, flushes
// what this hart may have cached between the fault and that limit, corrects
// the limit, and the retried instruction goes on (here a probe of a bad
// address, which then fails as a probe should).
namespace {
struct StaleLimit {
    long probe = 0;
    bool corrected = false;
};
void stale_limit_body(void* arg)
{
    auto* r = static_cast<StaleLimit*>(arg);
    Thread* me = thread::current();
    volatile char deep[6000]; // two pages below the top are mapped now
    deep[0] = 1;
    unsigned long irq = cpu::irq_save();
    uintptr_t real = this_hart().stack_limit;
    this_hart().stack_limit = sp_now() & ~uintptr_t(PAGE_SIZE - 1); // stale: above sp's own page
    uint64_t v;
    r->probe = probe_read_u64(0x10, &v);
    r->corrected = this_hart().stack_limit == real && real == kstack::limit(me->stack);
    cpu::irq_restore(irq);
    asm volatile("" ::"r"(deep) : "memory");
}
} // namespace

KTEST(kgrow_new_stacks_and_stale_limits)
{
    (void)kstack::drop_caches(); // a stack built now
    auto c = thread::create({.name = "fresh", .entry = [](void*) {}, .joinable = true});
    KEXPECT(c.ok());
    uint32_t stale = kstack::stale_harts(c.value()->stack);
    thread::start(c.value());
    thread::join(c.value());
    uint32_t online = 0;
    for (unsigned h = 0; h < cpu::MAX_HARTS; h++)
        if (hart(h).online.load())
            online |= 1u << h;
    KEXPECT_EQ(stale & online, online);

    static StaleLimit r;
    r = {};
    auto th = thread::spawn({.name = "stale-limit", .entry = stale_limit_body, .arg = &r, .joinable = true});
    KEXPECT(th.ok());
    thread::join(th.value());
    KEXPECT(r.probe != 0);
    KEXPECT(r.corrected);
}
