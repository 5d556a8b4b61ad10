// Malformed blobs: every one must be refused with a message that says what and
// where, or parse validly; none may read outside its buffer (each blob is an
// exact-size heap copy, so ASan reports a one-byte overread) or crash.
#include "boot/machine.h"
#include "test/host/fdt_testutil.h"

#include <doctest/doctest.h>

#include <cstring>
#include <random>
#include <sstream>
#include <string>
#include <vector>

using namespace fdt_test;

namespace {

constexpr size_t kHdr = 40, kRsv = 16; // RawFdt: header, then an empty reserve map

std::string hex(uint64_t v)
{
    std::ostringstream s;
    s << "0x" << std::hex << v;
    return s.str();
}

// Full parse from an exact-size copy of the first n bytes of b.
struct Outcome {
    bool ok;
    std::string msg;
};
Outcome parse_n(const std::vector<uint8_t>& b, size_t n)
{
    Exact e(b, n);
    static fdt::MachineInfo m; // a few KiB: keep it off the stack
    bool ok = fdt::parse(e.mem.get(), e.len, 0x80000000, m).ok();
    return {ok, m.error.text};
}
Outcome parse_all(const std::vector<uint8_t>& b) { return parse_n(b, b.size()); }

// A small valid tree: / { #address-cells, #size-cells, memory@80000000 {...} }.
RawFdt small_tree(size_t* reg_at = nullptr)
{
    RawFdt t;
    t.begin("").prop_cells("#address-cells", {2}).prop_cells("#size-cells", {2});
    t.begin("memory@80000000").prop_str("device_type", "memory");
    if (reg_at)
        *reg_at = t.struct_size();
    t.prop_cells("reg", {0, 0x80000000, 0, 0x100000}).end_node();
    t.end_node().end();
    return t;
}

} // namespace

TEST_CASE("fdt corrupt: a hand-built tree is valid (the baseline for the cases below)")
{
    std::vector<uint8_t> b = small_tree().build();
    Outcome o = parse_all(b);
    CHECK(o.ok);
    CHECK(o.msg.empty());
}

TEST_CASE("fdt corrupt: header problems are named")
{
    std::vector<uint8_t> good = small_tree().build();
    auto with = [&](size_t field_off, uint32_t v) {
        std::vector<uint8_t> b = good;
        put_be32(b, field_off, v);
        return parse_all(b).msg;
    };
    CHECK(parse_n(good, 39).msg == "fdt: only 39 bytes available, less than the 40-byte header");
    CHECK(parse_n(good, 0).msg == "fdt: only 0 bytes available, less than the 36-byte header");
    CHECK(with(0, 0xd00dfeee) == "fdt: bad magic 0xd00dfeee at offset 0x0 (expected 0xd00dfeed)");
    CHECK(with(20, 15) == "fdt: version 15 is too old (need 16 or later)");
    CHECK(with(24, 18) == "fdt: last_comp_version 18 is newer than 17, the layout we read");
    CHECK(with(4, 39) == "fdt: totalsize 0x27 is smaller than the header");
    CHECK(parse_n(good, good.size() - 1).msg ==
          "fdt: totalsize " + hex(good.size()) + " is larger than the " + hex(good.size() - 1) +
              " bytes available");
    CHECK(with(8, kHdr + kRsv + 2) == "fdt: structure block offset 0x3a is not 4-byte aligned");
    CHECK(with(16, 44) == "fdt: memory reservation block offset 0x2c is not 8-byte aligned");
    CHECK(with(16, 0) == "fdt: memory reservation block [0x0, 0x10) is outside the blob [0x28, " +
                             hex(good.size()) + ")");
    CHECK(with(36, 0x100000).find("fdt: structure block [0x38, 0x100038) is outside the blob") == 0);
    CHECK(with(12, 0xfffffff0).find("fdt: strings block") == 0);
    CHECK(with(32, 0xffffffff).find("is outside the blob") != std::string::npos);
    CHECK(with(8, 0xfffffffc).find("fdt: structure block [0xfffffffc,") == 0);
}

TEST_CASE("fdt corrupt: reservation map without a terminator")
{
    RawFdt t;
    t.begin("").end_node().end();
    std::vector<uint8_t> b = t.build();
    put_be32(b, 16, kHdr + kRsv); // point it at the structure block: never all zero
    CHECK(parse_all(b).msg == "fdt: memory reservation block at 0x38 has no terminating entry "
                              "before the end of the blob");
}

