// fdt::subtract_ranges / insert_merged (lib/ranges.h): overlaps, adjacency,
// containment, unaligned edges, unsorted input, capacity.
#include "lib/ranges.h"

#include <doctest/doctest.h>

#include <vector>

using fdt::Range;

namespace {

std::vector<Range> sub(std::vector<Range> a, std::vector<Range> b, size_t cap = 16,
                       uint64_t align = PAGE_SIZE, lib::Error want = lib::Error::None)
{
    std::vector<Range> out(cap);
    size_t n = 99;
    lib::Status s =
        fdt::subtract_ranges(a.data(), a.size(), b.data(), b.size(), out.data(), cap, n, align);
    CHECK(s.error() == want);
    REQUIRE(n <= cap);
    out.resize(n);
    return out;
}

using V = std::vector<Range>;

} // namespace

TEST_CASE("ranges: nothing to subtract keeps memory, merged and sorted")
{
    CHECK(sub({{0x80000000, 0x1000000}}, {}) == V {{0x80000000, 0x1000000}});
    // Unsorted, touching and overlapping inputs merge into one.
    CHECK(sub({{0x3000, 0x1000}, {0x1000, 0x2000}, {0x2000, 0x3000}}, {}) ==
          V {{0x1000, 0x4000}});
    CHECK(sub({{0x9000, 0x1000}, {0x1000, 0x1000}}, {}) == V {{0x1000, 0x1000}, {0x9000, 0x1000}});
    CHECK(sub({}, {{0, 0x1000}}).empty());
    CHECK(sub({{0x1000, 0}}, {}).empty());
}

TEST_CASE("ranges: overlaps at either end, a hole, containment")
{
    V mem {{0x10000, 0x10000}}; // [0x10000, 0x20000)
    CHECK(sub(mem, {{0x8000, 0x10000}}) == V {{0x18000, 0x8000}});  // overlaps the start
    CHECK(sub(mem, {{0x1c000, 0x10000}}) == V {{0x10000, 0xc000}}); // overlaps the end
    CHECK(sub(mem, {{0x14000, 0x2000}}) == V {{0x10000, 0x4000}, {0x16000, 0xa000}}); // hole
    CHECK(sub(mem, {{0x0, 0x100000}}).empty());       // reservation contains memory
    CHECK(sub(mem, {{0x10000, 0x10000}}).empty());    // exactly equal
    CHECK(sub(mem, {{0x20000, 0x1000}}) == mem);      // adjacent above: no effect
    CHECK(sub(mem, {{0xf000, 0x1000}}) == mem);       // adjacent below: no effect
    CHECK(sub(mem, {{0x30000, 0x1000}}) == mem);      // disjoint
    // Overlapping and unsorted reservations.
    CHECK(sub(mem, {{0x18000, 0x2000}, {0x12000, 0x2000}, {0x13000, 0x2000}}) ==
          V {{0x10000, 0x2000}, {0x15000, 0x3000}, {0x1a000, 0x6000}});
    // Zero-size reservations are ignored.
    CHECK(sub(mem, {{0x14000, 0}}) == mem);
}

TEST_CASE("ranges: unaligned edges shrink inward to pages")
{
    // The FDT blob: a few KiB at an unaligned address takes whole pages out.
    CHECK(sub({{0x80000000, 0x100000}}, {{0x80080123, 0x14ce}}) ==
          V {{0x80000000, 0x80000}, {0x80082000, 0x7e000}});
    // Unaligned memory shrinks inward; a piece smaller than a page vanishes.
    CHECK(sub({{0x1234, 0x5000}}, {}) == V {{0x2000, 0x4000}});
    CHECK(sub({{0x1001, 0xffe}}, {}).empty());
    CHECK(sub({{0x10000, 0x10000}}, {{0x10000, 0xfff1}}) == V {});
    // Other alignments work too; a bad one is refused.
    CHECK(sub({{0x1001, 0x3000}}, {}, 16, 0x10) == V {{0x1010, 0x2ff0}});
    CHECK(sub({{0x1000, 0x1000}}, {}, 16, 3, lib::Error::Invalid).empty());
}

TEST_CASE("ranges: the top of the address space does not wrap")
{
    uint64_t top = ~uint64_t(0) - 0xffff; // 0xffff...0000
    V got = sub({{top, 0x10000}}, {{top + 0x1000, 0x1000}});
    REQUIRE(got.size() == 2);
    CHECK(got[0] == Range {top, 0x1000});
    CHECK(got[1].base == top + 0x2000);
    CHECK(Range {~uint64_t(0) - 1, 100}.end() == ~uint64_t(0));
}

TEST_CASE("ranges: too many pieces is NoSpace, not a silent cut")
{
    V holes;
    for (uint64_t i = 0; i < 8; i++)
        holes.push_back({0x10000 + i * 0x2000, 0x1000});
    V full = sub({{0x10000, 0x10000}}, holes, 16);
    CHECK(full.size() == 8);
    V cut = sub({{0x10000, 0x10000}}, holes, 4, PAGE_SIZE, lib::Error::NoSpace);
    CHECK(cut.size() == 4);
}

TEST_CASE("ranges: insert_merged keeps a sorted merged list")
{
    Range list[3];
    size_t n = 0;
    CHECK(fdt::insert_merged(list, n, 3, {0x5000, 0x1000}).ok());
    CHECK(fdt::insert_merged(list, n, 3, {0x1000, 0x1000}).ok());
    CHECK(fdt::insert_merged(list, n, 3, {0x9000, 0x1000}).ok());
    REQUIRE(n == 3);
    CHECK(fdt::insert_merged(list, n, 3, {0xc000, 0x1000}).error() == lib::Error::NoSpace);
    // Bridging two neighbours frees a slot.
    CHECK(fdt::insert_merged(list, n, 3, {0x2000, 0x3000}).ok());
    REQUIRE(n == 2);
    CHECK(list[0] == Range {0x1000, 0x5000});
    CHECK(list[1] == Range {0x9000, 0x1000});
    CHECK(fdt::insert_merged(list, n, 3, {0x0, 0x20000}).ok());
    REQUIRE(n == 1);
    CHECK(list[0] == Range {0x0, 0x20000});
}
