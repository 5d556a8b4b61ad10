// The device walk: PLIC (and its per-hart contexts), virtio-mmio, SiFive SPI,
// test finishers and syscon power actions, the CLINT, and the interrupt a
// device raises. UARTs are boot/machine_console.cc. See boot/machine.h.
#include "boot/machine_internal.h"

namespace fdt::mach {

// else the first entry of "interrupts-extended" (<phandle irq...>) whose
// controller is a PLIC, stepping over other controllers' entries by their
// #interrupt-cells.
uint32_t first_irq(const Blob& b, Node n)
{
    Property p;
    uint32_t irq = 0;
    if (b.find_prop(n, "interrupts", p) && p.cell(0, irq))
        return irq;
    if (!b.find_prop(n, "interrupts-extended", p))
        return 0;
    for (uint32_t i = 0;;) {
        uint32_t ph, cell0;
        Node ctrl;
        if (!p.cell(i, ph) || !b.find_phandle(ph, ctrl))
            return 0;
        uint32_t ncells = b.u32_or(ctrl, "#interrupt-cells", 1);
        Property compat;
        bool plic = b.find_prop(ctrl, "compatible", compat) &&
                    (compat.has_string("riscv,plic0") || compat.has_string("sifive,plic-1.0.0"));
        if (plic && ncells >= 1 && p.cell(i + 1, cell0))
            return cell0;
        if (ncells > 16)
            return 0; // nonsense: do not walk on
        i += 1 + ncells;
    }
}

namespace {

// ---- devices ------------------------------------------------------------------------------

// interrupts-extended = <phandle irq>... : context i is the i-th pair. Keep the
// contexts that deliver irq 9 (supervisor external) to a known hart.
lib::Status plic_contexts(Parser& p, Node n)
{
    Plic& plic = p.m.plic;
    Property ie;
    if (!p.b.find_prop(n, "interrupts-extended", ie))
        return {};
    uint32_t ncells = ie.len / 4;
    for (uint32_t i = 0; i < ncells; plic.contexts++) {
        uint32_t ph = 0, irq = 0;
        (void)ie.cell(i, ph);
        const Cpu* cpu = nullptr;
        for (size_t k = 0; k < p.m.ncpus && !cpu; k++)
            if (p.m.cpus[k].intc_phandle == ph)
                cpu = &p.m.cpus[k];
        // Any other interrupt controller says how many cells follow its phandle.
        uint32_t icells = 1;
        Node target;
        if (!cpu) {
            if (!p.b.find_phandle(ph, target)) {
                MsgWriter w = p.msg();
                w.str("fdt: interrupts-extended of ");
                p.path(w, n).str(" names unknown phandle ").hex(ph);
                return lib::Error::Corrupt;
            }
            icells = p.b.u32_or(target, "#interrupt-cells", 1);
        }
        if (icells < 1 || icells > 4 || !ie.cell(i + 1, irq) || i + 1 + icells > ncells) {
            MsgWriter w = p.msg();
            w.str("fdt: interrupts-extended of ");
            p.path(w, n).str(" is truncated at context ").dec(plic.contexts);
            return lib::Error::Corrupt;
        }
        if (cpu && irq == 9) {
            if (plic.nharts == kMaxCpus)
                return too_many(p, "PLIC S-mode contexts", kMaxCpus, n);
            plic.harts[plic.nharts++] = PlicHart {cpu->hart_id, plic.contexts};
        }
        i += 1 + icells;
    }
    return {};
}

lib::Status parse_plic(Parser& p, Node bus, Node n)
{
    Plic& plic = p.m.plic;
    if (plic.present) {
        MsgWriter w = p.msg();
        w.str("fdt: second PLIC at ");
        p.path(w, n).str(" (only one is supported)");
        return lib::Error::Unsupported;
    }
    Range r;
    TRY(device_reg(p, bus, n, "PLIC", r));
    plic.present = true;
    plic.base = r.base;
    plic.size = r.size;
    plic.ndev = p.b.u32_or(n, "riscv,ndev", 0);
    plic.phandle = p.b.phandle(n);
    return plic_contexts(p, n);
}

// A fixed-clock's frequency, found through a "clocks" phandle; 0 if not fixed.
lib::Status parse_virtio(Parser& p, Node bus, Node n)
{
    if (p.m.nvirtio == kMaxVirtio)
        return too_many(p, "virtio,mmio devices", kMaxVirtio, n);
    Range r;
    TRY(device_reg(p, bus, n, "virtio,mmio device", r));
    p.m.virtio[p.m.nvirtio++] = Mmio {r.base, r.size, first_irq(p.b, n)};
    return {};
}

lib::Status parse_spi(Parser& p, Node bus, Node n)
{
    if (p.m.nspi == kMaxSpi)
        return too_many(p, "SPI controllers", kMaxSpi, n);
    Range r;
    TRY(device_reg(p, bus, n, "SPI controller", r));
    Spi& spi = p.m.spi[p.m.nspi++];
    spi = Spi {r.base, r.size, first_irq(p.b, n), false};
    Node c;
    for (bool more = p.b.first_child(n, c); more; more = p.b.next_sibling(c, c))
        if (p.b.enabled(c) && has_compat(p.b, c, "mmc-spi-slot"))
            spi.has_mmc_slot = true;
    return {};
}

lib::Status parse_finisher(Parser& p, Node bus, Node n, FinisherKind kind)
{
    // Prefer a real sifive,test device over a node that is only a "syscon".
    if (p.m.finisher.kind != FinisherKind::None &&
        (kind == FinisherKind::Syscon || p.m.finisher.kind != FinisherKind::Syscon))
        return {};
    Range r;
    TRY(device_reg(p, bus, n, "test finisher", r));
    p.m.finisher = Finisher {kind, r.base, r.size};
    return {};
}

// syscon-poweroff/-reboot: regmap = <&syscon>, offset, value and/or mask.
lib::Status parse_syscon_action(Parser& p, Node n, SysconAction& out)
{
    Property prop;
    uint32_t ph = 0;
    Node regmap, regmap_bus;
    if (!p.b.find_prop(n, "regmap", prop) || !prop.cell(0, ph) ||
        !p.b.find_phandle(ph, regmap) || !p.b.parent(regmap, regmap_bus)) {
        MsgWriter w = p.msg();
        w.str("fdt: regmap of ");
        p.path(w, n).str(" does not name a node");
        return lib::Error::Corrupt;
    }
    Range r;
    TRY(device_reg(p, regmap_bus, regmap, "syscon", r));
    out = SysconAction {};
    out.regmap_base = r.base;
    out.offset = p.b.u32_or(n, "offset", 0);
    bool has_value = p.b.find_prop(n, "value", prop);
    bool has_mask = p.b.find_prop(n, "mask", prop);
    out.value = p.b.u32_or(n, "value", 0);
    out.mask = p.b.u32_or(n, "mask", 0xffffffff);
    if (!has_value && has_mask) {
        // Old bindings: mask alone is the value to write.
        out.value = out.mask;
        out.mask = 0xffffffff;
    }
    out.present = has_value || has_mask;
    return {};
}

lib::Status parse_device(Parser& p, Node bus, Node n)
{
    const Blob& b = p.b;
    if (has_compat(b, n, "riscv,plic0") || has_compat(b, n, "sifive,plic-1.0.0"))
        return parse_plic(p, bus, n);
    if (has_compat(b, n, "ns16550a") || has_compat(b, n, "ns16550"))
        return parse_uart(p, bus, n, UartKind::Ns16550a);
    if (has_compat(b, n, "snps,dw-apb-uart"))
        return parse_uart(p, bus, n, UartKind::SnpsDwApb);
    if (has_compat(b, n, "sifive,uart0"))
        return parse_uart(p, bus, n, UartKind::SifiveUart0);
    if (has_compat(b, n, "virtio,mmio"))
        return parse_virtio(p, bus, n);
    if (has_compat(b, n, "sifive,spi0"))
        return parse_spi(p, bus, n);
    if (has_compat(b, n, "sifive,test1"))
        return parse_finisher(p, bus, n, FinisherKind::SifiveTest1);
    if (has_compat(b, n, "sifive,test0"))
        return parse_finisher(p, bus, n, FinisherKind::SifiveTest0);
    if (has_compat(b, n, "syscon"))
        return parse_finisher(p, bus, n, FinisherKind::Syscon);
    if (has_compat(b, n, "syscon-poweroff"))
        return parse_syscon_action(p, n, p.m.poweroff);
    if (has_compat(b, n, "syscon-reboot"))
        return parse_syscon_action(p, n, p.m.reboot);
    if (has_compat(b, n, "riscv,clint0") || has_compat(b, n, "sifive,clint0")) {
        Range r;
        TRY(device_reg(p, bus, n, "CLINT", r));
        p.m.has_clint = true;
        p.m.clint = r;
    }
    return {};
}

// Visits every enabled node below `bus`; a disabled node hides its subtree.
// Recursion depth is bounded by kMaxDepth, which open() enforced.
} // namespace

lib::Status walk_devices(Parser& p, Node bus)
{
    Node n;
    for (bool more = p.b.first_child(bus, n); more; more = p.b.next_sibling(n, n)) {
        if (!p.b.enabled(n))
            continue;
        TRY(parse_device(p, bus, n));
        TRY(walk_devices(p, n));
    }
    return {};
}
} // namespace fdt::mach
