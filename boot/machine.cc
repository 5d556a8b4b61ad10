// Building MachineInfo from a validated FDT: memory, reservations, cpus and
// /chosen here, then the device walk (boot/machine_devices.cc) and the console
// (boot/machine_console.cc). See boot/machine.h.
//
// Order matters in one place: /cpus is read before the device walk so the PLIC's
// interrupts-extended can be matched to harts through their cpu-intc phandles.
#include "boot/machine_internal.h"

namespace fdt {

using namespace mach;

namespace {

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
