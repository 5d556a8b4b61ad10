// fdt::parse() on the device trees QEMU really builds (tools/dump-dtbs.sh), checked
// field by field against libfdt's reading of the same blob, plus the platform
// facts from docs (virt: PLIC S context 2h+1; sifive_u: 2h, hart 0 has none).
// Variants made with libfdt's write API cover what QEMU's trees lack:
// OpenSBI-style /reserved-memory, /memreserve/, aliases, disabled nodes.
#include "boot/machine.h"
#include "test/host/fdt_testutil.h"

#include <doctest/doctest.h>
#include <libfdt.h>

#include <algorithm>
#include <set>
#include <string>
#include <vector>

using namespace fdt_test;

namespace {

constexpr uint64_t kMiB = 1024 * 1024;

// Where OpenSBI (fw_dynamic) leaves the FDT: top of RAM - 2 MiB. Any address works
// for the parser; this one makes the reservation realistic.
uint64_t blob_phys_for(const std::vector<uint8_t>& b)
{
    int mem = fdt_node_offset_by_prop_value(b.data(), -1, "device_type", "memory", 7);
    REQUIRE(mem >= 0);
    int len = 0;
    const fdt32_t* reg = static_cast<const fdt32_t*>(fdt_getprop(b.data(), mem, "reg", &len));
    REQUIRE(len == 16);
    uint64_t base = uint64_t(fdt32_to_cpu(reg[0])) << 32 | fdt32_to_cpu(reg[1]);
    uint64_t size = uint64_t(fdt32_to_cpu(reg[2])) << 32 | fdt32_to_cpu(reg[3]);
    return base + size - 2 * kMiB;
}

struct Parsed {
    bool ok = false;
    lib::Error error = lib::Error::None;
    fdt::MachineInfo m;
};

// Parses from an exact-size heap copy.
void parse_blob(const std::vector<uint8_t>& b, uint64_t phys, Parsed& out)
{
    Exact e(b);
    lib::Status s = fdt::parse(e.mem.get(), e.len, phys, out.m);
    out.ok = s.ok();
    out.error = s.error();
}

// libfdt's view: reg entry i of node, with its parent's cells.
fdt::Range lf_reg(const void* f, int node, int i = 0)
{
    int parent = fdt_parent_offset(f, node);
    int ac = fdt_address_cells(f, parent), sc = fdt_size_cells(f, parent);
    int len = 0;
    const fdt32_t* reg = static_cast<const fdt32_t*>(fdt_getprop(f, node, "reg", &len));
    REQUIRE(reg != nullptr);
    REQUIRE(len >= (i + 1) * (ac + sc) * 4);
    const fdt32_t* p = reg + i * (ac + sc);
    uint64_t a = 0, s = 0;
    for (int k = 0; k < ac; k++)
        a = a << 32 | fdt32_to_cpu(p[k]);
    for (int k = 0; k < sc; k++)
        s = s << 32 | fdt32_to_cpu(p[ac + k]);
    return {a, s};
}

uint32_t lf_u32(const void* f, int node, const char* name, uint32_t dflt = 0)
{
    int len = 0;
    const fdt32_t* v = static_cast<const fdt32_t*>(fdt_getprop(f, node, name, &len));
    return v && len >= 4 ? fdt32_to_cpu(v[0]) : dflt;
}

std::string lf_str(const void* f, int node, const char* name)
{
    const char* s = static_cast<const char*>(fdt_getprop(f, node, name, nullptr));
    return s ? s : "";
}

bool lf_enabled(const void* f, int node)
{
    std::string s = lf_str(f, node, "status");
    return fdt_getprop(f, node, "status", nullptr) == nullptr || s == "okay" || s == "ok";
}

std::vector<int> lf_by_compat(const void* f, const char* compat)
{
    std::vector<int> out;
    for (int n = fdt_node_offset_by_compatible(f, -1, compat); n >= 0;
         n = fdt_node_offset_by_compatible(f, n, compat))
        if (lf_enabled(f, n))
            out.push_back(n);
    return out;
}

// Page-granular check of usable = memory - reserved, independent of ranges.cc.
void check_usable(const fdt::MachineInfo& m)
{
    auto in = [](const fdt::Range* r, size_t n, uint64_t a) {
        for (size_t i = 0; i < n; i++)
            if (r[i].base <= a && a < r[i].end())
                return true;
        return false;
    };
    for (size_t i = 0; i + 1 < m.nusable; i++)
        CHECK(m.usable[i].end() < m.usable[i + 1].base); // sorted, merged
    for (size_t i = 0; i < m.nmemory; i++) {
        for (uint64_t pg = m.memory[i].base & ~0xfffull; pg < m.memory[i].end(); pg += 4096) {
            // A page is usable iff it lies wholly in memory and touches no reservation.
            bool whole = in(m.memory, m.nmemory, pg) && in(m.memory, m.nmemory, pg + 4095);
            bool touched = false;
            for (size_t r = 0; r < m.nreserved; r++)
                touched |= m.reserved[r].base < pg + 4096 && pg < m.reserved[r].end();
            bool want = whole && !touched;
            if (in(m.usable, m.nusable, pg) != want) {
                INFO("page " << std::hex << pg);
                CHECK(in(m.usable, m.nusable, pg) == want);
                return;
            }
        }
    }
    CHECK(m.nusable > 0);
}

// Everything libfdt can tell us about blob b, compared with our MachineInfo.
void compare_with_libfdt(const std::vector<uint8_t>& b, uint64_t phys, const fdt::MachineInfo& m)
{
    const void* f = b.data();
    REQUIRE(fdt_check_header(f) == 0);
    CHECK(m.fdt_phys == phys);
    CHECK(m.fdt_size == fdt_totalsize(f));
    CHECK(m.boot_cpuid == fdt_boot_cpuid_phys(f));

    // Memory: every reg entry of every enabled memory node.
    std::vector<fdt::Range> mem;
    for (int n = fdt_node_offset_by_prop_value(f, -1, "device_type", "memory", 7); n >= 0;
         n = fdt_node_offset_by_prop_value(f, n, "device_type", "memory", 7)) {
        int len = 0;
        fdt_getprop(f, n, "reg", &len);
        int parent = fdt_parent_offset(f, n);
        int entries = len / 4 / (fdt_address_cells(f, parent) + fdt_size_cells(f, parent));
        for (int i = 0; i < entries; i++)
            mem.push_back(lf_reg(f, n, i));
    }
    REQUIRE(m.nmemory == mem.size());
    for (size_t i = 0; i < mem.size(); i++)
        CHECK(m.memory[i] == mem[i]);

    // Reserved: /memreserve/, the blob, then /reserved-memory children, in that order.
    std::vector<fdt::Range> rsv;
    for (int i = 0; i < fdt_num_mem_rsv(f); i++) {
        uint64_t a, s;
        REQUIRE(fdt_get_mem_rsv(f, i, &a, &s) == 0);
        rsv.push_back({a, s});
    }
    rsv.push_back({phys, fdt_totalsize(f)});
    int rm = fdt_path_offset(f, "/reserved-memory");
    if (rm >= 0) {
        int c;
        fdt_for_each_subnode(c, f, rm)
        {
            if (lf_enabled(f, c) && fdt_getprop(f, c, "reg", nullptr))
                rsv.push_back(lf_reg(f, c));
        }
    }
    REQUIRE(m.nreserved == rsv.size());
    for (size_t i = 0; i < rsv.size(); i++)
        CHECK(m.reserved[i] == rsv[i]);
    check_usable(m);

    // Harts.
    int cpus = fdt_path_offset(f, "/cpus");
    REQUIRE(cpus >= 0);
    CHECK(m.timebase_hz == lf_u32(f, cpus, "timebase-frequency"));
    size_t k = 0;
    int c;
    fdt_for_each_subnode(c, f, cpus)
    {
        if (lf_str(f, c, "device_type") != "cpu")
            continue;
        REQUIRE(k < m.ncpus);
        const fdt::Cpu& cpu = m.cpus[k++];
        CHECK(cpu.hart_id == lf_u32(f, c, "reg"));
        CHECK(cpu.okay == lf_enabled(f, c));
        CHECK(std::string(cpu.isa) == lf_str(f, c, "riscv,isa"));
        std::string mmu = lf_str(f, c, "mmu-type");
        CHECK(cpu.has_sv39() ==
              (mmu == "riscv,sv39" || mmu == "riscv,sv48" || mmu == "riscv,sv57"));
        int intc = fdt_subnode_offset(f, c, "interrupt-controller");
        CHECK(cpu.intc_phandle == (intc >= 0 ? fdt_get_phandle(f, intc) : 0u));
        CHECK(cpu.timebase_hz == m.timebase_hz);
    }
    CHECK(k == m.ncpus);

    // PLIC: context i is pair i of interrupts-extended; S external is irq 9.
    std::vector<int> plics = lf_by_compat(f, "riscv,plic0");
    REQUIRE(plics.size() == 1);
    CHECK(m.plic.present);
    CHECK(m.plic.base == lf_reg(f, plics[0]).base);
    CHECK(m.plic.size == lf_reg(f, plics[0]).size);
    CHECK(m.plic.ndev == lf_u32(f, plics[0], "riscv,ndev"));
    CHECK(m.plic.phandle == fdt_get_phandle(f, plics[0]));
    int len = 0;
    const fdt32_t* ie =
        static_cast<const fdt32_t*>(fdt_getprop(f, plics[0], "interrupts-extended", &len));
    REQUIRE(ie != nullptr);
    CHECK(m.plic.contexts == uint32_t(len / 8));
    size_t s_found = 0;
    for (int i = 0; i < len / 8; i++) {
        if (fdt32_to_cpu(ie[2 * i + 1]) != 9)
            continue;
        int intc = fdt_node_offset_by_phandle(f, fdt32_to_cpu(ie[2 * i]));
        uint32_t hart = lf_u32(f, fdt_parent_offset(f, intc), "reg");
        CHECK(fdt::plic_s_context(m, hart) == i);
        s_found++;
    }
    CHECK(m.plic.nharts == s_found);

    // UARTs in tree order, ns16550a and SiFive alike.
    std::vector<int> uarts = lf_by_compat(f, "ns16550a");
    std::vector<int> sifive = lf_by_compat(f, "sifive,uart0");
    uarts.insert(uarts.end(), sifive.begin(), sifive.end());
    std::sort(uarts.begin(), uarts.end());
    REQUIRE(m.nuarts == uarts.size());
    for (size_t i = 0; i < uarts.size(); i++) {
        CHECK(m.uarts[i].base == lf_reg(f, uarts[i]).base);
        CHECK(m.uarts[i].irq == lf_u32(f, uarts[i], "interrupts"));
        CHECK(m.uarts[i].node.off == uint32_t(uarts[i]));
    }

    // virtio-mmio slots.
    std::vector<int> virtio = lf_by_compat(f, "virtio,mmio");
    REQUIRE(m.nvirtio == virtio.size());
    for (size_t i = 0; i < virtio.size(); i++) {
        CHECK(m.virtio[i].base == lf_reg(f, virtio[i]).base);
        CHECK(m.virtio[i].size == lf_reg(f, virtio[i]).size);
        CHECK(m.virtio[i].irq == lf_u32(f, virtio[i], "interrupts"));
    }

    // /chosen.
    int chosen = fdt_path_offset(f, "/chosen");
    CHECK(std::string(m.bootargs) == (chosen >= 0 ? lf_str(f, chosen, "bootargs") : ""));
    CHECK(std::string(m.stdout_path) == (chosen >= 0 ? lf_str(f, chosen, "stdout-path") : ""));
    if (chosen >= 0 && !lf_str(f, chosen, "stdout-path").empty()) {
        int node = fdt_path_offset(f, lf_str(f, chosen, "stdout-path").c_str());
        REQUIRE(m.stdout_uart >= 0);
        CHECK(m.stdout_resolved);
        CHECK(m.uarts[m.stdout_uart].node.off == uint32_t(node));
    }

    // SPI controllers and their SD slots.
    std::vector<int> spis = lf_by_compat(f, "sifive,spi0");
    REQUIRE(m.nspi == spis.size());
    for (size_t i = 0; i < spis.size(); i++) {
        CHECK(m.spi[i].base == lf_reg(f, spis[i]).base);
        CHECK(m.spi[i].irq == lf_u32(f, spis[i], "interrupts"));
        int mmc = fdt_node_offset_by_compatible(f, spis[i], "mmc-spi-slot");
        bool has = mmc >= 0 && fdt_parent_offset(f, mmc) == spis[i];
        CHECK(m.spi[i].has_mmc_slot == has);
    }

    std::vector<int> clint = lf_by_compat(f, "riscv,clint0");
    CHECK(m.has_clint == !clint.empty());
    if (!clint.empty())
        CHECK(m.clint == lf_reg(f, clint[0]));
}

// Copy of b with `extra` bytes of room for libfdt edits.
std::vector<uint8_t> editable(const std::vector<uint8_t>& b, size_t extra = 4096)
{
    std::vector<uint8_t> out(b.size() + extra);
    REQUIRE(fdt_open_into(b.data(), out.data(), int(out.size())) == 0);
    return out;
}

// Packs an edited blob and cuts it to its new totalsize.
void finish(std::vector<uint8_t>& b)
{
    REQUIRE(fdt_pack(b.data()) == 0);
    b.resize(fdt_totalsize(b.data()));
}

} // namespace

