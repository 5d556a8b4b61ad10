// Building MachineInfo from a validated FDT. See boot/machine.h.
//
// Order matters in one place: /cpus is read before the device walk so the PLIC's
// interrupts-extended can be matched to harts through their cpu-intc phandles.
#include "boot/machine.h"

#include "lib/string.h"

namespace fdt {

namespace {

bool streq(const char* a, const char* b) { return strcmp(a, b) == 0; }

// Everything parse() works on, so helpers take one argument for it.
struct Parser {
    const Blob& b;
    MachineInfo& m;

    // Starts an error message in m.error; the caller appends the rest.
    MsgWriter msg() { return MsgWriter(m.error); }
    // Appends n's full path to a message.
    MsgWriter& path(MsgWriter& w, Node n)
    {
        char buf[96];
        b.path(n, buf, sizeof buf);
        return w.str(buf);
    }
};

struct Cells {
    uint32_t addr = 2;
    uint32_t size = 1;
};

// The #address-cells/#size-cells that apply to the children of `bus`.
lib::Status bus_cells(Parser& p, Node bus, Cells& c)
{
    c.addr = p.b.u32_or(bus, "#address-cells", 2);
    c.size = p.b.u32_or(bus, "#size-cells", 1);
    if (c.addr < 1 || c.addr > 2 || c.size > 2) {
        MsgWriter w = p.msg();
        w.str("fdt: #address-cells = ").dec(c.addr).str(", #size-cells = ").dec(c.size)
            .str(" in ");
        p.path(w, bus).str(" is unsupported (need 1-2 and 0-2)");
        return lib::Error::Unsupported;
    }
    return {};
}

// Number of reg entries of n (0 if it has no reg); an error if reg is malformed.
lib::Status reg_count(Parser& p, Node n, const Cells& c, uint32_t& count)
{
    count = 0;
    Property reg;
    if (!p.b.find_prop(n, "reg", reg))
        return {};
    uint32_t entry = (c.addr + c.size) * 4;
    if (reg.len == 0 || reg.len % entry != 0) {
        MsgWriter w = p.msg();
        w.str("fdt: reg of ");
        p.path(w, n).str(" has ").dec(reg.len).str(" bytes, not a multiple of ").dec(entry);
        return lib::Error::Corrupt;
    }
    count = reg.len / entry;
    return {};
}

// reg entry i of n (which reg_count() has checked).
Range reg_entry(Parser& p, Node n, const Cells& c, uint32_t i)
{
    Property reg;
    Range r;
    uint64_t v = 0;
    if (p.b.find_prop(n, "reg", reg)) {
        uint32_t first = i * (c.addr + c.size);
        if (reg.cells(first, c.addr, v))
            r.base = v;
        if (c.size && reg.cells(first + c.addr, c.size, v))
            r.size = v;
    }
    return r;
}

// Turns an address on `bus` into a CPU physical address by climbing through each
// ancestor bus's "ranges" (child address, parent address, size). An absent or
// empty "ranges" maps 1:1, which is all QEMU and the HiFive boards use.
lib::Status translate(Parser& p, Node bus, Node dev, uint64_t& addr)
{
    Node child = bus;
    Node parent;
    while (p.b.parent(child, parent)) {
        Property r;
        if (p.b.find_prop(child, "ranges", r) && r.len > 0) {
            Cells cc, pc;
            if (lib::Status s = bus_cells(p, child, cc); !s.ok())
                return s;
            if (lib::Status s = bus_cells(p, parent, pc); !s.ok())
                return s;
            uint32_t cells = cc.addr + pc.addr + cc.size;
            bool hit = cc.size == 0; // no sizes: nothing to match against, keep as is
            for (uint32_t i = 0; !hit && (i + 1) * cells * 4 <= r.len; i++) {
                uint64_t cbase = 0, pbase = 0, size = 0;
                (void)r.cells(i * cells, cc.addr, cbase);
                (void)r.cells(i * cells + cc.addr, pc.addr, pbase);
                (void)r.cells(i * cells + cc.addr + pc.addr, cc.size, size);
                if (addr >= cbase && addr - cbase < size) {
                    addr = pbase + (addr - cbase);
                    hit = true;
                }
            }
            if (!hit) {
                MsgWriter w = p.msg();
                w.str("fdt: reg ").hex(addr).str(" of ");
                p.path(w, dev).str(" is outside the ranges of ");
                p.path(w, child);
                return lib::Error::Corrupt;
            }
        }
        child = parent;
    }
    return {};
}

// The first reg entry of a device n whose parent is `bus`; an error if it has none.
lib::Status device_reg(Parser& p, Node bus, Node n, const char* what, Range& r)
{
    Cells c;
    uint32_t count;
    if (lib::Status s = bus_cells(p, bus, c); !s.ok())
        return s;
    if (lib::Status s = reg_count(p, n, c, count); !s.ok())
        return s;
    if (count == 0) {
        MsgWriter w = p.msg();
        w.str("fdt: ").str(what).str(" ");
        p.path(w, n).str(" has no reg");
        return lib::Error::Corrupt;
    }
    r = reg_entry(p, n, c, 0);
    return translate(p, bus, n, r.base);
}

lib::Status too_many(Parser& p, const char* what, size_t limit, Node n)
{
    MsgWriter w = p.msg();
    w.str("fdt: too many ").str(what).str(" (limit ").dec(limit).str(") at ");
    p.path(w, n);
    return lib::Error::NoSpace;
}

// Appends every reg entry of n (child of `bus`) to list[0..n), e.g. memory banks.
lib::Status add_regs(Parser& p, Node bus, Node n, Range* list, size_t& count, size_t cap,
                     const char* what)
{
    Cells c;
    uint32_t nreg;
    if (lib::Status s = bus_cells(p, bus, c); !s.ok())
        return s;
    if (lib::Status s = reg_count(p, n, c, nreg); !s.ok())
        return s;
    for (uint32_t i = 0; i < nreg; i++) {
        Range r = reg_entry(p, n, c, i);
        if (r.size == 0)
            continue;
        if (lib::Status s = translate(p, bus, n, r.base); !s.ok())
            return s;
        if (r.base + r.size < r.base) {
            MsgWriter w = p.msg();
            w.str("fdt: reg of ");
            p.path(w, n).str(" wraps around the address space");
            return lib::Error::Corrupt;
        }
        if (count == cap)
            return too_many(p, what, cap, n);
        list[count++] = r;
    }
    return {};
}

// Copies a string property into buf, cut at the first NUL or the property's end.
void copy_string(const Property& prop, char* buf, size_t cap, bool& truncated)
{
    size_t n = 0;
    while (n < prop.len && prop.data[n] != '\0')
        n++;
    truncated = n > cap - 1;
    if (truncated)
        n = cap - 1;
    memcpy(buf, prop.data, n);
    buf[n] = '\0';
}

bool has_compat(const Blob& b, Node n, const char* s)
{
    Property c;
    return b.find_prop(n, "compatible", c) && c.has_string(s);
}

// The device's first interrupt: its "interrupts" (parent: the one PLIC), or
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

// ---- root-level nodes -------------------------------------------------------------------

lib::Status parse_memory(Parser& p, Node n)
{
    return add_regs(p, p.b.root(), n, p.m.memory, p.m.nmemory, kMaxMemory, "memory ranges");
}

lib::Status parse_reserved_memory(Parser& p, Node rm)
{
    Node c;
    for (bool more = p.b.first_child(rm, c); more; more = p.b.next_sibling(c, c)) {
        if (!p.b.enabled(c))
            continue;
        // A child with only "size" asks the OS to allocate; nothing fixed to avoid.
        lib::Status s = add_regs(p, rm, c, p.m.reserved, p.m.nreserved, kMaxReserved,
                                 "reserved ranges");
        if (!s.ok())
            return s;
    }
    return {};
}

Mmu mmu_type(const Blob& b, Node cpu)
{
    Property p;
    const char* s = b.find_prop(cpu, "mmu-type", p) ? p.string() : nullptr;
    if (!s)
        return Mmu::None;
    if (streq(s, "riscv,sv39"))
        return Mmu::Sv39;
    if (streq(s, "riscv,sv48"))
        return Mmu::Sv48;
    if (streq(s, "riscv,sv57"))
        return Mmu::Sv57;
    return Mmu::None; // "riscv,none", or a scheme we do not know
}

lib::Status parse_cpu(Parser& p, const Cells& c, Node n)
{
    if (p.m.ncpus == kMaxCpus)
        return too_many(p, "cpus", kMaxCpus, n);
    uint32_t nreg;
    if (lib::Status s = reg_count(p, n, c, nreg); !s.ok())
        return s;
    Range r = reg_entry(p, n, c, 0);
    if (nreg == 0 || r.base > 0xffffffff) {
        MsgWriter w = p.msg();
        w.str("fdt: cpu ");
        p.path(w, n).str(nreg ? " has a hart id above 32 bits" : " has no reg (hart id)");
        return lib::Error::Corrupt;
    }
    Cpu& cpu = p.m.cpus[p.m.ncpus++];
    cpu = Cpu {};
    cpu.hart_id = uint32_t(r.base);
    cpu.okay = p.b.enabled(n);
    cpu.mmu = mmu_type(p.b, n);
    Property prop;
    if (p.b.find_prop(n, "riscv,isa", prop))
        copy_string(prop, cpu.isa, sizeof cpu.isa, cpu.isa_truncated);
    uint64_t tb = 0;
    if (p.b.find_prop(n, "timebase-frequency", prop) && prop.number(tb))
        cpu.timebase_hz = tb;
    Node child;
    for (bool more = p.b.first_child(n, child); more; more = p.b.next_sibling(child, child)) {
        if (has_compat(p.b, child, "riscv,cpu-intc")) {
            cpu.intc_phandle = p.b.phandle(child);
            break;
        }
    }
    return {};
}

lib::Status parse_cpus(Parser& p, Node cpus)
{
    Property prop;
    uint64_t tb = 0;
    if (p.b.find_prop(cpus, "timebase-frequency", prop) && prop.number(tb))
        p.m.timebase_hz = tb;
    Cells c;
    if (lib::Status s = bus_cells(p, cpus, c); !s.ok())
        return s;
    Node n;
    for (bool more = p.b.first_child(cpus, n); more; more = p.b.next_sibling(n, n)) {
        const char* type = p.b.find_prop(n, "device_type", prop) ? prop.string() : nullptr;
        if (!type || !streq(type, "cpu"))
            continue; // cpu-map and friends
        if (lib::Status s = parse_cpu(p, c, n); !s.ok())
            return s;
    }
    // Fill in whichever timebase is missing from the other.
    for (size_t i = 0; i < p.m.ncpus && p.m.timebase_hz == 0; i++)
        p.m.timebase_hz = p.m.cpus[i].timebase_hz;
    for (size_t i = 0; i < p.m.ncpus; i++)
        if (p.m.cpus[i].timebase_hz == 0)
            p.m.cpus[i].timebase_hz = p.m.timebase_hz;
    return {};
}

void parse_chosen(Parser& p, Node chosen)
{
    Property prop;
    if (p.b.find_prop(chosen, "bootargs", prop))
        copy_string(prop, p.m.bootargs, sizeof p.m.bootargs, p.m.bootargs_truncated);
    if (p.b.find_prop(chosen, "stdout-path", prop) ||
        p.b.find_prop(chosen, "linux,stdout-path", prop))
        copy_string(prop, p.m.stdout_path, sizeof p.m.stdout_path, p.m.stdout_path_truncated);
}

lib::Status parse_root_nodes(Parser& p)
{
    Node n;
    Property prop;
    for (bool more = p.b.first_child(p.b.root(), n); more; more = p.b.next_sibling(n, n)) {
        const char* name = p.b.name(n);
        const char* type = p.b.find_prop(n, "device_type", prop) ? prop.string() : nullptr;
        lib::Status s;
        if ((type && streq(type, "memory")) || streq(name, "memory") ||
            strncmp(name, "memory@", 7) == 0) {
            if (p.b.enabled(n))
                s = parse_memory(p, n);
        } else if (streq(name, "reserved-memory")) {
            s = parse_reserved_memory(p, n);
        } else if (streq(name, "cpus")) {
            s = parse_cpus(p, n);
        } else if (streq(name, "chosen")) {
            parse_chosen(p, n);
        }
        if (!s.ok())
            return s;
    }
    return {};
}

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
    if (lib::Status s = device_reg(p, bus, n, "PLIC", r); !s.ok())
        return s;
    plic.present = true;
    plic.base = r.base;
    plic.size = r.size;
    plic.ndev = p.b.u32_or(n, "riscv,ndev", 0);
    plic.phandle = p.b.phandle(n);
    return plic_contexts(p, n);
}

// A fixed-clock's frequency, found through a "clocks" phandle; 0 if not fixed.
uint64_t fixed_clock_hz(const Blob& b, Node n)
{
    Property prop;
    uint32_t ph = 0;
    Node clk;
    uint64_t hz = 0;
    if (b.find_prop(n, "clocks", prop) && prop.cell(0, ph) && b.find_phandle(ph, clk) &&
        has_compat(b, clk, "fixed-clock") && b.find_prop(clk, "clock-frequency", prop) &&
        prop.number(hz))
        return hz;
    return 0;
}

lib::Status parse_uart(Parser& p, Node bus, Node n, UartKind kind)
{
    if (p.m.nuarts == kMaxUarts)
        return too_many(p, "UARTs", kMaxUarts, n);
    Range r;
    if (lib::Status s = device_reg(p, bus, n, "UART", r); !s.ok())
        return s;
    Uart& u = p.m.uarts[p.m.nuarts++];
    u = Uart {};
    u.kind = kind;
    u.base = r.base;
    u.size = r.size;
    u.irq = first_irq(p.b, n);
    u.node = n;
    Property prop;
    uint64_t hz = 0;
    if (p.b.find_prop(n, "clock-frequency", prop) && prop.number(hz))
        u.clock_hz = hz;
    if (kind == UartKind::Ns16550a) {
        u.reg_shift = p.b.u32_or(n, "reg-shift", 0);
        u.reg_io_width = p.b.u32_or(n, "reg-io-width", 1);
    } else if (u.clock_hz == 0) {
        u.clock_hz = fixed_clock_hz(p.b, n);
    }
    return {};
}

lib::Status parse_virtio(Parser& p, Node bus, Node n)
{
    if (p.m.nvirtio == kMaxVirtio)
        return too_many(p, "virtio,mmio devices", kMaxVirtio, n);
    Range r;
    if (lib::Status s = device_reg(p, bus, n, "virtio,mmio device", r); !s.ok())
        return s;
    p.m.virtio[p.m.nvirtio++] = Mmio {r.base, r.size, first_irq(p.b, n)};
    return {};
}

lib::Status parse_spi(Parser& p, Node bus, Node n)
{
    if (p.m.nspi == kMaxSpi)
        return too_many(p, "SPI controllers", kMaxSpi, n);
    Range r;
    if (lib::Status s = device_reg(p, bus, n, "SPI controller", r); !s.ok())
        return s;
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
    if (lib::Status s = device_reg(p, bus, n, "test finisher", r); !s.ok())
        return s;
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
    if (lib::Status s = device_reg(p, regmap_bus, regmap, "syscon", r); !s.ok())
        return s;
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
        if (lib::Status s = device_reg(p, bus, n, "CLINT", r); !s.ok())
            return s;
        p.m.has_clint = true;
        p.m.clint = r;
    }
    return {};
}