TEST_CASE("fdt corrupt: a property that runs past the structure block")
{
    size_t reg_at = 0;
    std::vector<uint8_t> b = small_tree(&reg_at).build();
    put_be32(b, kHdr + kRsv + reg_at + 4, 0x1000); // its length
    CHECK(parse_all(b).msg == "fdt: property 'reg' of /memory@80000000 runs past the structure "
                              "block (offset " + hex(kHdr + kRsv + reg_at) + ")");
    put_be32(b, kHdr + kRsv + reg_at + 4, 0xfffffff8); // 32-bit wrap must not fool it
    CHECK(parse_all(b).msg.find("runs past the structure block") != std::string::npos);
}

TEST_CASE("fdt corrupt: structure block token errors")
{
    auto msg = [](RawFdt& t) { return parse_all(t.build()).msg; };
    std::string at = hex(kHdr + kRsv); // offset of the first token

    RawFdt unterminated;
    unterminated.begin("").word(1).word(0x61626364).word(0x65666768);
    CHECK(msg(unterminated) == "fdt: name of the node at offset 0x40 runs past the structure block");

    RawFdt bad_nameoff;
    bad_nameoff.begin("").prop_raw(0x1000, "x", 1).end_node().end();
    CHECK(msg(bad_nameoff) == "fdt: property name offset 0x1000 in / is outside the strings "
                              "block of size 0x0 (offset 0x40)");

    RawFdt bad_token;
    bad_token.begin("").begin("soc").word(5).end_node().end_node().end();
    CHECK(msg(bad_token) == "fdt: bad token 0x5 at offset 0x48 in /soc");

    RawFdt missing_end_node;
    missing_end_node.begin("").begin("a").end_node().end();
    CHECK(msg(missing_end_node) == "fdt: END token at offset 0x4c inside / (missing END_NODE)");

    RawFdt extra_end_node;
    extra_end_node.begin("").end_node().end_node().end();
    CHECK(msg(extra_end_node) == "fdt: END_NODE at offset 0x44 has no matching BEGIN_NODE");

    RawFdt no_end;
    no_end.begin("").end_node();
    CHECK(msg(no_end) == "fdt: structure block has no END token (offset 0x44)");

    RawFdt ends_inside;
    ends_inside.begin("").begin("cpus");
    CHECK(msg(ends_inside) == "fdt: structure block ends inside /cpus (offset 0x4c)");

    RawFdt two_roots;
    two_roots.begin("").end_node().begin("").end_node().end();
    CHECK(msg(two_roots) == "fdt: second root node at offset 0x44");

    RawFdt leading_nop;
    leading_nop.nop().begin("").end_node().end();
    CHECK(msg(leading_nop) == "fdt: structure block does not start with the root node (offset " +
                                  at + ")");

    RawFdt prop_after_subnode;
    prop_after_subnode.begin("").begin("a").end_node().prop_str("model", "x").end_node().end();
    CHECK(msg(prop_after_subnode) == "fdt: property 'model' of / follows a subnode (offset 0x4c)");

    RawFdt empty_name;
    empty_name.begin("").begin("").end_node().end_node().end();
    CHECK(msg(empty_name) == "fdt: node with an empty name inside / (offset 0x40)");

    RawFdt end_first;
    end_first.end();
    CHECK(msg(end_first) ==
          "fdt: structure block does not start with the root node (offset " + at + ")");

    // NOPs anywhere after the root's BEGIN_NODE are fine.
    RawFdt nops;
    nops.begin("").nop().prop_str("model", "m").nop().begin("a").nop().end_node().nop()
        .end_node().nop().end();
    CHECK(msg(nops).empty());
}

TEST_CASE("fdt corrupt: property name not terminated inside the strings block")
{
    RawFdt t;
    t.begin("").prop_str("model", "m").end_node().end();
    std::vector<uint8_t> b = t.build();
    put_be32(b, 32, get_be32(b, 32) - 1); // size_dt_strings: drop the final NUL
    CHECK(parse_all(b).msg == "fdt: property name at string offset 0x0 in / is not "
                              "NUL-terminated within the strings block (offset 0x40)");
}

TEST_CASE("fdt corrupt: nesting depth is bounded")
{
    auto nested = [](uint32_t depth) {
        RawFdt t;
        t.begin("");
        for (uint32_t i = 1; i < depth; i++)
            t.begin("n");
        for (uint32_t i = 0; i < depth; i++)
            t.end_node();
        t.end();
        return parse_all(t.build());
    };
    CHECK(nested(fdt::kMaxDepth).ok);
    Outcome o = nested(fdt::kMaxDepth + 1);
    CHECK_FALSE(o.ok);
    CHECK(o.msg.find("fdt: nodes nested deeper than 16 at /n/n/n/n/n/n/n/n/n/n/n/n/n/n/n") == 0);
}

TEST_CASE("fdt corrupt: version 16 blobs (no size_dt_struct) still parse")
{
    std::vector<uint8_t> b = small_tree().build();
    put_be32(b, 20, 16);
    put_be32(b, 36, 0xdeadbeef); // meaningless before version 17
    Outcome o = parse_all(b);
    CHECK(o.ok);
    CHECK(o.msg.empty());
}

