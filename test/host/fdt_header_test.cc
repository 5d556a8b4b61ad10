// Header and root-node rules checked against libfdt: a version-16 blob whose
// first block starts right after its 36-byte header, a last_comp_version newer
// than the version, a root node with a name. Blobs are built token by token
// (test/host/fdt_testutil.h) so each breaks exactly one rule.
#include "boot/machine.h"
#include "test/host/fdt_testutil.h"

#include <doctest/doctest.h>
#include <libfdt.h>

#include <string>
#include <vector>

using namespace fdt_test;

namespace {

struct Outcome {
    bool ok;
    std::string msg;
};

Outcome parse(const std::vector<uint8_t>& b)
{
    Exact e(b);
    static fdt::MachineInfo m; // a few KiB: keep it off the stack
    bool ok = fdt::parse(e.mem.get(), e.len, 0x80000000, m).ok();
    return {ok, m.error.text};
}

RawFdt small_tree(const char* root_name = "")
{
    RawFdt t;
    t.begin(root_name).prop_cells("#address-cells", {2}).prop_cells("#size-cells", {2});
    t.begin("memory@80000000").prop_str("device_type", "memory");
    t.prop_cells("reg", {0, 0x80000000, 0, 0x100000}).end_node();
    t.begin("chosen").prop_str("bootargs", "v16").end_node();
    t.end_node().end();
    return t;
}

// The v17 blob b rewritten as version 16 with the 36-byte header: the
// structure block at 0x24, right after it, then the reserve map (8-aligned),
// then the strings.
std::vector<uint8_t> as_v16_short_header(const std::vector<uint8_t>& b)
{
    uint32_t st = get_be32(b, 8), st_size = get_be32(b, 36);
    uint32_t str = get_be32(b, 12), str_size = get_be32(b, 32), rsv = get_be32(b, 16);
    std::vector<uint8_t> out(b.begin(), b.begin() + 36);
    out.insert(out.end(), b.begin() + st, b.begin() + st + st_size);
    while (out.size() % 8)
        out.push_back(0);
    uint32_t new_rsv = uint32_t(out.size());
    out.insert(out.end(), b.begin() + rsv, b.begin() + st); // entries and terminator
    uint32_t new_str = uint32_t(out.size());
    out.insert(out.end(), b.begin() + str, b.begin() + str + str_size);
    put_be32(out, 4, uint32_t(out.size()));
    put_be32(out, 8, 36);
    put_be32(out, 12, new_str);
    put_be32(out, 16, new_rsv);
    put_be32(out, 20, 16);
    put_be32(out, 24, 16);
    return out;
}

// Node names in document order, as libfdt walks them.
std::vector<std::string> libfdt_names(const std::vector<uint8_t>& b)
{
    std::vector<std::string> names;
    for (int n = 0; n >= 0; n = fdt_next_node(b.data(), n, nullptr))
        names.push_back(fdt_get_name(b.data(), n, nullptr));
    return names;
}

// The same, through fdt::Blob's first_child/next_sibling.
void zest_names(const fdt::Blob& blob, fdt::Node n, std::vector<std::string>& out)
{
    out.push_back(blob.name(n));
    fdt::Node c;
    for (bool more = blob.first_child(n, c); more; more = blob.next_sibling(c, c))
        zest_names(blob, c, out);
}

} // namespace

TEST_CASE("fdt header: a version-16 blob with its first block right after the 36-byte header")
{
    std::vector<uint8_t> v16 = as_v16_short_header(small_tree().reserve(0x80100000, 0x1000).build());
    REQUIRE(get_be32(v16, 8) == 0x24);
    REQUIRE(fdt_check_header(v16.data()) == 0); // libfdt reads it
    Outcome o = parse(v16);
    INFO(o.msg);
    CHECK(o.ok);

    Exact e(v16);
    fdt::Blob blob;
    fdt::ErrorText err;
    REQUIRE(blob.open(e.mem.get(), e.len, err).ok());
    CHECK(blob.version() == 16);
    REQUIRE(blob.reserve_count() == 1);
    CHECK(blob.reserve(0).address == 0x80100000);
    std::vector<std::string> ours;
    zest_names(blob, blob.root(), ours);
    CHECK(ours == libfdt_names(v16));

    // Version 17 still needs all 40 bytes: the same layout claiming 17 is refused by both.
    std::vector<uint8_t> v17 = v16;
    put_be32(v17, 20, 17);
    CHECK(fdt_check_header(v17.data()) != 0);
    o = parse(v17);
    CHECK_FALSE(o.ok);
    CHECK(o.msg.find("fdt: structure block [0x24,") == 0);
    CHECK(o.msg.find("is outside the blob [0x28,") != std::string::npos);

    // A v16 buffer of 36 bytes holds the whole header; 35 does not.
    std::vector<uint8_t> cut(v16.begin(), v16.begin() + 35);
    CHECK(parse(cut).msg == "fdt: only 35 bytes available, less than the 36-byte header");
}

TEST_CASE("fdt header: last_comp_version newer than version is refused, as libfdt does")
{
    std::vector<uint8_t> b = small_tree().build();
    put_be32(b, 20, 16);
    put_be32(b, 24, 17);
    CHECK(fdt_check_header(b.data()) != 0);
    Outcome o = parse(b);
    CHECK_FALSE(o.ok);
    CHECK(o.msg == "fdt: last_comp_version 17 is newer than the version 16");
    put_be32(b, 24, 16); // equal is fine
    CHECK(fdt_check_header(b.data()) == 0);
    CHECK(parse(b).ok);
}

TEST_CASE("fdt header: a root node with a name is refused")
{
    std::vector<uint8_t> good = small_tree().build();
    CHECK(fdt_check_full(good.data(), good.size()) == 0);
    CHECK(parse(good).ok);

    std::vector<uint8_t> b = small_tree("root").build();
    Outcome o = parse(b);
    CHECK_FALSE(o.ok);
    CHECK(o.msg == "fdt: the root node is named 'root' (offset 0x38); the root's name must be empty");
    // libfdt refuses it too: fdt_check_full() calls it a bad structure.
    CHECK(fdt_check_full(b.data(), b.size()) == -FDT_ERR_BADSTRUCTURE);
}