// Visits every enabled node below `bus`; a disabled node hides its subtree.
// Recursion depth is bounded by kMaxDepth, which open() enforced.
lib::Status walk_devices(Parser& p, Node bus)
{
    Node n;
    for (bool more = p.b.first_child(bus, n); more; more = p.b.next_sibling(n, n)) {
        if (!p.b.enabled(n))
            continue;
        if (lib::Status s = parse_device(p, bus, n); !s.ok())
            return s;
        if (lib::Status s = walk_devices(p, n); !s.ok())
            return s;
    }
    return {};
}

// ---- after the walk -----------------------------------------------------------------------

// stdout-path is "/full/path" or an alias from /aliases, either optionally
// followed by ":options" (e.g. "serial0:115200n8").
void resolve_stdout(Parser& p)
{
    MachineInfo& m = p.m;
    m.stdout_uart = m.nuarts ? 0 : -1;
    const char* sp = m.stdout_path;
    size_t len = 0;
    while (sp[len] && sp[len] != ':')
        len++;
    if (len == 0)
        return;
    Node target;
    bool found = false;
    if (sp[0] == '/') {
        found = p.b.find_path(sp, len, target);
    } else {
        Node aliases;
        Property prop;
        if (p.b.find_child(p.b.root(), "aliases", 7, aliases)) {
            PropCursor c(aliases);
            while (!found && p.b.next_prop(c, prop)) {
                const char* value = prop.string();
                if (value && strlen(prop.name) == len && strncmp(prop.name, sp, len) == 0)
                    found = p.b.find_path(value, strlen(value), target);
            }
        }
    }
    for (size_t i = 0; found && i < m.nuarts; i++) {
        if (m.uarts[i].node == target) {
            m.stdout_uart = int(i);
            m.stdout_resolved = true;
            return;
        }
    }
}