TEST_CASE("fdt corrupt: machine-level problems are named")
{
    // reg that is not a whole number of entries.
    RawFdt t;
    t.begin("").prop_cells("#address-cells", {2}).prop_cells("#size-cells", {2});
    t.begin("memory@80000000").prop_str("device_type", "memory");
    t.prop_cells("reg", {0, 0x80000000, 0}).end_node().end_node().end();
    CHECK(parse_all(t.build()).msg ==
          "fdt: reg of /memory@80000000 has 12 bytes, not a multiple of 16");

    // Three address cells.
    RawFdt c3;
    c3.begin("").prop_cells("#address-cells", {3}).prop_cells("#size-cells", {2});
    c3.begin("memory@0").prop_str("device_type", "memory").prop_cells("reg", {0, 0, 0, 0, 1});
    c3.end_node().end_node().end();
    CHECK(parse_all(c3.build()).msg ==
          "fdt: #address-cells = 3, #size-cells = 2 in / is unsupported (need 1-2 and 0-2)");

    // More harts than MachineInfo holds is no error: the rest are named (test/host/fdt_boards_test.cc).
    RawFdt many;
    many.begin("").begin("cpus").prop_cells("#address-cells", {1}).prop_cells("#size-cells", {0});
    for (uint32_t h = 0; h <= fdt::kMaxCpus; h++) {
        std::string name = "cpu@" + std::to_string(h);
        many.begin(name.c_str()).prop_str("device_type", "cpu").prop_cells("reg", {h}).end_node();
    }
    many.end_node().end_node().end();
    CHECK(parse_all(many.build()).ok);

    // A PLIC whose interrupts-extended names a phandle nobody has.
    RawFdt plic;
    plic.begin("").begin("soc").prop_cells("#address-cells", {2}).prop_cells("#size-cells", {2});
    plic.begin("plic@c000000").prop_str("compatible", "riscv,plic0");
    plic.prop_cells("reg", {0, 0xc000000, 0, 0x4000000});
    plic.prop_cells("interrupts-extended", {0x42, 9}).end_node().end_node().end_node().end();
    CHECK(parse_all(plic.build()).msg ==
          "fdt: interrupts-extended of /soc/plic@c000000 names unknown phandle 0x42");

    // A cpu without a hart id.
    RawFdt noreg;
    noreg.begin("").begin("cpus").prop_cells("#address-cells", {1}).prop_cells("#size-cells", {0});
    noreg.begin("cpu@0").prop_str("device_type", "cpu").end_node().end_node().end_node().end();
    CHECK(parse_all(noreg.build()).msg == "fdt: cpu /cpus/cpu@0 has no reg (hart id)");
}

TEST_CASE("fdt: device addresses go through the bus ranges")
{
    // /soc maps its 32-bit bus [0, 16 MiB) to CPU 0x10000000 (root has 2 cells).
    auto tree = [](uint32_t uart_at) {
        RawFdt t;
        t.begin("").prop_cells("#address-cells", {2}).prop_cells("#size-cells", {2});
        t.begin("soc").prop_cells("#address-cells", {1}).prop_cells("#size-cells", {1});
        t.prop_cells("ranges", {0x0, 0x0, 0x10000000, 0x1000000});
        t.begin("serial@1000").prop_str("compatible", "ns16550a");
        t.prop_cells("reg", {uart_at, 0x100}).prop_cells("interrupts", {10}).end_node();
        t.end_node().end_node().end();
        return t.build();
    };
    Exact e(tree(0x1000));
    static fdt::MachineInfo m;
    REQUIRE(fdt::parse(e.mem.get(), e.len, 0x80000000, m).ok());
    REQUIRE(m.nuarts == 1);
    CHECK(m.uarts[0].base == 0x10001000);
    CHECK(m.uarts[0].size == 0x100);
    CHECK(m.uarts[0].irq == 10);
    CHECK(m.stdout_uart == 0);
    CHECK_FALSE(m.stdout_resolved);
    // An address the bus does not map is an error, not a wrong guess.
    CHECK(parse_all(tree(0x2000000)).msg ==
          "fdt: reg 0x2000000 of /soc/serial@1000 is outside the ranges of /soc");
}

TEST_CASE("fdt corrupt: a failed open leaves a blob that walks nothing")
{
    std::vector<uint8_t> b = small_tree().build();
    put_be32(b, 0, 0);
    Exact e(b);
    fdt::Blob blob;
    fdt::ErrorText err;
    CHECK_FALSE(blob.open(e.mem.get(), e.len, err).ok());
    CHECK_FALSE(err.empty());
    fdt::Node n;
    CHECK_FALSE(blob.first_child(blob.root(), n));
    CHECK_FALSE(blob.find_path("/", 1, n));
    CHECK(std::string(blob.name(blob.root())).empty());
    CHECK(blob.open(nullptr, 100, err).error() == lib::Error::Invalid);
    CHECK(std::string(err.text) == "fdt: no blob (null pointer)");
}

