// Consoles: UART nodes (ns16550 family and SiFive) and /chosen's stdout-path.
// See boot/machine.h.
#include "boot/machine_internal.h"

namespace fdt::mach {

namespace {

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

} // namespace

// The ns16550 family's register layout: registers 1 << reg-shift bytes apart,
// each accessed reg-io-width bytes wide, starting reg-offset bytes into reg
// (the DesignWare APB UART of the FU740's successors, the EIC7700 and the
// SG2042 has reg-shift 2, reg-io-width 4). A width the driver cannot do leaves
// the UART out: better no console than one that writes the wrong bytes.
bool ns16550_layout(Parser& p, Node n, Uart& u)
{
    u.reg_shift = p.b.u32_or(n, "reg-shift", 0);
    u.reg_io_width = p.b.u32_or(n, "reg-io-width", 1);
    u.reg_offset = p.b.u32_or(n, "reg-offset", 0);
    return (u.reg_io_width == 1 || u.reg_io_width == 4) && u.reg_shift <= 4;
}

lib::Status parse_uart(Parser& p, Node bus, Node n, UartKind kind)
{
    if (p.m.nuarts == kMaxUarts)
        return too_many(p, "UARTs", kMaxUarts, n);
    Range r;
    TRY(device_reg(p, bus, n, "UART", r));
    Uart layout;
    if (kind != UartKind::SifiveUart0 && !ns16550_layout(p, n, layout)) {
        p.m.nuarts_ignored++;
        return {};
    }
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
    if (kind != UartKind::SifiveUart0) {
        u.reg_shift = layout.reg_shift;
        u.reg_io_width = layout.reg_io_width;
        u.reg_offset = layout.reg_offset;
        u.base += u.reg_offset;
    } else if (u.clock_hz == 0) {
        u.clock_hz = fixed_clock_hz(p.b, n);
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

} // namespace fdt::mach
