#include "kern/arch/riscv/trap.h"

#include "kern/console/backtrace.h"
#include "kern/arch/riscv/csr.h"
#include "kern/arch/riscv/fixup.h"
#include "kern/arch/riscv/hart.h"
#include "kern/arch/riscv/ipi.h"
#include "kern/arch/riscv/irq.h"
#include "kern/arch/riscv/restart.h"
#include "kern/sync/lockcheck.h"
#include "kern/console/panic.h"
#include "kern/console/printf.h"
#include "kern/sched/sched.h"
#include "kern/sched/thread.h"
#include "kstack/grow.h"
#include "kstack/kstack.h"
#include "kern/arch/riscv/timer.h"
#include "vm/kmem.h"
#include "vm/layout.h"
#include "vm/tlb.h"

extern "C" void trap_entry();
// fn(arg) on another stack (kern/arch/riscv/trapentry.S).
extern "C" void call_on_stack(kern::TrapFrame* arg, void (*fn)(kern::TrapFrame*), uintptr_t stack_top);

namespace kern::trap {

void init_hart()
{
    csr_write(stvec, reinterpret_cast<uintptr_t>(&trap_entry));
    // sscratch 0: "in S-mode" for trap entry (kern/arch/riscv/trapentry.S).
    csr_write(sscratch, 0);
    // User mode may read cycle, time and instret (rdtime, benchmarks).
    csr_write(scounteren, 7);
    csr_set(sie, SIE_SSIE | SIE_SEIE);
}

const char* cause_name(uint64_t scause)
{
    if (scause & SCAUSE_INTERRUPT) {
        switch (scause & ~SCAUSE_INTERRUPT) {
        case IRQ_SOFT: return "software interrupt";
        case IRQ_TIMER: return "timer interrupt";
        case IRQ_EXTERNAL: return "external interrupt";
        }
        return "unknown interrupt";
    }
    switch (scause) {
    case INSN_MISALIGNED: return "instruction address misaligned";
    case INSN_ACCESS: return "instruction access fault";
    case ILLEGAL_INSN: return "illegal instruction";
    case BREAKPOINT: return "breakpoint";
    case LOAD_MISALIGNED: return "load address misaligned";
    case LOAD_ACCESS: return "load access fault";
    case STORE_MISALIGNED: return "store address misaligned";
    case STORE_ACCESS: return "store access fault";
    case ECALL_U: return "environment call from U-mode";
    case ECALL_S: return "environment call from S-mode";
    case INSN_PAGE_FAULT: return "instruction page fault";
    case LOAD_PAGE_FAULT: return "load page fault";
    case STORE_PAGE_FAULT: return "store page fault";
    }
    return "unknown exception";
}

void report(const TrapFrame& tf, const char* why)
{
    static const char* const names[31] = {"ra", "sp", "gp", "tp", "t0", "t1", "t2", "s0", "s1", "a0", "a1",
                                          "a2", "a3", "a4", "a5", "a6", "a7", "s2", "s3", "s4", "s5", "s6",
                                          "s7", "s8", "s9", "s10", "s11", "t3", "t4", "t5", "t6"};
    kprintf("%s: %s (scause 0x%lx) on hart %u\n", why, cause_name(tf.scause), tf.scause, cpu::id());
    kprintf("  sepc 0x%016lx  stval 0x%016lx  sstatus 0x%016lx\n", tf.sepc, tf.stval, tf.sstatus);
    kprintf("  at ");
    print_symbol(tf.sepc);
    kprintf("\n");
    for (int i = 0; i < 31; i++)
        kprintf("  %-3s 0x%016lx%s", names[i], tf.x[i], (i % 3 == 2 || i == 30) ? "\n" : "");

}

void handle_interrupt(const TrapFrame& tf)
{
    // The lock checker refuses sleeping and NO_IRQ locks in here.
    ksync::lockcheck::irq_enter();
    switch (tf.scause & ~SCAUSE_INTERRUPT) {
    case IRQ_SOFT: ipi::handle(); break;
    case IRQ_TIMER: timer::interrupt(); break;
    case IRQ_EXTERNAL: irq::handle_external(); break;
    default: panic("unexpected interrupt, scause 0x%lx", tf.scause);
    }
    ksync::lockcheck::irq_exit();
}

} // namespace kern::trap

using namespace kern;

