// Kernel tests of kernel stacks: guards on both sides, the object index,
// holds taken by the primitives themselves, the hold checker, and (explicit
// boots) overflows caught before anything is written below the stack.
#include "kern/arch/riscv/fixup.h"
#include "kern/arch/riscv/hart.h"
#include "kstack/holdcheck.h"
#include "test/kernel/ktest.h"
#include "kern/console/printf.h"
#include "kern/sched/sched.h"
#include "kern/sched/thread.h"
#include "kern/arch/riscv/timer.h"
#include "kern/sync/wait.h"
#include "kstack/kstack.h"
#include "test/kernel/stack_use.h"
#include "vm/layout.h"

using namespace kern;

namespace {
struct Probe {
    uintptr_t bottom, top;
    long below, above, inside_lo, inside_hi, lo_before_growth;
};
void probe_own_stack(void* arg)
{
    auto* p = static_cast<Probe*>(arg);
    Thread* me = thread::current();
    p->bottom = kstack::bottom(me->stack);
    p->top = kstack::top(me->stack);
    uint64_t v;
    // A new stack has only its top mapped; the rest grows on use.
    p->lo_before_growth = probe_read_u64(p->bottom, &v);
    ktest::use_stack(kstack::STACK_SIZE - 3072); // into the lowest page, leaving room for interrupts
    p->below = probe_read_u64(p->bottom - 8, &v);     // guard below
    p->above = probe_read_u64(p->top, &v);            // next slot's guard above
    p->inside_lo = probe_read_u64(p->bottom, &v);
    p->inside_hi = probe_read_u64(p->top - 8, &v);
}
} // namespace

KTEST(kstack_guards_both_sides_are_unmapped)
{
    Probe p {};
    (void)kstack::drop_caches(); // a freshly built stack: only its top is mapped
    auto r = thread::spawn({.name = "guard-probe", .entry = probe_own_stack, .arg = &p, .joinable = true});
    KEXPECT(r.ok());
    thread::join(r.value());
    KEXPECT_EQ(p.top - p.bottom, kstack::STACK_SIZE);
    KEXPECT(p.below != 0);
    KEXPECT(p.above != 0);
    KEXPECT_EQ(p.inside_lo, 0);
    KEXPECT_EQ(p.inside_hi, 0);
    if (kstack::initial_pages() < kstack::STACK_PAGES)
        KEXPECT(p.lo_before_growth != 0);
}

KTEST(kstack_object_index_has_no_holes)
{
    // Every live thread's stack is found from any address in it, guard included,
    // and its object pages follow each other: slot * pages + page.
    constexpr int N = 16;
    kstack::Stack* s[N];
    for (auto*& st : s) {
        auto r = kstack::alloc(true);
        KEXPECT(r.ok());
        st = r.value();
    }
    for (auto* st : s) {
        KEXPECT(kstack::from_address(kstack::bottom(st)) == st);
        KEXPECT(kstack::from_address(kstack::top(st) - 1) == st);
        KEXPECT(kstack::from_address(kstack::bottom(st) - 1) == st); // its own guard
        unsigned slot = kstack::slot(st);
        kstack::SlotLayout L(vm::layout::KSTACK_BASE, vm::layout::KSTACK_SIZE / kstack::SLOT_SIZE);
        KEXPECT_EQ(L.object_index_of(kstack::bottom(st)), size_t(slot) * kstack::STACK_PAGES);
        KEXPECT_EQ(L.object_index_of(kstack::top(st) - 1), size_t(slot) * kstack::STACK_PAGES + kstack::STACK_PAGES - 1);
    }
    for (auto* st : s)
        kstack::free(st);
    kstack::Stats st = kstack::stats();
    kprintf("ktest: stack cache hit rate %lu of %lu\n", st.cache_hits, st.cache_hits + st.cache_misses);
}

namespace {
struct Sleeper {
    ksync::WaitQueue q {"ktest-holds"};
    std::atomic<int> stage {0};
    uint32_t holds_while_waiting = 0;
};
void sleep_on_queue(void* arg)
{
    auto* s = static_cast<Sleeper*>(arg);
    s->stage = 1;
    (void)s->q.wait(nullptr, 5000000);
}
void no_hold_then_hold(void* arg)
{
    auto* s = static_cast<Sleeper*>(arg);
    // An object on this stack, with no hold: the checker must object to it...
    volatile uint64_t on_stack = 0;
    s->holds_while_waiting = static_cast<uint32_t>(reinterpret_cast<uintptr_t>(&on_stack));
    s->stage = 1;
    while (s->stage.load() == 1)
        sched::yield();
    {
        // ...and accept it while a hold is taken.
        kstack::Hold h(thread::current()->stack_holds);
        s->stage = 3;
        while (s->stage.load() == 3)
            sched::yield();
    }
    s->stage = 5;
}
} // namespace