TEST_CASE("fdt: every QEMU DTB parses and agrees with libfdt")
{
    for (const char* name : kDtbs) {
        INFO("dtb " << std::string(name));
        std::vector<uint8_t> b = load_dtb(name);
        uint64_t phys = blob_phys_for(b);
        Parsed p;
        parse_blob(b, phys, p);
        INFO("error: " << p.m.error.text);
        REQUIRE(p.ok);
        CHECK(p.m.error.empty());
        compare_with_libfdt(b, phys, p.m);
    }
}

TEST_CASE("fdt: QEMU virt facts")
{
    struct Want {
        const char* dtb;
        size_t harts;
        uint64_t mem;
    } wants[] = {{"virt-1-64M", 1, 64 * kMiB},
                 {"virt-4-256M", 4, 256 * kMiB},
                 {"virt-8-2G", 8, 2048 * kMiB}};
    for (const Want& w : wants) {
        INFO("dtb " << std::string(w.dtb));
        std::vector<uint8_t> b = load_dtb(w.dtb);
        uint64_t top = 0x80000000 + w.mem;
        Parsed p;
        parse_blob(b, top - 2 * kMiB, p);
        REQUIRE(p.ok);
        const fdt::MachineInfo& m = p.m;
        REQUIRE(m.nmemory == 1);
        CHECK(m.memory[0] == fdt::Range {0x80000000, w.mem});
        // The blob sits at top - 2 MiB and takes whole pages out.
        uint64_t blob_pages = (b.size() + 4095) & ~uint64_t(4095);
        REQUIRE(m.nusable == 2);
        CHECK(m.usable[0] == fdt::Range {0x80000000, w.mem - 2 * kMiB});
        CHECK(m.usable[1] == fdt::Range {top - 2 * kMiB + blob_pages, 2 * kMiB - blob_pages});
        CHECK(m.timebase_hz == 10000000);
        REQUIRE(m.ncpus == w.harts);
        for (uint32_t h = 0; h < w.harts; h++) {
            CHECK(m.cpus[h].hart_id == h);
            CHECK(m.cpus[h].okay);
            CHECK(m.cpus[h].has_sv39());
            CHECK(fdt::plic_s_context(m, h) == int(2 * h + 1));
            CHECK(fdt::find_cpu(m, h) == &m.cpus[h]);
        }
        CHECK(fdt::plic_s_context(m, uint32_t(w.harts)) == -1);
        CHECK(fdt::find_cpu(m, 99) == nullptr);
        CHECK(m.plic.base == 0x0c000000);
        REQUIRE(m.nuarts == 1);
        CHECK(m.uarts[0].kind == fdt::UartKind::Ns16550a);
        CHECK(m.uarts[0].base == 0x10000000);
        CHECK(m.uarts[0].irq == 10);
        CHECK(m.uarts[0].clock_hz == 3686400);
        CHECK(m.uarts[0].reg_shift == 0);
        CHECK(m.uarts[0].reg_io_width == 1);
        CHECK(m.stdout_uart == 0);
        CHECK(m.stdout_resolved);
        REQUIRE(m.nvirtio == 8);
        std::set<std::pair<uint64_t, uint32_t>> slots;
        for (size_t i = 0; i < m.nvirtio; i++)
            slots.insert({m.virtio[i].base, m.virtio[i].irq});
        for (uint32_t n = 0; n < 8; n++)
            CHECK(slots.count({0x10001000 + n * 0x1000, 1 + n}) == 1);
        CHECK(m.finisher.kind == fdt::FinisherKind::SifiveTest1);
        CHECK(m.finisher.base == 0x100000);
        CHECK(m.poweroff.present);
        CHECK(m.poweroff.address() == 0x100000);
        CHECK(m.poweroff.value == 0x5555);
        CHECK(m.reboot.present);
        CHECK(m.reboot.value == 0x7777);
        CHECK(m.has_clint);
        CHECK(m.clint.base == 0x02000000);
        CHECK(m.nspi == 0);
        CHECK(m.bootargs[0] == '\0');
    }
}