TEST_CASE("fdt corrupt: every truncation of every QEMU DTB is refused")
{
    for (const char* name : kDtbs) {
        INFO("dtb " << std::string(name));
        std::vector<uint8_t> good = load_dtb(name);
        size_t total = good.size();
        uint32_t struct_size = get_be32(good, 36);
        size_t silent = 0, accepted = 0;
        for (size_t len = 0; len < total; len++) {
            // (a) The buffer is short; the header still claims the full size.
            Outcome a = parse_n(good, len);
            // (b) The header agrees with the short buffer (totalsize = len).
            std::vector<uint8_t> cut(good.begin(), good.begin() + long(len));
            if (len >= 8)
                put_be32(cut, 4, uint32_t(len));
            Outcome bb = parse_all(cut);
            silent += (!a.ok && a.msg.empty()) + (!bb.ok && bb.msg.empty());
            accepted += a.ok + bb.ok;
        }
        // (c) The structure block is cut short at every 4-byte boundary and between.
        for (uint32_t s = 0; s < struct_size; s++) {
            std::vector<uint8_t> b = good;
            put_be32(b, 36, s);
            Outcome c = parse_all(b);
            silent += !c.ok && c.msg.empty();
            accepted += c.ok;
        }
        CHECK(silent == 0);
        CHECK(accepted == 0);
    }
}

TEST_CASE("fdt corrupt: seeded random mutations of every QEMU DTB")
{
    constexpr int kRounds = 10000;
    std::mt19937 rng(20261122);
    size_t total_ok = 0, total_err = 0;
    std::vector<std::string> seeds(std::begin(kDtbs), std::end(kDtbs));
    seeds.push_back("rich_tree"); // reserved-memory, aliases, one-cell addresses
    for (const std::string& name : seeds) {
        INFO("dtb " << name);
        const std::vector<uint8_t> good = name == "rich_tree" ? rich_tree() : load_dtb(name);
        uint32_t struct_off = get_be32(good, 8), struct_size = get_be32(good, 36);
        size_t silent = 0, broken_invariants = 0;
        for (int round = 0; round < kRounds; round++) {
            std::vector<uint8_t> b = good;
            int edits = 1 + int(rng() % 6);
            for (int e = 0; e < edits; e++) {
                size_t pos;
                switch (rng() % 4) {
                case 0: // the header
                    pos = rng() % kHdr;
                    b[pos] ^= uint8_t(1u << (rng() % 8));
                    break;
                case 1: { // a structure word becomes a token-like small number
                    pos = struct_off + (rng() % (struct_size / 4)) * 4;
                    uint32_t v = rng() % 3 ? rng() % 12 : rng();
                    put_be32(b, pos, v);
                    break;
                }
                case 2: // a random bit anywhere
                    pos = rng() % b.size();
                    b[pos] ^= uint8_t(1u << (rng() % 8));
                    break;
                default: // a random byte anywhere
                    pos = rng() % b.size();
                    b[pos] = uint8_t(rng());
                    break;
                }
            }
            // Sometimes also offer fewer bytes than the blob claims.
            size_t len = rng() % 8 == 0 ? rng() % (b.size() + 1) : b.size();
            Exact ex(b, len);
            static fdt::MachineInfo m;
            bool ok = fdt::parse(ex.mem.get(), ex.len, 0x80000000, m).ok();
            if (ok) {
                total_ok++;
                broken_invariants += !m.error.empty() || m.nmemory > fdt::kMaxMemory ||
                                     m.nreserved > fdt::kMaxReserved ||
                                     m.nusable > fdt::kMaxUsable || m.ncpus > fdt::kMaxCpus ||
                                     m.nuarts > fdt::kMaxUarts ||
                                     strnlen(m.bootargs, sizeof m.bootargs) == sizeof m.bootargs ||
                                     m.stdout_uart >= int(m.nuarts);
            } else {
                total_err++;
                silent += m.error.empty() ||
                          strnlen(m.error.text, sizeof m.error.text) == sizeof m.error.text ||
                          std::strncmp(m.error.text, "fdt: ", 5) != 0;
            }
        }
        CHECK(silent == 0);
        CHECK(broken_invariants == 0);
    }
    // The mutations must exercise both outcomes, or the loop proves little.
    MESSAGE("fuzz: " << total_ok << " mutated blobs parsed, " << total_err << " refused");
    CHECK(total_ok > 5000);
    CHECK(total_err > 5000);
}
