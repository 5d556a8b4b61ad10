// lib/restart_table: the restartable sequences' table, sorted at boot and
// searched on every interrupt taken in kernel mode.
#include "lib/restart_table.h"

#include <doctest/doctest.h>

#include <vector>

using lib::RestartRange;
using lib::RestartTableError;

TEST_CASE("restart_table: sorted from object order, found at every pc of a range and nowhere else")
{
    // Ranges of 5 and 7 instructions, in the order the linker might give them.
    std::vector<RestartRange> t = {{0x3000, 0x3010}, {0x1000, 0x1018}, {0x2000, 0x2010}, {0x1040, 0x1050}};
    REQUIRE(lib::restart_table_sort(t.data(), t.size()) == RestartTableError::None);
    for (size_t i = 1; i < t.size(); i++)
        CHECK(t[i - 1].begin < t[i].begin);
    for (const RestartRange& r : t) {
        for (uintptr_t pc = r.begin; pc <= r.commit; pc += 4)
            CHECK(lib::restart_table_find(t.data(), t.size(), pc) == r.begin);
        CHECK(lib::restart_table_find(t.data(), t.size(), r.begin - 4) == 0);
        CHECK(lib::restart_table_find(t.data(), t.size(), r.commit + 4) == 0); // the store is done
    }
    CHECK(lib::restart_table_find(t.data(), t.size(), 0) == 0);
    CHECK(lib::restart_table_find(t.data(), t.size(), ~uintptr_t(0)) == 0);
    CHECK(lib::restart_table_find(t.data(), 0, 0x1000) == 0);
}

TEST_CASE("restart_table: a sequence listed twice is kept; overlaps and inverted ranges are refused")
{
    std::vector<RestartRange> twice = {{0x2000, 0x2010}, {0x1000, 0x1010}, {0x2000, 0x2010}};
    CHECK(lib::restart_table_sort(twice.data(), twice.size()) == RestartTableError::None);
    CHECK(lib::restart_table_find(twice.data(), twice.size(), 0x2008) == 0x2000);

    std::vector<RestartRange> overlap = {{0x1000, 0x1010}, {0x1010, 0x1020}};
    CHECK(lib::restart_table_sort(overlap.data(), overlap.size()) == RestartTableError::Overlap);
    std::vector<RestartRange> nested = {{0x1000, 0x1030}, {0x1008, 0x1010}};
    CHECK(lib::restart_table_sort(nested.data(), nested.size()) == RestartTableError::Overlap);
    std::vector<RestartRange> inverted = {{0x1010, 0x1000}};
    CHECK(lib::restart_table_sort(inverted.data(), inverted.size()) == RestartTableError::Empty);
}

TEST_CASE("restart_table: a table of many sequences, searched at every instruction")
{
    std::vector<RestartRange> t;
    size_t instructions = 0;
    for (uintptr_t i = 0; i < 500; i++) {
        uintptr_t b = 0x80200000 + ((i * 7919) % 500) * 0x40; // every slot once, shuffled
        t.push_back({b, b + 4 * (4 + i % 3)});
        instructions += 5 + i % 3;
    }
    REQUIRE(lib::restart_table_sort(t.data(), t.size()) == RestartTableError::None);
    size_t inside = 0;
    for (uintptr_t pc = 0x80200000 - 0x40; pc < 0x80200000 + 501 * 0x40; pc += 4) {
        uintptr_t b = lib::restart_table_find(t.data(), t.size(), pc);
        uintptr_t expect = 0;
        for (const RestartRange& r : t)
            if (r.begin <= pc && pc <= r.commit)
                expect = r.begin;
        CHECK(b == expect);
        inside += b != 0;
    }
    CHECK(inside == instructions);
}

TEST_CASE("restart_table: the filter says no for every block without a range, yes for every pc inside one")
{
    constexpr uintptr_t BASE = 0x80200000;
    std::vector<RestartRange> t = {{BASE + 0x1000, 0x1010 + BASE}, {BASE + 0x203c, BASE + 0x2048}, // straddles
                                   {BASE + 0x3ffc0, BASE + 0x3ffd0}};
    REQUIRE(lib::restart_table_sort(t.data(), t.size()) == RestartTableError::None);
    lib::RestartFilter<64> f; // 256 KiB
    REQUIRE(f.build(t.data(), t.size(), BASE));
    size_t maybes = 0;
    for (uintptr_t pc = BASE - 0x100; pc < BASE + f.SPAN + 0x100; pc += 2) {
        bool inside = lib::restart_table_find(t.data(), t.size(), pc) != 0;
        if (inside)
            CHECK(f.maybe(pc));
        maybes += f.maybe(pc);
    }
    CHECK(maybes == 4 * 64 / 2); // the blocks at 0x1000, 0x2000, 0x2040 and 0x3ffc0
    CHECK_FALSE(f.maybe(BASE - 2));
    CHECK_FALSE(f.maybe(0));

    std::vector<RestartRange> beyond = {{BASE + f.SPAN - 4, BASE + f.SPAN + 8}};
    CHECK_FALSE(f.build(beyond.data(), beyond.size(), BASE));
    CHECK_FALSE(f.maybe(BASE + 0x1000)); // a failed build leaves it empty
    std::vector<RestartRange> below = {{BASE - 0x40, BASE - 0x30}};
    CHECK_FALSE(f.build(below.data(), below.size(), BASE));
}