TEST_CASE("fdt: QEMU virt with -append and with virtio-blk")
{
    std::vector<uint8_t> b = load_dtb("virt-bootargs");
    Parsed p;
    parse_blob(b, 0x87e00000, p);
    REQUIRE(p.ok);
    CHECK(std::string(p.m.bootargs) == "console=x ktest=all");
    CHECK_FALSE(p.m.bootargs_truncated);
    CHECK(p.m.ncpus == 2);

    // The disk lands in the highest slot: 0x10008000, IRQ 8.
    std::vector<uint8_t> blk = load_dtb("virt-blk");
    Parsed q;
    parse_blob(blk, 0x87e00000, q);
    REQUIRE(q.ok);
    bool found = false;
    for (size_t i = 0; i < q.m.nvirtio; i++)
        found |= q.m.virtio[i].base == 0x10008000 && q.m.virtio[i].irq == 8;
    CHECK(found);
}

TEST_CASE("fdt: QEMU sifive_u facts")
{
    for (size_t harts : {size_t(5), size_t(2)}) {
        std::string name = "sifive_u-" + std::to_string(harts);
        INFO("dtb " << std::string(name));
        Parsed p;
        parse_blob(load_dtb(name), 0x87e00000, p);
        REQUIRE(p.ok);
        const fdt::MachineInfo& m = p.m;
        CHECK(m.timebase_hz == 1000000);
        REQUIRE(m.ncpus == harts);
        // Hart 0 is the E51: no MMU, and only an M-mode PLIC context.
        CHECK_FALSE(m.cpus[0].has_sv39());
        CHECK(std::string(m.cpus[0].isa) == "rv64imac_zicsr_zifencei");
        CHECK(fdt::plic_s_context(m, 0) == -1);
        for (uint32_t h = 1; h < harts; h++) {
            CHECK(m.cpus[h].has_sv39());
            CHECK(fdt::plic_s_context(m, h) == int(2 * h));
        }
        CHECK(m.plic.nharts == harts - 1);
        REQUIRE(m.nuarts == 2);
        CHECK(m.uarts[0].kind == fdt::UartKind::SifiveUart0);
        CHECK(m.uarts[0].base == 0x10010000);
        CHECK(m.uarts[0].irq == 4);
        CHECK(m.uarts[0].clock_hz == 0); // clocked by the PRCI, not a fixed-clock
        CHECK(m.stdout_uart == 0);
        CHECK(m.stdout_resolved);
        REQUIRE(m.nspi == 2);
        CHECK_FALSE(m.spi[0].has_mmc_slot);
        CHECK(m.spi[1].base == 0x10050000);
        CHECK(m.spi[1].irq == 6);
        CHECK(m.spi[1].has_mmc_slot);
        CHECK(m.finisher.kind == fdt::FinisherKind::None);
        CHECK_FALSE(m.poweroff.present);
        CHECK(m.nvirtio == 0);
    }
}

