#include "kern/arch/riscv/ipi.h"

#include "kern/arch/riscv/csr.h"
#include "kern/arch/riscv/hart.h"
#include "kstack/grow.h"
#include "kern/console/panic.h"
#include "kern/arch/riscv/sbi.h"
#include "kern/arch/riscv/smp.h"

namespace kern::ipi {

void send(unsigned index, Reason r)
{
    HartLocal& h = hart(index);
    h.ipi_pending.fetch_or(1u << static_cast<unsigned>(r), std::memory_order_release);
    sbi::send_ipi(1, h.hartid);
}

void broadcast_stop()
{
    unsigned me = cpu::id();
    for (unsigned i = 0; i < cpu::MAX_HARTS; i++)
        if (i != me && hart(i).online.load())
            send(i, Reason::Stop);
}

void handle()
{
    csr_clear(sip, SIE_SSIE);
    HartLocal& h = this_hart();
    h.irqs_soft++;
    unsigned pending = h.ipi_pending.exchange(0, std::memory_order_acquire);
    if (pending & (1u << static_cast<unsigned>(Reason::Stop)))
        halt_this_hart();
    if (pending & (1u << static_cast<unsigned>(Reason::Call)))
        smp::run_posted_call();
    // A stack grew on this hart and raised the soft interrupt itself
    // (kstack/grow.cc): top its page cache up now that no lock is held.
    kstack::refill_grow_cache();
}

} // namespace kern::ipi
