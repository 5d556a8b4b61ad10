#include "kern/sync/lockcheck.h"

#include "kern/console/backtrace.h"
#include "boot/bootargs.h"
#include "kern/arch/riscv/hart.h"
#include "kern/sync/lockorder.h"
#include "kern/console/panic.h"
#include "kern/console/printf.h"
#include "kern/sched/thread.h"
#include "lib/string.h"

namespace ksync::lockcheck {

bool g_enabled = false;

namespace {

Pairs g_pairs;
bool g_report_mode; // bootarg lockcheck=report
bool g_print_pairs; // bootarg lockcheck=pairs
std::atomic<unsigned> g_violations {0}; // real ones
std::atomic<unsigned> g_expected {0};   // under ReportOnly

kern::HartLocal& me() { return kern::this_hart(); }

// A hart's boot thread has no kernel stack, so no ThreadTop: its sleeping
// locks are kept here (one such thread per hart).
ThreadHeld g_stackless_held[cpu::MAX_HARTS];

ThreadHeld* held_of(kern::Thread* t, unsigned hart)
{
    return t->stack ? &kern::top_of(t).held_sleep_locks : &g_stackless_held[hart];
}

// The running thread's sleeping locks; none in an interrupt or before threads.
ThreadHeld* thread_held()
{
    kern::HartLocal& h = me();
    if (h.irq_depth || !h.current)
        return nullptr;
    return held_of(h.current, h.index);
}

// The cache holds the class + 1, 0 before the first look, and NO_CLASS once
// a name not in the table has been reported (`unknown`: only the first time).
uint16_t resolve(const char* name, uint16_t& cache, bool& unknown)
{
    unknown = false;
    if (cache == NO_CLASS)
        return NO_CLASS;
    if (!cache) {
        uint16_t c = find_class(name);
        if (c == NO_CLASS) {
            cache = NO_CLASS;
            unknown = true;
            return NO_CLASS;
        }
        cache = uint16_t(c + 1);
        g_pairs.saw(c);
    }
    return uint16_t(cache - 1);
}

void print_held(const char* what, const Held* e, unsigned n, unsigned dropped)
{
    kprintf("  %s:%s\n", what, n ? "" : " none");
    for (unsigned i = 0; i < n; i++) {
        kprintf("    #%u %-18s (rank %3u) lock %p acquired at ", i, class_def(e[i].cls).name,
                class_def(e[i].cls).rank, e[i].lock);
        kern::print_symbol(e[i].where);
        kprintf("\n");
    }
    if (dropped)
        kprintf("    (%u more not recorded)\n", dropped);
}

// The report of a violation; then a panic, unless violations are only
// reported here (ReportOnly, lockcheck=report: once per pair).
void violation(Verdict v, const char* name, uint16_t cls, const void* lock, uintptr_t where)
{
    kern::HartLocal& h = me();
    // lockcheck=report: each violating pair once (the pair is recorded as
    // seen once this acquisition goes on).
    if (g_report_mode && !h.lockcheck_report_only && v.against && cls != NO_CLASS &&
        g_pairs.seen(v.against->cls, cls))
        return;
    (h.lockcheck_report_only ? g_expected : g_violations).fetch_add(1);
    h.lockcheck_busy++;
    kern::Thread* t = h.current;
    kprintf("lockcheck: %s on hart %u, thread %lu (%s)%s\n", problem_name(v.problem), h.index, t ? t->id : 0,
            t ? t->name : "-", h.lockcheck_report_only ? " (expected by a test: reported only)" : "");
    kprintf("  taking %s \"%s\"", cls == NO_CLASS ? "an unknown class" : "", name);
    if (cls != NO_CLASS)
        kprintf(" (rank %u)", class_def(cls).rank);
    kprintf(" lock %p at ", lock);
    kern::print_symbol(where);
    kprintf("%s\n", h.irq_depth ? " in an interrupt handler" : "");
    print_held("spinlocks this hart holds, oldest first", h.held_locks.e, h.held_locks.n, h.held_locks.dropped);
    if (t && !h.irq_depth)
        print_held("sleeping locks this thread holds", held_of(t, h.index)->e, held_of(t, h.index)->n,
                   held_of(t, h.index)->dropped);
    if (v.problem == Problem::Order && v.against) {
        const ClassDef& a = class_def(v.against->cls);
        const ClassDef& b = class_def(cls);
        kprintf("  the order (kern/sync/lockorder.cc) puts \"%s\" (rank %u) before \"%s\" (rank %u)\n", b.name, b.rank,
                a.name, a.rank);
        uintptr_t first_at = 0, then_at = 0;
        g_pairs.first(cls, v.against->cls, first_at, then_at);
        if (first_at || then_at) {
            kprintf("  the other chain, seen earlier: \"%s\" acquired at ", b.name);
            kern::print_symbol(first_at);
            kprintf(",\n    then \"%s\" acquired at ", a.name);
            kern::print_symbol(then_at);
            kprintf("\n");
        } else {
            kprintf("  (the other order has not been seen in this boot)\n");
        }
    }
    if (g_report_mode || h.lockcheck_report_only) {
        kprintf("  backtrace:\n");
        kern::backtrace_here();
        h.lockcheck_busy--;
        return;
    }
    panic("lockcheck: %s: \"%s\" taken while holding \"%s\"", problem_name(v.problem), name,
          v.against ? class_def(v.against->cls).name : "-");
}

void record_pairs(const Held* e, unsigned n, uint16_t cls, uintptr_t where)
{
    for (unsigned i = 0; i < n; i++)
        g_pairs.record(e[i].cls, cls, e[i].where, where);
}

void acquire(const void* lock, const char* name, uint16_t& cache, uintptr_t where, bool trylock, bool sleeping)
{
    kern::HartLocal& h = me();
    if (h.lockcheck_busy)
        return;
    bool unknown;
    uint16_t cls = resolve(name, cache, unknown);
    if (cls == NO_CLASS) {
        if (unknown)
            violation({Problem::UnknownClass, nullptr}, name, cls, lock, where);
        return;
    }
    ThreadHeld* sleeps = thread_held();
    // A try_lock is not order-checked; the interrupt rule still applies.
    Verdict v = trylock ? check_in_irq(cls, h.irq_depth != 0) : check_acquire(h.held_locks, sleeps, cls, h.irq_depth != 0);
    if (v.problem != Problem::None)
        violation(v, name, cls, lock, where);
    record_pairs(h.held_locks.e, h.held_locks.n, cls, where);
    if (sleeps)
        record_pairs(sleeps->e, sleeps->n, cls, where);
    if (sleeping) {
        if (sleeps)
            sleeps->push(lock, cls, where);
    } else {
        h.held_locks.push(lock, cls, where);
    }
}

} // namespace

void spin_acquire(const void* lock, const char* name, uint16_t& cls, uintptr_t where, bool trylock)
{
    acquire(lock, name, cls, where, trylock, false);
}

void spin_release(const void* lock)
{
    kern::HartLocal& h = me();
    if (!h.lockcheck_busy)
        h.held_locks.pop(lock);
}

// Sleeping locks run with interrupts on: the thread may move to another hart
// between two reads of this_hart(), so the check runs with them off.
void sleep_acquire(const void* lock, const char* name, uint16_t& cls, uintptr_t where, bool trylock)
{
    unsigned long irq = cpu::irq_save();
    acquire(lock, name, cls, where, trylock, true);
    cpu::irq_restore(irq);
}

void sleep_release(const void* lock)
{
    unsigned long irq = cpu::irq_save();
    if (ThreadHeld* s = thread_held())
        s->pop(lock);
    cpu::irq_restore(irq);
}

void before_switch()
{
    kern::HartLocal& h = me();
    if (h.lockcheck_busy)
        return;
    Verdict v = check_switch(h.held_locks);
    if (v.problem != Problem::None)
        violation(v, class_def(v.against->cls).name, v.against->cls, v.against->lock,
                  reinterpret_cast<uintptr_t>(__builtin_return_address(0)));
}

void irq_enter() { me().irq_depth++; }
void irq_exit() { me().irq_depth--; }

void init_from_bootargs()
{
    char buf[16];
    bool ktest = kern::bootargs::has("ktest");
    bool asked = kern::bootargs::get("lockcheck", buf, sizeof buf);
    g_report_mode = asked && strcmp(buf, "report") == 0;
    g_print_pairs = asked && strcmp(buf, "pairs") == 0;
    bool off = asked && strcmp(buf, "off") == 0; // a ktest boot without it (cost measurements)
    if ((ktest || kern::bootargs::has("lockcheck")) && !off)
        g_enabled = true;
}

void print_summary()
{
    if (!g_enabled && !g_violations.load()) {
        kprintf("lockcheck: off\n");
        return;
    }
    if (g_print_pairs) {
        for (unsigned h = 0; h < class_count(); h++) {
            for (unsigned t = 0; t < class_count(); t++) {
                uintptr_t held_at, taken_at;
                if (!g_pairs.seen(uint16_t(h), uint16_t(t)))
                    continue;
                g_pairs.first(uint16_t(h), uint16_t(t), held_at, taken_at);
                kprintf("lockcheck: %s -> %s: ", class_def(uint16_t(h)).name, class_def(uint16_t(t)).name);
                kern::print_symbol(held_at);
                kprintf(", then ");
                kern::print_symbol(taken_at);
                kprintf("\n");
            }
        }
    }
    kprintf("lockcheck: %u lock classes, %u orderings seen, %u violations\n", g_pairs.classes(), g_pairs.pairs(),
            g_violations.load());
}

unsigned violations() { return g_violations.load(); }
unsigned expected_violations() { return g_expected.load(); }

ReportOnly::ReportOnly()
{
    unsigned long irq = cpu::irq_save();
    me().lockcheck_report_only++;
    cpu::irq_restore(irq);
}

ReportOnly::~ReportOnly()
{
    unsigned long irq = cpu::irq_save();
    me().lockcheck_report_only--;
    cpu::irq_restore(irq);
}

void print_hart_held(const kern::HartLocal& h)
{
    if (!g_enabled) {
        kprintf("  (the lock checker is off: held locks are not recorded; bootarg lockcheck)\n");
        return;
    }
    print_held("spinlocks it holds, oldest first", h.held_locks.e, h.held_locks.n, h.held_locks.dropped);
}

} // namespace ksync::lockcheck