TEST_CASE("fdt: OpenSBI-style /reserved-memory and /memreserve/ are reserved")
{
    std::vector<uint8_t> b = editable(load_dtb("virt-4-256M"));
    void* f = b.data();
    REQUIRE(fdt_add_mem_rsv(f, 0x8f000000, 0x10000) == 0);
    int rm = fdt_add_subnode(f, 0, "reserved-memory");
    REQUIRE(rm >= 0);
    REQUIRE(fdt_setprop_u32(f, rm, "#address-cells", 2) == 0);
    REQUIRE(fdt_setprop_u32(f, rm, "#size-cells", 2) == 0);
    REQUIRE(fdt_setprop(f, rm, "ranges", nullptr, 0) == 0);
    struct {
        const char* name;
        uint64_t base, size;
        bool disabled;
    } kids[] = {{"mmode_resv1@80000000", 0x80000000, 0x20000, false},
                {"mmode_resv0@80040000", 0x80040000, 0x20000, false},
                {"ignored@84000000", 0x84000000, 0x1000, true}};
    for (auto& k : kids) {
        int c = fdt_add_subnode(f, rm, k.name);
        REQUIRE(c >= 0);
        REQUIRE(fdt_appendprop_addrrange(f, rm, c, "reg", k.base, k.size) == 0);
        REQUIRE(fdt_setprop(f, c, "no-map", nullptr, 0) == 0);
        if (k.disabled)
            REQUIRE(fdt_setprop_string(f, c, "status", "disabled") == 0);
    }
    // A dynamic reservation (size only) has no fixed place: not reserved.
    int dyn = fdt_add_subnode(f, rm, "dynamic");
    REQUIRE(dyn >= 0);
    REQUIRE(fdt_setprop_u64(f, dyn, "size", 0x100000) == 0);
    finish(b);

    uint64_t phys = 0x8fe00000;
    Parsed p;
    parse_blob(b, phys, p);
    INFO(p.m.error.text);
    REQUIRE(p.ok);
    compare_with_libfdt(b, phys, p.m);
    const fdt::MachineInfo& m = p.m;
    REQUIRE(m.nreserved == 4);
    CHECK(m.reserved[0] == fdt::Range {0x8f000000, 0x10000});
    CHECK(m.reserved[1] == fdt::Range {phys, fdt_totalsize(b.data())});
    // fdt_add_subnode puts each new child first: tree order is resv0, resv1.
    CHECK(m.reserved[2] == fdt::Range {0x80040000, 0x20000});
    CHECK(m.reserved[3] == fdt::Range {0x80000000, 0x20000});
    REQUIRE(m.nusable == 4);
    CHECK(m.usable[0] == fdt::Range {0x80020000, 0x20000});
    CHECK(m.usable[1] == fdt::Range {0x80060000, 0x8f000000 - 0x80060000});
    CHECK(m.usable[2] == fdt::Range {0x8f010000, phys - 0x8f010000});
    CHECK(m.usable[3] == fdt::Range {phys + 0x2000, 0x90000000 - phys - 0x2000});
}

