#include "kern/debug/debugdemo.h"

#include "boot/bootargs.h"
#include "kern/console/backtrace.h"
#include "kern/console/printf.h"
#include "kern/sched/sched.h"
#include "kern/sched/thread.h"
#include "kstack/kstack.h"
#include "kstack/swap.h"
#include "vm/swap.h"

#include <atomic>

namespace kern::debugdemo {

// Not static, never inlined, each calling the next and doing work after the
// call (no tail call): the chain must be on the stack as written, so that a
// backtrace names all three.
[[gnu::noinline]] void debugdemo_level3(std::atomic<int>* asleep);
[[gnu::noinline]] void debugdemo_level2(std::atomic<int>* asleep);
[[gnu::noinline]] void debugdemo_level1(std::atomic<int>* asleep);

void debugdemo_level3(std::atomic<int>* asleep)
{
    asleep->fetch_add(1);
    // A long timed sleep: nothing of it is linked anywhere, so the stack holds
    // nothing and may be swapped out (kstack/hold.h).
    for (;;)
        sched::sleep_us(3600ull * 1000000);
}

// Its frame holds 6 KiB, so the chain spans two stack pages (the stack grows
// into the second on demand) and the swapped stack takes two swap blocks:
// gdb must find each page's block.
void debugdemo_level2(std::atomic<int>* asleep)
{
    volatile char pad[6144];
    pad[0] = 1;
    pad[sizeof pad - 1] = 2;
    debugdemo_level3(asleep);
    asm volatile("" : : "r"(&pad[0]) : "memory");
}

void debugdemo_level1(std::atomic<int>* asleep)
{
    debugdemo_level2(asleep);
    asm volatile("" ::: "memory");
}

namespace {

std::atomic<int> g_asleep;

void demo_entry(void*) { debugdemo_level1(&g_asleep); }

// Asleep and switched out: its saved context is what a backtrace reads.
bool wait_switched_out(Thread* t)
{
    for (int i = 0; i < 5000; i++) {
        if (t->state == ThreadState::Sleeping && !t->on_cpu.load())
            return true;
        sched::sleep_us(1000);
    }
    return false;
}

} // namespace

bool start_from_bootargs()
{
    if (!bootargs::has("debugdemo"))
        return false;
    auto swapped = thread::spawn({.name = "swapped-demo", .entry = demo_entry});
    auto resident = thread::spawn({.name = "resident-demo", .entry = demo_entry, .flags = TF_NO_SWAP});
    if (!swapped.ok() || !resident.ok()) {
        kprintf("debugdemo: could not start its threads\n");
        return false;
    }
    while (g_asleep.load() < 2)
        sched::sleep_us(1000);
    if (!wait_switched_out(swapped.value()) || !wait_switched_out(resident.value())) {
        kprintf("debugdemo: the demo threads did not go to sleep\n");
        return false;
    }
    if (vm::swap::enabled()) {
        // Every swappable sleeper goes: asleep for at least 0 us, and more
        // pages asked for than there are.
        kstack::swap::OutResult r = kstack::swap::swap_out(kstack::swap::scratch(2), 1u << 20, 0);
        kprintf("debugdemo: swapped out %u stacks (%lu pages); swapped-demo's stack is %s\n", r.stacks,
                r.pages_freed, kstack::state_name(kstack::state(swapped.value()->stack)));
    } else {
        kprintf("debugdemo: no swap device: swapped-demo's stack stays resident\n");
    }
    // The kernel's own view of the resident thread, for gdb's to be compared
    // with: from its saved context, as a backtrace of a sleeping thread starts.
    Thread* t = resident.value();
    kprintf("debugdemo: kernel backtrace of thread %lu (%s)\n", t->id, t->name);
    thread::SavedRegs r;
    if (thread::saved_regs(t, r))
        backtrace_from(r.pc, r.fp, r.ra);
    else
        kprintf("debugdemo: its stack is not resident\n");
    kprintf("debugdemo: end of backtrace\n");
    return true;
}

} // namespace kern::debugdemo
