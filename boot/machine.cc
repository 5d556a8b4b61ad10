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
        TRY(add_regs(p, rm, c, p.m.reserved, p.m.nreserved, kMaxReserved, "reserved ranges"));
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

// The hart id (reg) of cpu node n.
lib::Status cpu_hart_id(Parser& p, const Cells& c, Node n, uint32_t& id)
{
    uint32_t nreg;
    TRY(reg_count(p, n, c, nreg));
    Range r = reg_entry(p, n, c, 0);
    if (nreg == 0 || r.base > 0xffffffff) {
        MsgWriter w = p.msg();
        w.str("fdt: cpu ");
        p.path(w, n).str(nreg ? " has a hart id above 32 bits" : " has no reg (hart id)");
        return lib::Error::Corrupt;
    }
    id = uint32_t(r.base);
    return {};
}

// A hart left out of cpus[]: extend the last run of ids or start a new one. Past
// kMaxIgnoredRuns runs the harts are still counted.
void ignore_hart(MachineInfo& m, uint32_t id)
{
    m.ncpus_ignored++;
    if (m.nignored_runs > 0 && m.ignored_runs[m.nignored_runs - 1].last + 1 == id)
        m.ignored_runs[m.nignored_runs - 1].last = id;
    else if (m.nignored_runs < kMaxIgnoredRuns)
        m.ignored_runs[m.nignored_runs++] = HartRun {id, id};
}

void parse_cpu(Parser& p, Node n, uint32_t hart_id)
{
    Cpu& cpu = p.m.cpus[p.m.ncpus++];
    cpu = Cpu {};
    cpu.hart_id = hart_id;
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
}

bool is_cpu(const Blob& b, Node n)
{
    Property prop;
    const char* type = b.find_prop(n, "device_type", prop) ? prop.string() : nullptr;
    return type && streq(type, "cpu"); // not cpu-map and friends
}

// More cpu nodes than cpus[] holds (a 64-hart SG2042, QEMU virt -smp 20) is no
// error: the first kMaxCpus are kept, or the first kMaxCpus - 1 and the boot
// hart wherever it is listed, and the rest are counted and named in
// ignored_runs. They stay parked in the firmware.
lib::Status parse_cpus(Parser& p, Node cpus)
{
    Property prop;
    uint64_t tb = 0;
    if (p.b.find_prop(cpus, "timebase-frequency", prop) && prop.number(tb))
        p.m.timebase_hz = tb;
    Cells c;
    TRY(bus_cells(p, cpus, c));
    size_t count = 0, boot_at = 0;
    bool boot_listed = false;
    Node n;
    for (bool more = p.b.first_child(cpus, n); more; more = p.b.next_sibling(n, n)) {
        if (!is_cpu(p.b, n))
            continue;
        uint32_t id;
        TRY(cpu_hart_id(p, c, n, id));
        if (id == p.boot_hart && !boot_listed) {
            boot_listed = true;
            boot_at = count;
        }
        count++;
    }
    // Room for the boot hart if it is listed past the limit.
    size_t keep_first = boot_listed && boot_at >= kMaxCpus ? kMaxCpus - 1 : kMaxCpus;
    size_t i = 0;
    for (bool more = p.b.first_child(cpus, n); more; more = p.b.next_sibling(n, n)) {
        if (!is_cpu(p.b, n))
            continue;
        uint32_t id = 0;
        (void)cpu_hart_id(p, c, n, id); // checked above
        if (i < keep_first || (boot_listed && i == boot_at))
            parse_cpu(p, n, id);
        else
            ignore_hart(p.m, id);
        i++;
    }
    // Fill in whichever timebase is missing from the other.
    for (size_t k = 0; k < p.m.ncpus && p.m.timebase_hz == 0; k++)
        p.m.timebase_hz = p.m.cpus[k].timebase_hz;
    for (size_t k = 0; k < p.m.ncpus; k++)
        if (p.m.cpus[k].timebase_hz == 0)
            p.m.cpus[k].timebase_hz = p.m.timebase_hz;
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
        // RAM is what says device_type = "memory", as Linux reads it: a node that
        // is only named memory@... (some U-Boot trees have one for a device's
        // own SRAM) is not RAM.
        if (type && streq(type, "memory")) {
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

lib::Status parse(const void* blob, size_t max_len, uint64_t blob_phys, MachineInfo& out, uint32_t boot_hart)
{
    // MachineInfo is trivially copyable; zero it without a large temporary on the
    // stack, then set the few fields whose "nothing" is not zero.
    memset(static_cast<void*>(&out), 0, sizeof out);
    out.stdout_uart = -1;
    out.poweroff.mask = out.reboot.mask = 0xffffffff;

    Blob b;
    TRY(b.open(blob, max_len, out.error));
    Parser p {b, out, boot_hart};
    out.fdt_phys = blob_phys;
    out.fdt_size = b.total_size();
    out.boot_cpuid = b.boot_cpuid();

    // Reservations: the /memreserve/ block, the blob itself, then /reserved-memory.
    for (uint32_t i = 0; i < b.reserve_count(); i++) {
        ReserveEntry e = b.reserve(i);
        TRY(add_reserved(p, Range {e.address, e.size}, "/memreserve/"));
    }
    if (lib::Status s = add_reserved(p, Range {blob_phys, b.total_size()}, "the FDT blob");
        !s.ok())
        return s;

    TRY(parse_root_nodes(p));
    TRY(walk_devices(p, b.root()));
    resolve_stdout(p);

    if (!subtract_ranges(out.memory, out.nmemory, out.reserved, out.nreserved, out.usable,
                         kMaxUsable, out.nusable)
             .ok()) {
        p.msg().str("fdt: too many usable memory ranges (limit ").dec(kMaxUsable).str(")");
        return lib::Error::NoSpace;
    }
    return {};
}

lib::Status set_memory_size(MachineInfo& m, size_t i, uint64_t size)
{
    if (i >= m.nmemory || size > m.memory[i].size)
        return lib::Error::Invalid;
    m.memory[i].size = size;
    if (size == 0) {
        for (size_t k = i + 1; k < m.nmemory; k++)
            m.memory[k - 1] = m.memory[k];
        m.memory[--m.nmemory] = Range {};
    }
    return subtract_ranges(m.memory, m.nmemory, m.reserved, m.nreserved, m.usable, kMaxUsable, m.nusable);
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