TEST_CASE("fdt: stdout-path as alias, full path with options, or missing")
{
    struct Case {
        const char* path; // nullptr: delete stdout-path
        int uart;
        bool resolved;
    } cases[] = {
        {"serial1:115200", 1, true},
        {"serial0", 0, true},
        {"/soc/serial@10011000:115200n8", 1, true},
        {"/soc/serial@10011000", 1, true},
        {"/soc/serial", 0, true}, // unit address omitted: first match
        {"/soc/nothing@1", 0, false},
        {"nosuchalias", 0, false},
        {nullptr, 0, false},
    };
    for (const Case& c : cases) {
        INFO("stdout-path " << std::string(c.path ? c.path : "(none)"));
        std::vector<uint8_t> b = editable(load_dtb("sifive_u-5"));
        int chosen = fdt_path_offset(b.data(), "/chosen");
        REQUIRE(chosen >= 0);
        if (c.path)
            REQUIRE(fdt_setprop_string(b.data(), chosen, "stdout-path", c.path) == 0);
        else
            REQUIRE(fdt_delprop(b.data(), chosen, "stdout-path") == 0);
        finish(b);
        Parsed p;
        parse_blob(b, 0x87e00000, p);
        REQUIRE(p.ok);
        CHECK(p.m.stdout_uart == c.uart);
        CHECK(p.m.stdout_resolved == c.resolved);
        CHECK(std::string(p.m.stdout_path) == (c.path ? c.path : ""));
    }
}