namespace {

// How long a thread that found no page to grow into sleeps before it retries
// (the retry also refills the hart's cache, kstack/grow.h).
constexpr uint64_t GROW_RETRY_US = 5000;
char g_grow_channel; // what such a thread waits on (ps shows "stack growth")

// Grow the running stack down to `need`. On the overflow stack (both callers
// run there), interrupts off. With no page left, code that had interrupts on
// (so holds no spinlock) waits for memory: it is parked and the faulting
// instruction is retried when it runs again. Code that had them off may take
// the hart's small reserve; past that it cannot continue (NoPage).
kstack::Grow grow_or_wait(const TrapFrame& tf, uintptr_t sp, uintptr_t need)
{
    Thread* me = this_hart().current;
    bool can_wait = (tf.sstatus & SSTATUS_SPIE) && me && me->stack && !(me->flags & TF_IDLE);
    for (;;) {
        kstack::Grow g = kstack::grow_on_fault(sp, need, !can_wait);
        if (g != kstack::Grow::NoPage || !can_wait)
            return g;
        // Holding no lock, the allocator may be asked here (the fault path
        // itself never allocates: it may have hit inside the allocator).
        if (kstack::refill_grow_cache())
            continue;
        kstack::note_grow_wait();
        uint64_t deadline = timer::now_ticks() + GROW_RETRY_US * timer::timebase_hz() / 1000000 + 1;
        sched::park_from_trap(tf, &g_grow_channel, "stack growth", deadline);
        // Woken before it could sleep: try again.
    }
}

[[noreturn]] void report_overflow(TrapFrame* tf, kstack::Grow g)
{
    HartLocal& h = this_hart();
    uintptr_t sp = tf->sp();
    kstack::note_guard_fault();
    const kstack::Stack* st = kstack::from_address(sp);
    uintptr_t lo = st ? kstack::bottom(st) : h.boot_stack_base;
    uintptr_t hi = st ? kstack::top(st) : h.boot_stack_top;
    {
        FatalReport r;
        if (g == kstack::Grow::NoPage)
            kprintf("\nkernel stack growth failed on hart %u: no page left for code that cannot wait "
                    "(interrupts off), the hart's growth reserve included\n",
                    cpu::id());
        kprintf("\nkernel stack overflow on hart %u: sp 0x%lx, stack [0x%lx, 0x%lx)\n", cpu::id(), sp, lo, hi);
        if (h.current)
            kprintf("  thread %lu (%s)\n", h.current->id, h.current->name);
        else
            kprintf("  on the hart's boot stack (no thread)\n");
        kprintf("  faulting address 0x%lx%s\n", tf->stval,
                tf->stval < lo && tf->stval + 65536 > lo ? " (in the guard below the stack)" : "");
        trap::report(*tf, "stack overflow");
        backtrace_from(tf->sepc, tf->fp(), tf->ra());
    }
    panic("kernel stack overflow on hart %u at 0x%lx (address 0x%lx)", cpu::id(), tf->sepc, tf->stval);
}

} // namespace

// From trap_entry's overflow path, on this hart's overflow stack: the running
// stack had no room below sp for a trap frame (or, for an interrupt, for its
// handler). An interrupt is handled right here: interrupts never grow a
// stack, so they never depend on a page being free. An exception either only
// needs the stack to grow (kstack/grow.h: map the pages and return, and
// trap_entry retries the instruction; or wait for memory), or it is a real
// overflow into the guard, reported here.
extern "C" void stack_overflow_trap(TrapFrame* tf)
{
    if (tf->scause & SCAUSE_INTERRUPT) {
        restart::on_interrupt(*tf);
        trap::handle_interrupt(*tf);
        sched::preempt_from_overflow(*tf);
        return;
    }
    uintptr_t sp = tf->sp();
    uintptr_t need = sp - (TF_SIZE + 16);
    bool access_fault = tf->scause == trap::LOAD_PAGE_FAULT || tf->scause == trap::STORE_PAGE_FAULT;
    if (access_fault && tf->stval < need && tf->stval + kstack::SLOT_SIZE > sp)
        need = tf->stval; // the access itself is further down than the frame would go
    kstack::Grow g = grow_or_wait(*tf, sp, need);
    if (g != kstack::Grow::Grown)
        report_overflow(tf, g);
}

// The ordinary trap path's growth (an access below the mapped stack while sp
// has room), moved to the overflow stack by trap_dispatch: nothing it calls
// may fault into the pages it is about to map.
extern "C" void grow_below_sp_trap(TrapFrame* tf)
{
    kstack::Grow g = grow_or_wait(*tf, tf->sp(), tf->stval);
    if (g != kstack::Grow::Grown)
        report_overflow(tf, g);
}

// Called from trap_entry with the saved frame.
extern "C" void trap_dispatch(TrapFrame* tf)
{
    if (tf->scause & SCAUSE_INTERRUPT) {
        restart::on_interrupt(*tf); // an allocator fast path reruns (kern/arch/riscv/restart.h)
        trap::handle_interrupt(*tf);
        sched::preempt_from_trap(*tf);
        return;
    }

    // A stale "not mapped" for a kernel-stack page another hart has since
    // mapped (grown or swapped in): Sv39 lets a hart cache invalid entries
    // until an sfence.vma. Flush and retry.
    if ((tf->scause == trap::LOAD_PAGE_FAULT || tf->scause == trap::STORE_PAGE_FAULT) &&
        vm::layout::is_kstack(tf->stval) && vm::kmem::lookup(tf->stval)) {
        vm::tlb::flush_local(tf->stval);
        return;
    }
    // An exception in the kernel. Expected ones (probes, user copies) have a fixup.
    if (uintptr_t fix = find_fixup(tf->sepc)) {
        tf->sepc = fix;
        return;
    }
    // An access below the mapped part of the running stack while sp itself
    // still has room: compilers store into a new frame before they move sp
    // past it (GCC does for large frames). Grow, as the overflow path would.
    // The growth itself runs on this hart's overflow stack (free: the trap
    // came from code on a kernel stack, with interrupts off since), so that
    // the frames of its callees cannot land in the pages it is mapping.
    bool access_fault = tf->scause == trap::LOAD_PAGE_FAULT || tf->scause == trap::STORE_PAGE_FAULT;
    if (access_fault && vm::layout::is_kstack(tf->stval) &&
        kstack::from_address(tf->stval) == kstack::from_address(tf->sp()) && kstack::from_address(tf->sp())) {
        call_on_stack(tf, &grow_below_sp_trap, this_hart().overflow_stack_top);
        return;
    }
    HartLocal& h = this_hart();
    if (h.exec_fixup && (tf->scause == trap::INSN_PAGE_FAULT || tf->scause == trap::INSN_ACCESS)) {
        tf->sepc = h.exec_fixup;
        tf->x[9] = static_cast<uint64_t>(-1); // a0
        return;
    }
    {
        FatalReport r;
        trap::report(*tf, "kernel trap");
    }
    panic("unhandled %s in the kernel at 0x%lx, address 0x%lx", trap::cause_name(tf->scause), tf->sepc,
          tf->stval);
}