lib::Status add_reserved(Parser& p, Range r, const char* what)
{
    if (r.size == 0)
        return {};
    if (p.m.nreserved == kMaxReserved) {
        p.msg().str("fdt: too many reserved ranges (limit ").dec(kMaxReserved).str(") at ")
            .str(what);
        return lib::Error::NoSpace;
    }
    p.m.reserved[p.m.nreserved++] = r;
    return {};
}

} // namespace

lib::Status parse(const void* blob, size_t max_len, uint64_t blob_phys, MachineInfo& out)
{
    // MachineInfo is trivially copyable; zero it without a large temporary on the
    // stack, then set the few fields whose "nothing" is not zero.
    memset(static_cast<void*>(&out), 0, sizeof out);
    out.stdout_uart = -1;
    out.poweroff.mask = out.reboot.mask = 0xffffffff;

    Blob b;
    if (lib::Status s = b.open(blob, max_len, out.error); !s.ok())
        return s;
    Parser p {b, out};
    out.fdt_phys = blob_phys;
    out.fdt_size = b.total_size();
    out.boot_cpuid = b.boot_cpuid();

    // Reservations: the /memreserve/ block, the blob itself, then /reserved-memory.
    for (uint32_t i = 0; i < b.reserve_count(); i++) {
        ReserveEntry e = b.reserve(i);
        if (lib::Status s = add_reserved(p, Range {e.address, e.size}, "/memreserve/"); !s.ok())
            return s;
    }
    if (lib::Status s = add_reserved(p, Range {blob_phys, b.total_size()}, "the FDT blob");
        !s.ok())
        return s;

    if (lib::Status s = parse_root_nodes(p); !s.ok())
        return s;
    if (lib::Status s = walk_devices(p, b.root()); !s.ok())
        return s;
    resolve_stdout(p);

    if (!subtract_ranges(out.memory, out.nmemory, out.reserved, out.nreserved, out.usable,
                         kMaxUsable, out.nusable)
             .ok()) {
        p.msg().str("fdt: too many usable memory ranges (limit ").dec(kMaxUsable).str(")");
        return lib::Error::NoSpace;
    }
    return {};
}

int plic_s_context(const MachineInfo& m, uint32_t hart_id)
{
    for (size_t i = 0; i < m.plic.nharts; i++)
        if (m.plic.harts[i].hart_id == hart_id)
            return int(m.plic.harts[i].s_context);
    return -1;
}

const Cpu* find_cpu(const MachineInfo& m, uint32_t hart_id)
{
    for (size_t i = 0; i < m.ncpus; i++)
        if (m.cpus[i].hart_id == hart_id)
            return &m.cpus[i];
    return nullptr;
}

} // namespace fdt