TEST_CASE("fdt: disabled nodes are skipped, disabled harts are reported")
{
    std::vector<uint8_t> b = editable(load_dtb("virt-4-256M"));
    void* f = b.data();
    int v = fdt_path_offset(f, "/soc/virtio_mmio@10001000");
    REQUIRE(v >= 0);
    REQUIRE(fdt_setprop_string(f, v, "status", "disabled") == 0);
    int soc = fdt_path_offset(f, "/soc");
    int uart = fdt_path_offset(f, "/soc/serial@10000000");
    REQUIRE(uart >= 0);
    REQUIRE(fdt_setprop_string(f, uart, "status", "ok") == 0); // "ok" is enabled too
    REQUIRE(soc >= 0);
    int cpu2 = fdt_path_offset(f, "/cpus/cpu@2");
    REQUIRE(fdt_setprop_string(f, cpu2, "status", "disabled") == 0);
    finish(b);
    Parsed p;
    parse_blob(b, 0x8fe00000, p);
    REQUIRE(p.ok);
    compare_with_libfdt(b, 0x8fe00000, p.m);
    CHECK(p.m.nvirtio == 7);
    CHECK(p.m.nuarts == 1);
    REQUIRE(p.m.ncpus == 4);
    CHECK_FALSE(p.m.cpus[2].okay);
    CHECK(p.m.cpus[3].okay);

    // A disabled bus hides everything on it.
    std::vector<uint8_t> c = editable(load_dtb("virt-4-256M"));
    REQUIRE(fdt_setprop_string(c.data(), fdt_path_offset(c.data(), "/soc"), "status",
                               "disabled") == 0);
    finish(c);
    Parsed q;
    parse_blob(c, 0x8fe00000, q);
    REQUIRE(q.ok);
    CHECK(q.m.nuarts == 0);
    CHECK(q.m.stdout_uart == -1);
    CHECK_FALSE(q.m.plic.present);
    CHECK(q.m.nvirtio == 0);
}

