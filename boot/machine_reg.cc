// Reading reg entries: bus cell sizes, entry counts, translation through
// "ranges", and the small property helpers the machine files share. See
// boot/machine_internal.h.
#include "boot/machine_internal.h"

namespace fdt::mach {

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
            TRY(bus_cells(p, child, cc));
            TRY(bus_cells(p, parent, pc));
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
    TRY(bus_cells(p, bus, c));
    TRY(reg_count(p, n, c, count));
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
    TRY(bus_cells(p, bus, c));
    TRY(reg_count(p, n, c, nreg));
    for (uint32_t i = 0; i < nreg; i++) {
        Range r = reg_entry(p, n, c, i);
        if (r.size == 0)
            continue;
        TRY(translate(p, bus, n, r.base));
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
} // namespace fdt::mach
