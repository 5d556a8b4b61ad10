#include "boot/harts.h"

#include "boot/platform.h"
#include "kern/arch/riscv/hart.h"
#include "kern/arch/riscv/irq.h"
#include "kern/arch/riscv/sbi.h"
#include "kern/arch/riscv/timer.h"
#include "kern/arch/riscv/trap.h"
#include "kern/console/panic.h"
#include "kern/console/printf.h"
#include "kern/sched/thread.h"
#include "vm/kmem.h"

extern "C" void _secondary_start(); // boot/entry.S

namespace kern::harts {

void start_secondaries()
{
    const platform::Info& p = platform::info();
    unsigned me = cpu::id();
    for (unsigned i = 0; i < p.nharts; i++) {
        if (i == me)
            continue;
        HartLocal& h = hart(i);
        auto r = sbi::hart_start(h.hartid, reinterpret_cast<uintptr_t>(&_secondary_start),
                                 reinterpret_cast<uintptr_t>(&h));
        if (r.error) {
            kprintf("smp: hart %u (hartid %u) did not start: SBI error %ld\n", i, h.hartid, r.error);
            continue;
        }
        // Wait up to five seconds for it to report in (Linux waits as long:
        // under an emulator on a busy host a second was once not enough); a
        // hart that never does is left out rather than hanging the boot.
        uint64_t deadline = timer::now_us() + 5000000;
        while (!h.online.load(std::memory_order_acquire) && timer::now_us() < deadline) {
        }
        if (!h.online.load())
            kprintf("smp: hart %u (hartid %u) started but never came online\n", i, h.hartid);
    }
}

} // namespace kern::harts

// First C++ code on a secondary hart: tp and sp are set (boot/entry.S).
extern "C" [[noreturn]] void secondary_main(unsigned long hartid, unsigned long)
{
    using namespace kern;
    HartLocal& h = this_hart();
    if (h.hartid != hartid)
        panic("secondary hart %lu started with the HartLocal of hartid %u", hartid, h.hartid);
    vm::kmem::init_secondary();
    trap::init_hart();
    irq::init_hart();
    thread::init_secondary_hart();
    timer::start_hart();
    h.online.store(true, std::memory_order_release);
    cpu::irq_restore(cpu::IRQS_ON);
    thread::run_idle();
}