TEST_CASE("fdt: SiFive UART clock from a fixed-clock, syscon-poweroff with mask only")
{
    std::vector<uint8_t> b = editable(load_dtb("sifive_u-2"));
    void* f = b.data();
    int hfclk = fdt_path_offset(f, "/hfclk");
    REQUIRE(hfclk >= 0);
    int uart = fdt_path_offset(f, "/soc/serial@10010000");
    REQUIRE(fdt_setprop_u32(f, uart, "clocks", fdt_get_phandle(f, hfclk)) == 0);
    // A syscon with a poweroff that uses the old mask-only binding.
    int soc = fdt_path_offset(f, "/soc");
    int sys = fdt_add_subnode(f, soc, "syscon@100000");
    REQUIRE(sys >= 0);
    REQUIRE(fdt_setprop_string(f, sys, "compatible", "syscon") == 0);
    REQUIRE(fdt_appendprop_addrrange(f, soc, sys, "reg", 0x100000, 0x1000) == 0);
    REQUIRE(fdt_setprop_u32(f, sys, "phandle", 0x777) == 0);
    int po = fdt_add_subnode(f, 0, "poweroff");
    REQUIRE(fdt_setprop_string(f, po, "compatible", "syscon-poweroff") == 0);
    REQUIRE(fdt_setprop_u32(f, po, "regmap", 0x777) == 0);
    REQUIRE(fdt_setprop_u32(f, po, "offset", 8) == 0);
    REQUIRE(fdt_setprop_u32(f, po, "mask", 0x3333) == 0);
    finish(b);
    Parsed p;
    parse_blob(b, 0x87e00000, p);
    INFO(p.m.error.text);
    REQUIRE(p.ok);
    CHECK(p.m.uarts[0].clock_hz == 0x1fca055);
    CHECK(p.m.uarts[1].clock_hz == 0);
    CHECK(p.m.finisher.kind == fdt::FinisherKind::Syscon);
    CHECK(p.m.finisher.base == 0x100000);
    CHECK(p.m.poweroff.present);
    CHECK(p.m.poweroff.address() == 0x100008);
    CHECK(p.m.poweroff.value == 0x3333);
    CHECK(p.m.poweroff.mask == 0xffffffff);
    CHECK_FALSE(p.m.reboot.present);
}

