// fdt::parse() on trees written from the public facts of real boards
// (test/dtb/boards/*.dts: HiFive Unleashed FU540, Unmatched FU740, Premier
// P550 EIC7700) and, built here, a 64-hart SG2042-like tree; each checked for
// what Zest drives on that board and, node by node, against libfdt's walk.
#include "boot/machine.h"
#include "test/host/fdt_testutil.h"

#include <doctest/doctest.h>
#include <libfdt.h>

#include <string>
#include <vector>

using namespace fdt_test;

namespace {

constexpr uint64_t kGiB = 1ull << 30;

std::vector<uint8_t> load_board(const std::string& name)
{
    std::string path = dtb_dir() + "/boards/" + name + ".dtb";
    std::ifstream f(path, std::ios::binary);
    INFO("reading " << path << " (made by test/host/fdt.mk from test/dtb/boards/" << name << ".dts)");
    REQUIRE(f.good());
    return std::vector<uint8_t>((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
}

struct Parsed {
    bool ok = false;
    fdt::MachineInfo m;
};

// From an exact-size heap copy; the blob "sits" 2 MiB below the top of the first GiB.
void parse_blob(const std::vector<uint8_t>& b, Parsed& out, uint32_t boot_hart = fdt::kNoHart)
{
    Exact e(b);
    out.ok = fdt::parse(e.mem.get(), e.len, 0xbfe00000, out.m, boot_hart).ok();
    INFO("error: " << out.m.error.text);
    REQUIRE(out.ok);
}

// What libfdt sees that MachineInfo also holds: every node in order, RAM by
// device_type, hart ids in order (up to kMaxCpus), the PLIC's S contexts.
void compare_with_libfdt(const std::vector<uint8_t>& b, const fdt::MachineInfo& m)
{
    const void* f = b.data();
    REQUIRE(fdt_check_full(f, b.size()) == 0);

    Exact e(b);
    fdt::Blob blob;
    fdt::ErrorText err;
    REQUIRE(blob.open(e.mem.get(), e.len, err).ok());
    std::vector<uint32_t> lf_nodes;
    for (int n = 0; n >= 0; n = fdt_next_node(f, n, nullptr))
        lf_nodes.push_back(uint32_t(n));
    std::vector<uint32_t> ours;
    auto walk = [&](auto&& self, fdt::Node n) -> void {
        ours.push_back(n.off);
        fdt::Node c;
        for (bool more = blob.first_child(n, c); more; more = blob.next_sibling(c, c))
            self(self, c);
    };
    walk(walk, blob.root());
    CHECK(ours == lf_nodes);

    size_t ram = 0;
    for (int n = fdt_node_offset_by_prop_value(f, -1, "device_type", "memory", 7); n >= 0;
         n = fdt_node_offset_by_prop_value(f, n, "device_type", "memory", 7))
        ram++;
    CHECK(m.nmemory == ram); // one reg entry per bank in these trees

    int cpus = fdt_path_offset(f, "/cpus");
    REQUIRE(cpus >= 0);
    size_t k = 0, listed = 0;
    int c;
    fdt_for_each_subnode(c, f, cpus)
    {
        const char* type = static_cast<const char*>(fdt_getprop(f, c, "device_type", nullptr));
        if (!type || std::string(type) != "cpu")
            continue;
        listed++;
        const fdt32_t* reg = static_cast<const fdt32_t*>(fdt_getprop(f, c, "reg", nullptr));
        if (k < m.ncpus && m.cpus[k].hart_id == fdt32_to_cpu(*reg))
            k++;
    }
    CHECK(k == m.ncpus);
    CHECK(listed == m.ncpus + m.ncpus_ignored);
}

} // namespace

TEST_CASE("fdt boards: HiFive Unleashed (FU540)")
{
    std::vector<uint8_t> b = load_board("fu540");
    Parsed p;
    parse_blob(b, p);
    const fdt::MachineInfo& m = p.m;
    compare_with_libfdt(b, m);
    CHECK(m.timebase_hz == 1000000);
    REQUIRE(m.ncpus == 5);
    CHECK_FALSE(m.cpus[0].has_sv39()); // the E51
    for (size_t i = 1; i < 5; i++)
        CHECK(m.cpus[i].mmu == fdt::Mmu::Sv39);
    REQUIRE(m.nmemory == 1);
    CHECK(m.memory[0] == fdt::Range {0x80000000, 8 * kGiB});
    CHECK(m.plic.present);
    CHECK(m.plic.base == 0xc000000);
    CHECK(m.plic.ndev == 53);
    CHECK(m.plic.contexts == 9);
    CHECK(fdt::plic_s_context(m, 0) == -1);
    for (uint32_t h = 1; h <= 4; h++)
        CHECK(fdt::plic_s_context(m, h) == int(2 * h));
    REQUIRE(m.nuarts == 2);
    CHECK(m.uarts[0].kind == fdt::UartKind::SifiveUart0);
    CHECK(m.uarts[0].base == 0x10010000);
    CHECK(m.uarts[0].irq == 4);
    CHECK(m.uarts[1].irq == 5);
    CHECK(m.stdout_uart == 0);
    CHECK(m.stdout_resolved);
    REQUIRE(m.nspi == 3);
    CHECK(m.spi[0].irq == 51);
    CHECK(m.spi[2].base == 0x10050000);
    CHECK(m.spi[2].has_mmc_slot);
    CHECK_FALSE(m.spi[0].has_mmc_slot);
    CHECK(m.has_clint);
    CHECK(m.clint.base == 0x2000000);
}

TEST_CASE("fdt boards: HiFive Unmatched (FU740)")
{
    std::vector<uint8_t> b = load_board("fu740");
    Parsed p;
    parse_blob(b, p);
    const fdt::MachineInfo& m = p.m;
    compare_with_libfdt(b, m);
    REQUIRE(m.ncpus == 5);
    CHECK_FALSE(m.cpus[0].okay); // the S7, disabled in the tree
    CHECK(m.cpus[1].okay);
    CHECK(m.memory[0] == fdt::Range {0x80000000, 16 * kGiB});
    CHECK(m.plic.ndev == 69);
    for (uint32_t h = 1; h <= 4; h++)
        CHECK(fdt::plic_s_context(m, h) == int(2 * h));
    REQUIRE(m.nuarts == 2);
    CHECK(m.uarts[0].irq == 39);
    CHECK(m.uarts[1].irq == 40);
    CHECK(std::string(m.stdout_path) == "serial0:115200n8");
    CHECK(m.stdout_uart == 0);
    CHECK(m.stdout_resolved);
    REQUIRE(m.nspi == 3);
    CHECK(m.spi[0].irq == 41);
    CHECK(m.spi[2].irq == 43);
    CHECK(m.spi[2].has_mmc_slot);
}

TEST_CASE("fdt boards: HiFive Premier P550 (EIC7700): DesignWare console, 520-source PLIC")
{
    std::vector<uint8_t> b = load_board("p550");
    Parsed p;
    parse_blob(b, p);
    const fdt::MachineInfo& m = p.m;
    compare_with_libfdt(b, m);
    REQUIRE(m.ncpus == 4);
    for (size_t i = 0; i < 4; i++) {
        CHECK(m.cpus[i].mmu == fdt::Mmu::Sv48);
        CHECK(m.cpus[i].has_sv39());
    }
    CHECK(m.memory[0] == fdt::Range {0x80000000, 16 * kGiB});
    CHECK(m.plic.present);
    CHECK(m.plic.base == 0xc000000);
    CHECK(m.plic.size == 0x4000000);
    CHECK(m.plic.ndev == 520);
    CHECK(m.plic.contexts == 8);
    REQUIRE(m.plic.nharts == 4);
    for (uint32_t h = 0; h < 4; h++)
        CHECK(fdt::plic_s_context(m, h) == int(2 * h + 1));
    REQUIRE(m.nuarts == 1); // UART1 is disabled
    const fdt::Uart& u = m.uarts[0];
    CHECK(u.kind == fdt::UartKind::SnpsDwApb);
    CHECK(u.base == 0x50900000);
    CHECK(u.reg_shift == 2);
    CHECK(u.reg_io_width == 4);
    CHECK(u.reg_offset == 0);
    CHECK(u.irq == 100);
    CHECK(u.clock_hz == 200000000);
    CHECK(m.stdout_uart == 0);
    CHECK(m.stdout_resolved);
    CHECK(m.has_clint);
}

TEST_CASE("fdt boards: ns16550 family reg-offset and reg-io-width")
{
    std::vector<uint8_t> base = load_board("p550");
    auto edited = [&](const char* prop, uint32_t v) {
        std::vector<uint8_t> b(base.size() + 256);
        REQUIRE(fdt_open_into(base.data(), b.data(), int(b.size())) == 0);
        int uart = fdt_path_offset(b.data(), "/soc/serial@50900000");
        REQUIRE(uart >= 0);
        REQUIRE(fdt_setprop_u32(b.data(), uart, prop, v) == 0);
        REQUIRE(fdt_pack(b.data()) == 0);
        b.resize(fdt_totalsize(b.data()));
        return b;
    };
    Parsed p;
    parse_blob(edited("reg-offset", 0x100), p);
    REQUIRE(p.m.nuarts == 1);
    CHECK(p.m.uarts[0].base == 0x50900100);
    CHECK(p.m.uarts[0].reg_offset == 0x100);

    // 16-bit registers: the driver does bytes and words only, so no console rather than a wrong one.
    Parsed q;
    parse_blob(edited("reg-io-width", 2), q);
    CHECK(q.m.nuarts == 0);
    CHECK(q.m.nuarts_ignored == 1);
    CHECK(q.m.stdout_uart == -1);
}

namespace {

// An SG2042-like tree: 64 C920 harts (Sv39) in one /cpus, a 50 MHz timebase,
// RAM at 0, the T-Head PLIC (thead,c900-plic, which Zest does not drive) at
// 0x7090000000 with 224 sources and an M and S context per hart, and the
// console a DesignWare UART at 0x7040000000 with two interrupt cells.
std::vector<uint8_t> sg2042_like()
{
    RawFdt t;
    t.begin("").prop_cells("#address-cells", {2}).prop_cells("#size-cells", {2});
    t.prop_str("model", "Sophgo SG2042-like (64 harts)");
    t.begin("chosen").prop_str("stdout-path", "serial0").end_node();
    t.begin("aliases").prop_str("serial0", "/soc/serial@7040000000").end_node();
    t.begin("cpus").prop_cells("#address-cells", {1}).prop_cells("#size-cells", {0});
    t.prop_cells("timebase-frequency", {50000000});
    for (uint32_t h = 0; h < 64; h++) {
        std::string name = "cpu@" + std::to_string(h);
        t.begin(name.c_str()).prop_str("device_type", "cpu").prop_cells("reg", {h});
        t.prop_str("riscv,isa", "rv64imafdc").prop_str("mmu-type", "riscv,sv39");
        t.begin("interrupt-controller").prop_str("compatible", "riscv,cpu-intc");
        t.prop_cells("#interrupt-cells", {1}).prop_cells("phandle", {0x100 + h}).end_node();
        t.end_node();
    }
    t.end_node();
    t.begin("memory@0").prop_str("device_type", "memory");
    t.prop_cells("reg", {0, 0, 0x4, 0}).end_node();
    t.begin("soc").prop_cells("#address-cells", {2}).prop_cells("#size-cells", {2});
    t.prop("ranges", nullptr, 0);
    t.begin("interrupt-controller@7090000000");
    static const char plic_compat[] = "sophgo,sg2042-plic\0thead,c900-plic";
    t.prop("compatible", plic_compat, sizeof plic_compat);
    t.prop_cells("reg", {0x70, 0x90000000, 0, 0x4000000}).prop_cells("riscv,ndev", {224});
    t.prop_cells("#interrupt-cells", {2}).prop_cells("phandle", {0x10});
    std::vector<uint8_t> ie;
    for (uint32_t h = 0; h < 64; h++)
        for (uint32_t irq : {11u, 9u}) {
            size_t at = ie.size();
            ie.resize(at + 8);
            put_be32(ie, at, 0x100 + h);
            put_be32(ie, at + 4, irq);
        }
    t.prop("interrupts-extended", ie.data(), uint32_t(ie.size())).end_node();
    t.begin("serial@7040000000").prop_str("compatible", "snps,dw-apb-uart");
    t.prop_cells("reg", {0x70, 0x40000000, 0, 0x1000}).prop_cells("interrupt-parent", {0x10});
    t.prop_cells("interrupts", {112, 4}).prop_cells("clock-frequency", {500000000});
    t.prop_cells("reg-shift", {2}).prop_cells("reg-io-width", {4}).end_node();
    t.end_node().end_node().end();
    return t.build();
}

} // namespace

TEST_CASE("fdt boards: 64 harts (SG2042-like): the first 16 read, the rest named, no failure")
{
    std::vector<uint8_t> b = sg2042_like();
    Parsed p;
    parse_blob(b, p, 0); // booted on hart 0
    const fdt::MachineInfo& m = p.m;
    compare_with_libfdt(b, m);
    REQUIRE(m.ncpus == fdt::kMaxCpus);
    for (size_t i = 0; i < m.ncpus; i++)
        CHECK(m.cpus[i].hart_id == i);
    CHECK(m.ncpus_ignored == 48);
    REQUIRE(m.nignored_runs == 1);
    CHECK(m.ignored_runs[0].first == 16);
    CHECK(m.ignored_runs[0].last == 63);
    CHECK(m.timebase_hz == 50000000);
    CHECK_FALSE(m.plic.present); // thead,c900-plic: not driven
    REQUIRE(m.nuarts == 1);
    CHECK(m.uarts[0].kind == fdt::UartKind::SnpsDwApb);
    CHECK(m.uarts[0].base == 0x7040000000);
    CHECK(m.uarts[0].irq == 112);
    CHECK(m.stdout_resolved);

    // Booted on a hart listed past the limit: it is kept, the 16th goes.
    Parsed q;
    parse_blob(b, q, 40);
    REQUIRE(q.m.ncpus == fdt::kMaxCpus);
    CHECK(fdt::find_cpu(q.m, 40) != nullptr);
    CHECK(fdt::find_cpu(q.m, 15) == nullptr);
    CHECK(fdt::find_cpu(q.m, 14) != nullptr);
    CHECK(q.m.ncpus_ignored == 48);
    REQUIRE(q.m.nignored_runs == 2);
    CHECK(q.m.ignored_runs[0].first == 15);
    CHECK(q.m.ignored_runs[0].last == 39);
    CHECK(q.m.ignored_runs[1].first == 41);
    CHECK(q.m.ignored_runs[1].last == 63);

    // Without a boot hart (the host's view), still the first 16.
    Parsed r;
    parse_blob(b, r);
    CHECK(r.m.ncpus == fdt::kMaxCpus);
    CHECK(r.m.cpus[15].hart_id == 15);
}

TEST_CASE("fdt boards: the PLIC's contexts for harts past the limit are stepped over")
{
    // A sifive,plic-1.0.0 on the 64-hart tree: only the 16 harts read get S contexts.
    std::vector<uint8_t> base = sg2042_like();
    std::vector<uint8_t> b(base.size() + 256);
    REQUIRE(fdt_open_into(base.data(), b.data(), int(b.size())) == 0);
    int plic = fdt_path_offset(b.data(), "/soc/interrupt-controller@7090000000");
    REQUIRE(plic >= 0);
    REQUIRE(fdt_setprop_string(b.data(), plic, "compatible", "sifive,plic-1.0.0") == 0);
    REQUIRE(fdt_pack(b.data()) == 0);
    b.resize(fdt_totalsize(b.data()));
    Parsed p;
    parse_blob(b, p, 0);
    CHECK(p.m.plic.present);
    CHECK(p.m.plic.contexts == 128);
    CHECK(p.m.plic.nharts == fdt::kMaxCpus);
    for (uint32_t h = 0; h < 16; h++)
        CHECK(fdt::plic_s_context(p.m, h) == int(2 * h + 1));
}

TEST_CASE("fdt boards: a memory@ node without device_type = \"memory\" is not RAM")
{
    RawFdt t;
    t.begin("").prop_cells("#address-cells", {2}).prop_cells("#size-cells", {2});
    t.begin("memory@80000000").prop_str("device_type", "memory");
    t.prop_cells("reg", {0, 0x80000000, 0, 0x10000000}).end_node();
    // A device's own SRAM, named like RAM (as in some U-Boot trees): not RAM.
    t.begin("memory@400000000").prop_str("compatible", "mmio-sram");
    t.prop_cells("reg", {0x4, 0, 0x40, 0}).end_node();
    t.begin("memory").prop_cells("reg", {0x5, 0, 0, 0x1000}).end_node();
    t.begin("cpus").prop_cells("#address-cells", {1}).prop_cells("#size-cells", {0});
    t.begin("cpu@0").prop_str("device_type", "cpu").prop_cells("reg", {0}).end_node().end_node();
    t.end_node().end();
    std::vector<uint8_t> b = t.build();
    Parsed p;
    parse_blob(b, p);
    compare_with_libfdt(b, p.m);
    REQUIRE(p.m.nmemory == 1);
    CHECK(p.m.memory[0] == fdt::Range {0x80000000, 0x10000000});
}

TEST_CASE("fdt boards: set_memory_size trims RAM the machine does not have")
{
    std::vector<uint8_t> b = load_board("fu540"); // claims 8 GiB
    Parsed p;
    parse_blob(b, p);
    fdt::MachineInfo& m = p.m;
    REQUIRE(m.nmemory == 1);
    REQUIRE(fdt::set_memory_size(m, 0, 512ull << 20).ok()); // what answered under -m 512M
    CHECK(m.memory[0] == fdt::Range {0x80000000, 512ull << 20});
    for (size_t i = 0; i < m.nusable; i++)
        CHECK(m.usable[i].end() <= 0xa0000000);
    CHECK(m.nusable >= 1);
    // The blob at 0xbfe00000 is now outside RAM: nothing usable overlaps it anyway.
    CHECK_FALSE(fdt::set_memory_size(m, 0, 1ull << 40).ok()); // cannot grow
    CHECK_FALSE(fdt::set_memory_size(m, 1, 0).ok());
    REQUIRE(fdt::set_memory_size(m, 0, 0).ok());
    CHECK(m.nmemory == 0);
    CHECK(m.nusable == 0);
}
