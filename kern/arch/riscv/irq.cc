#include "kern/arch/riscv/irq.h"

#include "dev/plic.h"
#include "kern/arch/riscv/hart.h"
#include "kern/console/printf.h"

#include <cstdint>

namespace kern::irq {
namespace {
// The PLIC numbers its sources 1..1023 (the P550's has 520), but a machine
// attaches a handful: a byte per source says which of the few slots serves it.
constexpr unsigned MAX_SOURCES = 1024;
constexpr unsigned MAX_HANDLERS = 32;

struct Slot {
    Handler handler;
    void* ctx;
};
Slot g_slots[MAX_HANDLERS];
unsigned g_nslots;
uint8_t g_slot_of[MAX_SOURCES]; // slot index + 1; 0: no handler
} // namespace

void attach(unsigned irq, Handler h, void* ctx, const char* name, unsigned hart_index)
{
    if (irq == 0 || irq >= MAX_SOURCES || !dev::plic::present() || (dev::plic::ndev() && irq > dev::plic::ndev())) {
        kprintf("irq: cannot attach %s to irq %u (no PLIC, or the PLIC has no such source)\n", name, irq);
        return;
    }
    unsigned i = g_slot_of[irq] ? g_slot_of[irq] - 1u : g_nslots;
    if (i == MAX_HANDLERS) {
        kprintf("irq: cannot attach %s to irq %u (all %u handler slots taken)\n", name, irq, MAX_HANDLERS);
        return;
    }
    g_slots[i] = {h, ctx};
    if (i == g_nslots)
        g_nslots++;
    g_slot_of[irq] = uint8_t(i + 1);
    int ctx_no = hart(hart_index).plic_context;
    dev::plic::set_priority(irq, 1);
    if (ctx_no >= 0)
        dev::plic::enable(irq, ctx_no);
}

void init_hart()
{
    int ctx = this_hart().plic_context;
    if (ctx >= 0 && dev::plic::present())
        dev::plic::set_threshold(ctx, 0);
}

void handle_external()
{
    HartLocal& h = this_hart();
    h.irqs_external++;
    if (h.plic_context < 0)
        return;
    for (;;) {
        unsigned irq = dev::plic::claim(h.plic_context);
        if (irq == 0)
            break;
        if (unsigned i = irq < MAX_SOURCES ? g_slot_of[irq] : 0) {
            g_slots[i - 1].handler(g_slots[i - 1].ctx);
        }
        dev::plic::complete(h.plic_context, irq);
    }
}

} // namespace kern::irq