// A thread asleep on a wait queue holds its stack (the Waiter took the hold),
// the checker finds no violation, and the hold is gone once it wakes.
KTEST(kstack_waiters_hold_their_stacks)
{
    static Sleeper s;
    s.stage = 0;
    auto r = thread::spawn({.name = "holder", .entry = sleep_on_queue, .arg = &s, .joinable = true});
    KEXPECT(r.ok());
    Thread* th = r.value();
    while (s.stage.load() != 1 || th->state != ThreadState::Sleeping)
        sched::sleep_us(1000);
    uint32_t held = th->stack_holds.count();
    unsigned violations = holdcheck::verify();
    s.q.wake_all();
    thread::join(th);
    KEXPECT_EQ(held, 1u);
    KEXPECT_EQ(violations, 0u);
}

KTEST(kstack_hold_checker_finds_an_unheld_object)
{
    static Sleeper s;
    s.stage = 0;
    auto r = thread::spawn({.name = "no-hold", .entry = no_hold_then_hold, .arg = &s, .joinable = true});
    KEXPECT(r.ok());
    Thread* th = r.value();
    while (s.stage.load() != 1)
        sched::yield();
    uintptr_t addr = kstack::bottom(th->stack) + (uintptr_t(s.holds_while_waiting) & (kstack::STACK_SIZE - 1));
    bool ok_without = holdcheck::address_ok(addr);
    s.stage = 2;
    while (s.stage.load() != 3)
        sched::yield();
    bool ok_with = holdcheck::address_ok(addr);
    s.stage = 4;
    thread::join(th);
    KEXPECT(!ok_without);
    KEXPECT(ok_with);
    KEXPECT(holdcheck::address_ok(reinterpret_cast<uintptr_t>(&s))); // not on a stack at all
}

namespace {
// Recursion that writes every frame, so the stack really is used.
[[gnu::noinline]] uint64_t recurse_deep(unsigned depth, volatile uint8_t* prev)
{
    volatile uint8_t frame[512];
    for (unsigned i = 0; i < sizeof frame; i += 64)
        frame[i] = uint8_t(depth + i);
    if (prev)
        frame[1] = prev[0];
    return depth == 0 ? frame[0] : recurse_deep(depth - 1, frame) + frame[64];
}

std::atomic<unsigned> g_ready;
void overflow_entry(void* arg)
{
    unsigned wait_for = static_cast<unsigned>(reinterpret_cast<uintptr_t>(arg));
    // Interrupts off: a panic's stop IPI must not halt this hart before it
    // overflows (the test wants overflows on two harts at the same moment).
    cpu::irq_save();
    g_ready.fetch_add(1);
    while (g_ready.load() < wait_for) {
    }
    (void)recurse_deep(1000, nullptr); // 1000 x 512+ bytes: far past 16 KiB
}
} // namespace

// Explicit boots (test/run_all.py checks the reports): one thread, then two
// threads on two harts, overflow their stacks into the guard page.
KTEST_EXPLICIT(kstack_overflow)
{
    g_ready = 0;
    auto r = thread::spawn({.name = "overflower", .entry = overflow_entry, .arg = reinterpret_cast<void*>(1),
                            .joinable = true});
    KEXPECT(r.ok());
    thread::join(r.value());
    t.failf("the overflow was not caught");
}

KTEST_EXPLICIT(kstack_overflow_two_harts)
{
    g_ready = 0;
    if (cpu::count() < 3) {
        t.failf("needs 3 harts");
        return;
    }
    auto a = thread::spawn({.name = "overflower-a", .entry = overflow_entry, .arg = reinterpret_cast<void*>(2),
                            .flags = TF_BOUND, .hart = 1, .joinable = true});
    auto b = thread::spawn({.name = "overflower-b", .entry = overflow_entry, .arg = reinterpret_cast<void*>(2),
                            .flags = TF_BOUND, .hart = 2, .joinable = true});
    KEXPECT(a.ok() && b.ok());
    thread::join(a.value());
    t.failf("the overflows were not caught");
}
