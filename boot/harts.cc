#include "boot/harts.h"

#include "boot/bootargs.h"
#include "boot/platform.h"
#include "kern/arch/riscv/hart.h"
#include "kern/arch/riscv/irq.h"
#include "kern/arch/riscv/sbi.h"
#include "kern/arch/riscv/timer.h"
#include "kern/arch/riscv/trap.h"
#include "kern/console/panic.h"
#include "kern/console/printf.h"
#include "kern/sched/thread.h"
#include "lib/string.h"
#include "vm/kmem.h"

#include <atomic>

// boot/entry.S: where SBI starts a secondary, the kernel's entry, and the
// table through which a hart that arrived at the entry is released.
extern "C" void _secondary_start();
extern "C" void _start();
extern "C" kern::HartLocal* volatile hart_release[cpu::MAX_HARTS];

namespace kern::harts {
namespace {

// secondary_main's steps, in order; a hart that never comes online is
// reported with the last one it reached, so a hang names its place.
enum Step : uint32_t { NotEntered, Entered, Paging, Traps, Irqs, Threads, Timer, Online, NSteps };
constexpr const char* STEP_NAMES[NSteps] = {
    "not entered", "entered", "paging on", "traps set", "interrupts routed",
    "idle thread made", "timer started", "online",
};

Bringup g_bringup[cpu::MAX_HARTS];
std::atomic<uint32_t> g_step[cpu::MAX_HARTS];

void reached(unsigned index, Step s) { g_step[index].store(s, std::memory_order_release); }

// Waits for h to come online. A hart that arrived at the kernel's entry waits
// for its release in wfi; an IPI every 10 ms ends that wait (a hart SBI
// started at _secondary_start clears the IPI in HART_EARLY_SETUP).
bool wait_online(const HartLocal& h, uint64_t deadline)
{
    uint64_t next_kick = 0;
    while (!h.online.load(std::memory_order_acquire)) {
        uint64_t now = timer::now_us();
        if (now >= deadline)
            return false;
        if (now >= next_kick) {
            (void)sbi::send_ipi(1, h.hartid);
            next_kick = now + 10000;
        }
    }
    return true;
}

// Where SBI is asked to start a hart: _secondary_start, or with the bootarg
// smp_start=entry the kernel's entry, as OpenSBI 1.1 does when it loses the
// race (boot/entry.S), so a boot test can take that path every time.
uintptr_t start_address()
{
    char where[8];
    if (bootargs::get("smp_start", where, sizeof where) && strcmp(where, "entry") == 0)
        return reinterpret_cast<uintptr_t>(&_start);
    return reinterpret_cast<uintptr_t>(&_secondary_start);
}

long start(HartLocal& h, Bringup& b, uintptr_t where)
{
    // Release first: a hart that reaches the entry instead finds itself here.
    __atomic_store_n(&hart_release[h.index], &h, __ATOMIC_RELEASE);
    b.start_error = sbi::hart_start(h.hartid, where, reinterpret_cast<uintptr_t>(&h)).error;
    return b.start_error;
}

} // namespace

const Bringup& bringup(unsigned index)
{
    Bringup& b = g_bringup[index];
    b.step = g_step[index].load(std::memory_order_acquire);
    return b;
}

const char* step_name(uint32_t step) { return step < NSteps ? STEP_NAMES[step] : "?"; }

void start_secondaries()
{
    const platform::Info& p = platform::info();
    unsigned me = cpu::id();
    uint64_t slowest_us = 0;
    unsigned slowest = me;
    uintptr_t where = start_address();
    for (unsigned i = 0; i < p.nharts; i++) {
        g_bringup[i].sbi_state = -1;
        if (i == me)
            continue;
        HartLocal& h = hart(i);
        Bringup& b = g_bringup[i];
        uint64_t t0 = timer::now_us();
        if (start(h, b, where)) {
            kprintf("smp: hart %u (hartid %u) did not start: SBI error %ld\n", i, h.hartid, b.start_error);
            continue;
        }
        // Five seconds, as Linux waits: a bring-up takes 10-900 ms here on a
        // loaded host, so a hart missing after that is lost, not slow.
        if (!wait_online(h, t0 + 5000000)) {
            b.sbi_state = sbi::hart_status(h.hartid).value;
            kprintf("smp: hart %u (hartid %u) started but never came online: SBI state %ld, reached \"%s\"\n",
                    i, h.hartid, b.sbi_state, step_name(bringup(i).step));
            continue;
        }
        b.online_after_us = timer::now_us() - t0;
        // A hart released at the entry took its slot; otherwise take it back.
        b.via_entry = __atomic_exchange_n(&hart_release[i], nullptr, __ATOMIC_ACQ_REL) == nullptr;
        if (b.via_entry)
            kprintf("smp: hart %u (hartid %u) arrived at the kernel's entry, not _secondary_start: released there\n",
                    i, h.hartid);
        if (b.online_after_us > slowest_us) {
            slowest_us = b.online_after_us;
            slowest = i;
        }
    }
    if (slowest != me)
        kprintf("smp: slowest bring-up: hart %u, online after %lu us\n", slowest, slowest_us);
}

} // namespace kern::harts

// First C++ code on a secondary hart: tp and sp are set (boot/entry.S).
extern "C" [[noreturn]] void secondary_main(unsigned long hartid, unsigned long)
{
    using namespace kern;
    using namespace kern::harts;
    HartLocal& h = this_hart();
    if (h.hartid != hartid)
        panic("secondary hart %lu started with the HartLocal of hartid %u", hartid, h.hartid);
    unsigned me = h.index;
    reached(me, Entered);
    vm::kmem::init_secondary();
    reached(me, Paging);
    trap::init_hart();
    reached(me, Traps);
    irq::init_hart();
    reached(me, Irqs);
    thread::init_secondary_hart();
    reached(me, Threads);
    timer::start_hart();
    reached(me, Timer);
    h.online.store(true, std::memory_order_release);
    reached(me, Online);
    cpu::irq_restore(cpu::IRQS_ON);
    thread::run_idle();
}