TEST_CASE("fdt: a UART's interrupt through interrupts-extended")
{
    std::vector<uint8_t> b = editable(load_dtb("virt-1-64M"));
    void* f = b.data();
    uint32_t plic_ph = fdt_get_phandle(f, fdt_path_offset(f, "/soc/plic@c000000"));
    uint32_t intc_ph = fdt_get_phandle(f, fdt_path_offset(f, "/cpus/cpu@0/interrupt-controller"));
    REQUIRE(plic_ph != 0);
    REQUIRE(intc_ph != 0);
    // Offsets move with every edit: look the node up again each time.
    REQUIRE(fdt_delprop(f, fdt_path_offset(f, "/soc/serial@10000000"), "interrupts") == 0);
    REQUIRE(fdt_delprop(f, fdt_path_offset(f, "/soc/serial@10000000"), "interrupt-parent") == 0);
    // A first entry on another controller (the hart's, one cell), then the PLIC's.
    uint32_t cells[4] = {cpu_to_fdt32(intc_ph), cpu_to_fdt32(9), cpu_to_fdt32(plic_ph), cpu_to_fdt32(10)};
    REQUIRE(fdt_setprop(f, fdt_path_offset(f, "/soc/serial@10000000"), "interrupts-extended", cells, sizeof cells) ==
            0);
    finish(b);
    Parsed p;
    parse_blob(b, 0x87e00000, p);
    INFO(p.m.error.text);
    REQUIRE(p.ok);
    CHECK(p.m.uarts[0].irq == 10);
}

TEST_CASE("fdt: one-cell addresses, several banks, per-cpu timebase, truncated strings")
{
    std::vector<uint8_t> b = rich_tree();
    Exact e(b);
    static fdt::MachineInfo m;
    lib::Status s = fdt::parse(e.mem.get(), e.len, 0x81000000, m);
    INFO(m.error.text);
    REQUIRE(s.ok());
    REQUIRE(m.nmemory == 2);
    CHECK(m.memory[0] == fdt::Range {0x80000000, 0x1000000});
    CHECK(m.memory[1] == fdt::Range {0xa0000000, 0x1000000});
    REQUIRE(m.nreserved == 3);
    CHECK(m.reserved[0] == fdt::Range {0x80100000, 0x1000});
    CHECK(m.reserved[1] == fdt::Range {0x81000000, b.size()});
    CHECK(m.reserved[2] == fdt::Range {0xa0000000, 0x200000});
    // The blob at 0x81000000 is past the end of bank 0: it takes nothing there.
    REQUIRE(m.nusable == 3);
    CHECK(m.usable[0] == fdt::Range {0x80000000, 0x100000});
    CHECK(m.usable[1] == fdt::Range {0x80101000, 0xeff000});
    CHECK(m.usable[2] == fdt::Range {0xa0200000, 0xe00000});
    CHECK(m.timebase_hz == 25000000);
    REQUIRE(m.ncpus == 3);
    CHECK(m.cpus[0].mmu == fdt::Mmu::Sv39);
    CHECK(m.cpus[1].mmu == fdt::Mmu::Sv57);
    CHECK(m.cpus[2].mmu == fdt::Mmu::None);
    CHECK(m.cpus[2].timebase_hz == 25000000);
    CHECK(m.cpus[1].intc_phandle == 0x11);
    CHECK(m.plic.contexts == 5);
    CHECK(m.plic.ndev == 31);
    CHECK(fdt::plic_s_context(m, 0) == 1);
    CHECK(fdt::plic_s_context(m, 1) == 3);
    CHECK(fdt::plic_s_context(m, 2) == 4);
    CHECK(m.bootargs_truncated);
    CHECK(std::string(m.bootargs) == std::string(fdt::kBootargsLen - 1, 'a'));
    CHECK(std::string(m.stdout_path) == "serial0");
    REQUIRE(m.nuarts == 1);
    CHECK(m.stdout_resolved);
    CHECK(m.uarts[0].reg_shift == 2);
    CHECK(m.uarts[0].reg_io_width == 4);
    CHECK(m.uarts[0].clock_hz == 1843200);
}
