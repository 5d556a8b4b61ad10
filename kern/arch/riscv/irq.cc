#include "kern/arch/riscv/irq.h"

#include "dev/plic.h"
#include "kern/arch/riscv/hart.h"
#include "kern/console/printf.h"

namespace kern::irq {
namespace {
constexpr unsigned MAX_IRQ = 128;

struct Slot {
    Handler handler;
    void* ctx;
    const char* name;
    unsigned hart;
    unsigned long count;
};
Slot g_slots[MAX_IRQ];
unsigned long g_spurious;
} // namespace

void attach(unsigned irq, Handler h, void* ctx, const char* name, unsigned hart_index)
{
    if (irq == 0 || irq >= MAX_IRQ || !dev::plic::present()) {
        kprintf("irq: cannot attach %s to irq %u (no PLIC or out of range)\n", name, irq);
        return;
    }
    g_slots[irq] = {h, ctx, name, hart_index, 0};
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
        if (irq < MAX_IRQ && g_slots[irq].handler) {
            g_slots[irq].count++;
            g_slots[irq].handler(g_slots[irq].ctx);
        } else {
            g_spurious++;
        }
        dev::plic::complete(h.plic_context, irq);
    }
}

unsigned list(Info* out, unsigned max)
{
    unsigned n = 0;
    for (unsigned i = 0; i < MAX_IRQ; i++) {
        if (!g_slots[i].handler)
            continue;
        if (n < max)
            out[n] = {i, g_slots[i].name, g_slots[i].hart, g_slots[i].count};
        n++;
    }
    return n;
}

} // namespace kern::irq
