#include "boot/platform.h"

#include "boot/platform_internal.h"

#include "dev/ns16550.h"
#include "dev/plic.h"
#include "dev/sifive_uart.h"
#include "boot/bootargs.h"
#include "kern/console/console.h"
#include "boot/machine.h"
#include "kern/arch/riscv/hart.h"
#include "kern/arch/riscv/irq.h"
#include "kern/console/panic.h"
#include "kern/arch/riscv/power.h"
#include "kern/console/printf.h"
#include "kern/arch/riscv/timer.h"

#include <new>

extern "C" uint8_t boot_stacks[cpu::MAX_HARTS][BOOT_STACK_SIZE];
extern "C" uint8_t overflow_stacks[cpu::MAX_HARTS][OVERFLOW_STACK_SIZE];

namespace kern::platform {
namespace {

// Large (a few KiB): static, never on the boot stack.
fdt::MachineInfo g_machine;
Info g_info;

// The console UART driver lives here; there is no heap this early.
union UartStorage {
    UartStorage() {}
    dev::Ns16550 ns16550;
    dev::SifiveUart sifive;
} g_uart_storage;

// The blob's header says how long it is, but the header is untrusted until
// parsed: never read more than this.
constexpr size_t FDT_MAX_BYTES = 256 * 1024;

void uart_interrupt(void*) { console::rx_interrupt(); }

// Boot hart first (index 0), then every other hart that is okay and has an
// MMU, in device-tree order. sifive_u's hart 0 (an E51 without S-mode or MMU)
// is left out here.
void setup_harts(unsigned long boot_hartid)
{
    const fdt::Cpu* boot = fdt::find_cpu(g_machine, uint32_t(boot_hartid));
    if (!boot)
        panic("device tree has no cpu node for boot hart %lu", boot_hartid);
    unsigned n = 0, ignored = 0;
    auto add = [&](uint32_t hartid) {
        if (n == cpu::MAX_HARTS) {
            // One line for all of them, however many the tree lists.
            if (ignored++ == 0)
                kprintf("platform: Zest runs on at most %u harts; left parked: hartid %u", cpu::MAX_HARTS, hartid);
            else
                kprintf(", %u", hartid);
            return;
        }
        HartLocal& h = hart_locals[n];
        h.index = n;
        h.hartid = hartid;
        h.boot_stack_base = reinterpret_cast<uintptr_t>(boot_stacks[n]);
        h.boot_stack_top = h.boot_stack_base + BOOT_STACK_SIZE;
        h.stack_limit = h.boot_stack_base;
        h.stack_top = h.boot_stack_top;
        h.overflow_stack_top = reinterpret_cast<uintptr_t>(overflow_stacks[n]) + OVERFLOW_STACK_SIZE;
        h.plic_context = fdt::plic_s_context(g_machine, hartid);
        n++;
    };
    add(uint32_t(boot_hartid));
    for (size_t i = 0; i < g_machine.ncpus; i++) {
        const fdt::Cpu& c = g_machine.cpus[i];
        if (c.hart_id == boot_hartid || !c.okay || !c.has_sv39())
            continue;
        add(c.hart_id);
    }
    if (ignored)
        kprintf("\n");
    g_info.nharts = n;
    hart_locals[0].online.store(true);
}

// Harts the tree lists past what MachineInfo holds: named, then left parked in
// the firmware (smp::start_secondaries() starts only the harts setup_harts() kept).
void report_ignored_harts()
{
    const fdt::MachineInfo& m = g_machine;
    if (m.ncpus_ignored == 0)
        return;
    kprintf("platform: the device tree lists %zu harts; Zest reads %zu and leaves hart%s ", m.ncpus + m.ncpus_ignored,
            m.ncpus, m.ncpus_ignored == 1 ? "" : "s");
    size_t named = 0;
    for (size_t i = 0; i < m.nignored_runs; i++) {
        const fdt::HartRun& r = m.ignored_runs[i];
        kprintf(r.first == r.last ? "%s%u" : "%s%u-%u", i ? ", " : "", r.first, r.last);
        named += r.last - r.first + 1;
    }
    if (named < m.ncpus_ignored)
        kprintf(" and %zu more", m.ncpus_ignored - named);
    kprintf(" parked\n");
}

void setup_console()
{
    if (g_machine.nuarts_ignored)
        kprintf("platform: %zu UART%s left out: reg-io-width or reg-shift Zest cannot drive\n", g_machine.nuarts_ignored,
                g_machine.nuarts_ignored == 1 ? "" : "s");
    if (g_machine.stdout_uart < 0) {
        kprintf("platform: no UART in the device tree; console stays on SBI\n");
        return;
    }
    const fdt::Uart& u = g_machine.uarts[g_machine.stdout_uart];
    dev::Uart* drv;
    if (u.kind == fdt::UartKind::SifiveUart0) {
        auto* s = new (&g_uart_storage.sifive) dev::SifiveUart(u.base);
        s->init();
        drv = s;
    } else {
        auto* s = new (&g_uart_storage.ns16550) dev::Ns16550(u.base, u.reg_shift, u.reg_io_width);
        s->init();
        drv = s;
    }
    console::attach_uart(drv);
    if (g_machine.plic.present && u.irq) {
        irq::attach(u.irq, uart_interrupt, nullptr, "console uart", 0);
        drv->enable_rx_interrupt();
        console::set_interrupt_driven(true);
    } else {
        kprintf("platform: console input is polled (no PLIC or no UART interrupt)\n");
    }
}

const char* uart_kind(fdt::UartKind k)
{
    switch (k) {
    case fdt::UartKind::SifiveUart0: return "sifive,uart0";
    case fdt::UartKind::SnpsDwApb: return "snps,dw-apb-uart";
    case fdt::UartKind::Ns16550a: break;
    }
    return "ns16550a";
}

void print_range_list(const char* what, const fdt::Range* r, size_t n)
{
    uint64_t total = 0;
    for (size_t i = 0; i < n; i++)
        total += r[i].size;
    kprintf("  %-9s %lu KiB in %zu range%s\n", what, total / 1024, n, n == 1 ? "" : "s");
    for (size_t i = 0; i < n; i++)
        kprintf("            0x%010lx-0x%010lx (%lu KiB)\n", r[i].base, r[i].end(), r[i].size / 1024);
}

} // namespace

void setup(unsigned long boot_hartid, uintptr_t fdt_pa)
{
    lib::Status st =
        fdt::parse(reinterpret_cast<const void*>(fdt_pa), FDT_MAX_BYTES, fdt_pa, g_machine, uint32_t(boot_hartid));
    if (!st.ok())
        panic("cannot boot without a valid device tree at 0x%lx: %s", fdt_pa, g_machine.error.text);

    bootargs::set(g_machine.bootargs);
    // First, so that a panic in the checks below still ends with a failure status.
    if (g_machine.finisher.kind == fdt::FinisherKind::SifiveTest0 ||
        g_machine.finisher.kind == fdt::FinisherKind::SifiveTest1)
        power::set_finisher(g_machine.finisher.base);
    report_ignored_harts();
    setup_harts(boot_hartid);
    probe_memory(g_machine);

    uint64_t tb = g_machine.timebase_hz;
    if (tb == 0) {
        tb = 10000000;
        kprintf("platform: device tree gives no timebase-frequency; assuming %lu Hz\n", tb);
    }
    timer::init(tb);
    check_timer_and_ipi(boot_hartid);

    if (g_machine.plic.present)
        dev::plic::init(g_machine.plic.base, g_machine.plic.ndev);
    else
        kprintf("platform: no PLIC: no device interrupts\n");

    setup_console();
}

const Info& info() { return g_info; }
const fdt::MachineInfo& machine() { return g_machine; }

void print_summary()
{
    const fdt::MachineInfo& m = g_machine;
    kprintf("harts: %u usable, timebase %lu Hz\n", g_info.nharts, timer::timebase_hz());
    for (unsigned i = 0; i < g_info.nharts; i++) {
        const HartLocal& h = hart_locals[i];
        const fdt::Cpu* c = fdt::find_cpu(m, h.hartid);
        kprintf("  hart %u: hartid %u, %s, PLIC context %d, %s\n", i, h.hartid, h.online.load() ? "online" : "offline",
                h.plic_context, c ? c->isa : "?");
    }
    kprintf("memory:\n");
    print_range_list("RAM", m.memory, m.nmemory);
    print_range_list("reserved", m.reserved, m.nreserved);
    print_range_list("usable", m.usable, m.nusable);
    kprintf("devices:\n");
    for (size_t i = 0; i < m.nuarts; i++)
        kprintf("  uart      %s at 0x%lx, irq %u%s\n", uart_kind(m.uarts[i].kind), m.uarts[i].base, m.uarts[i].irq,
                int(i) == m.stdout_uart ? " (console)" : "");
    if (m.plic.present)
        kprintf("  plic      at 0x%lx, %u sources, %u contexts\n", m.plic.base, m.plic.ndev, m.plic.contexts);
    for (size_t i = 0; i < m.nvirtio; i++)
        kprintf("  virtio    mmio at 0x%lx, irq %u\n", m.virtio[i].base, m.virtio[i].irq);
    for (size_t i = 0; i < m.nspi; i++)
        kprintf("  spi       sifive,spi0 at 0x%lx, irq %u%s\n", m.spi[i].base, m.spi[i].irq,
                m.spi[i].has_mmc_slot ? ", SD card slot" : "");
    if (m.finisher.kind != fdt::FinisherKind::None)
        kprintf("  finisher  at 0x%lx (power off with a status)\n", m.finisher.base);
    if (m.has_clint)
        kprintf("  clint     at 0x%lx\n", m.clint.base);
    kprintf("bootargs: '%s'\n", m.bootargs);
}

} // namespace kern::platform
