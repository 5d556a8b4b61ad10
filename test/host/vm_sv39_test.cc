// Sv39 page-table logic on host memory, checked against a std::map model.
#include "vm/sv39.h"
#include "test/host/host_kernel.h"

#include <doctest/doctest.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <map>
#include <random>
#include <vector>

using namespace vm::sv39;

namespace {
// "Physical memory" for tables: host pages, physical address = index * 4096 + base.
class HostTables final : public TableSource {
public:
    static constexpr PhysAddr BASE = 0x80000000;
    explicit HostTables(size_t max) : max_(max) { pages_.reserve(max); }
    ~HostTables()
    {
        for (void* p : pages_)
            std::free(p);
    }
    Pte* table(PhysAddr pa) override
    {
        size_t i = (pa - BASE) / PAGE_SIZE;
        REQUIRE(i < pages_.size());
        return static_cast<Pte*>(pages_[i]);
    }
    lib::Result<PhysAddr> alloc_table() override
    {
        if (pages_.size() == max_)
            return lib::Error::NoMemory;
        void* p = std::aligned_alloc(PAGE_SIZE, PAGE_SIZE);
        std::memset(p, 0, PAGE_SIZE);
        pages_.push_back(p);
        return BASE + (pages_.size() - 1) * PAGE_SIZE;
    }
    size_t used() const { return pages_.size(); }
    void free_table(PhysAddr pa) override
    {
        // Freed tables must be empty: check, then poison so a stale use shows.
        Pte* t = table(pa);
        for (size_t i = 0; i < ENTRIES; i++)
            CHECK(t[i] == 0);
        std::memset(t, 0xa5, PAGE_SIZE);
        freed.push_back(pa);
    }
    std::vector<PhysAddr> freed;

private:
    size_t max_;
    std::vector<void*> pages_;
};

constexpr uint64_t KVA = 0xffffffe000000000ull;
} // namespace

TEST_CASE("sv39: map, look up and unmap 4 KiB pages")
{
    HostTables mem(64);
    PhysAddr root = mem.alloc_table().value();
    PageTable pt(root, mem);
    CHECK(pt.map(KVA, 0x90000000, R | W | G).ok());
    CHECK(pt.tables_allocated() == 2); // level 1 and level 0 tables
    PhysAddr pa;
    uint64_t flags;
    REQUIRE(pt.lookup(KVA + 0x123, pa, flags));
    CHECK(pa == 0x90000123);
    CHECK((flags & (V | R | W | G | A | D)) == (V | R | W | G | A | D));
    CHECK((flags & X) == 0);
    CHECK(pt.map(KVA, 0x91000000, R).error() == lib::Error::Exists);
    CHECK(pt.unmap(KVA) == 0x90000000);
    CHECK_FALSE(pt.lookup(KVA, pa, flags));
    CHECK(pt.unmap(KVA) == 0);
    CHECK(pt.satp() == ((8ull << 60) | (root >> 12)));
}

TEST_CASE("sv39: unmap_pages is unmap() of each page, across a leaf table's end")
{
    HostTables mem(64);
    PhysAddr root = mem.alloc_table().value();
    PageTable pt(root, mem);
    // Eight pages across a 2 MiB boundary (two leaf tables), one left unmapped.
    uint64_t va = KVA + (2ul << 20) - 4 * PAGE_SIZE;
    for (unsigned i = 0; i < 8; i++)
        if (i != 5)
            REQUIRE(pt.map(va + i * PAGE_SIZE, 0x90000000 + i * 0x3000, R | W | G).ok());
    PhysAddr pa[8];
    pt.unmap_pages(va, 8, pa);
    PhysAddr got;
    uint64_t flags;
    for (unsigned i = 0; i < 8; i++) {
        CHECK(pa[i] == (i == 5 ? 0 : 0x90000000 + i * 0x3000));
        CHECK_FALSE(pt.lookup(va + i * PAGE_SIZE, got, flags));
    }
    // A page after the run is left alone.
    REQUIRE(pt.map(va + 8 * PAGE_SIZE, 0x95000000, R | G).ok());
    pt.unmap_pages(va, 8, pa);
    CHECK(pa[0] == 0);
    CHECK(pt.lookup(va + 8 * PAGE_SIZE, got, flags));
    // A larger leaf is not split: its pages read 0 and it stays.
    REQUIRE(pt.map(KVA + (8ul << 20), 0xa0000000, R | G, 1).ok());
    pt.unmap_pages(KVA + (8ul << 20) + PAGE_SIZE, 2, pa);
    CHECK(pa[0] == 0);
    CHECK(pa[1] == 0);
    CHECK(pt.lookup(KVA + (8ul << 20) + PAGE_SIZE, got, flags));
}

TEST_CASE("sv39: W^X, alignment and canonical addresses are enforced")
{
    HostTables mem(64);
    PageTable pt(mem.alloc_table().value(), mem);
    CHECK(pt.map(KVA, 0x90000000, R | W | X).error() == lib::Error::Invalid);
    CHECK(pt.map(KVA, 0x90000000, W).error() == lib::Error::Invalid);
    CHECK(pt.map(KVA + 8, 0x90000000, R).error() == lib::Error::Invalid);
    CHECK(pt.map(KVA, 0x90000000, R, 1).ok());                                     // 2 MiB aligned: fine
    CHECK(pt.map(KVA + 4096 * 1024, 0x90001000, R, 1).error() == lib::Error::Invalid); // pa not 2 MiB aligned
    CHECK(pt.map(0x0000008000000000ull, 0x90000000, R).error() == lib::Error::Invalid); // not canonical
    CHECK(pt.map(KVA + 4096, 0x90000000, R | X).error() == lib::Error::Exists);     // inside the 2 MiB leaf
}

TEST_CASE("sv39: large leaves and map_range picks the biggest that fits")
{
    HostTables mem(64);
    PageTable pt(mem.alloc_table().value(), mem);
    const uint64_t dm = 0xffffffc000000000ull;
    // 1 GiB + 2 MiB + 8 KiB from an aligned start: one 1 GiB leaf, one 2 MiB, two 4 KiB.
    CHECK(pt.map_range(dm + 0x80000000, 0x80000000, (1ull << 30) + (2ull << 20) + 8192, R | W | G).ok());
    CHECK(mem.used() == 3); // root (holds the 1 GiB leaf), one level-1 table (the 2 MiB leaf), one level-0 table
    PhysAddr pa;
    uint64_t flags;
    REQUIRE(pt.lookup(dm + 0x80000000 + 0x12345678, pa, flags));
    CHECK(pa == 0x80000000 + 0x12345678);
    REQUIRE(pt.lookup(dm + 0xc0000000 + 0x1000, pa, flags));
    CHECK(pa == 0xc0001000);
    REQUIRE(pt.lookup(dm + 0xc0200000 + 0x1008, pa, flags));
    CHECK(pa == 0xc0201008);
    CHECK_FALSE(pt.lookup(dm + 0xc0202000, pa, flags));
}

TEST_CASE("sv39: a populated range maps without allocating a table")
{
    HostTables mem(8);
    PageTable pt(mem.alloc_table().value(), mem);
    REQUIRE(pt.populate(KVA, 4ull << 20).ok()); // two 2 MiB chunks: 1 level-1 + 2 level-0 tables
    size_t used = mem.used();
    CHECK(used == 4);
    for (uint64_t off = 0; off < (4ull << 20); off += 4096)
        REQUIRE(pt.map(KVA + off, 0x90000000 + off, R | W, 0, Alloc::Forbidden).ok());
    CHECK(mem.used() == used);
    // Outside the populated range the same call panics rather than allocating.
    CHECK_THROWS_AS((void)pt.map(KVA + (4ull << 20), 0x90000000, R | W, 0, Alloc::Forbidden), HostPanic);
    CHECK(mem.used() == used);
    // Unmapping and remapping inside the range still needs nothing.
    CHECK(pt.unmap(KVA + 4096) == 0x90001000);
    REQUIRE(pt.map(KVA + 4096, 0x95000000, R, 0, Alloc::Forbidden).ok());
    CHECK(mem.used() == used);
}

TEST_CASE("sv39: running out of table pages is an error, not a crash")
{
    HostTables mem(2);
    PageTable pt(mem.alloc_table().value(), mem);
    CHECK(pt.map(KVA, 0x90000000, R).error() == lib::Error::NoMemory);
}

TEST_CASE("sv39: randomized map/unmap agrees with a model")
{
    HostTables mem(4096);
    PageTable pt(mem.alloc_table().value(), mem);
    std::mt19937_64 rng(12345);
    std::map<uint64_t, PhysAddr> model;
    for (int i = 0; i < 20000; i++) {
        uint64_t va = KVA + (rng() % 4096) * 4096 + (rng() % 4) * (1ull << 30);
        if (rng() % 3) {
            PhysAddr pa = 0x80000000 + (rng() % 65536) * 4096;
            lib::Status st = pt.map(va, pa, R | W);
            if (model.count(va)) {
                CHECK(st.error() == lib::Error::Exists);
            } else {
                REQUIRE(st.ok());
                model[va] = pa;
            }
        } else {
            PhysAddr got = pt.unmap(va);
            auto it = model.find(va);
            CHECK(got == (it == model.end() ? 0 : it->second));
            if (it != model.end())
                model.erase(it);
        }
    }
    for (auto [va, pa] : model) {
        PhysAddr got;
        uint64_t flags;
        REQUIRE(pt.lookup(va + 7, got, flags));
        CHECK(got == pa + 7);
    }
}

TEST_CASE("sv39: large leaves unmap whole, never split")
{
    HostTables mem(16);
    PageTable pt(mem.alloc_table().value(), mem);
    const uint64_t dm = 0xffffffc000000000ull;
    REQUIRE(pt.map(dm + (2ull << 20), 0x80200000, R | W | G, 1).ok());
    REQUIRE(pt.map(dm + (1ull << 30), 0x80000000, R | G, 2).ok());
    CHECK(pt.unmap(dm + (2ull << 20) + 4096) == 0); // inside the 2 MiB leaf: refused
    PhysAddr pa;
    uint64_t flags;
    CHECK(pt.lookup(dm + (2ull << 20) + 4096, pa, flags));
    CHECK(pa == 0x80201000);
    CHECK(pt.unmap(dm + (2ull << 20)) == 0x80200000);
    CHECK_FALSE(pt.lookup(dm + (2ull << 20) + 4096, pa, flags));
    CHECK(pt.unmap(dm + (1ull << 30)) == 0x80000000);
    CHECK_FALSE(pt.lookup(dm + (1ull << 30) + 0x1234, pa, flags));
    // The slot is free again for a different size.
    CHECK(pt.map(dm + (2ull << 20), 0x90000000, R).ok());
}

TEST_CASE("sv39: permissions are stored, A and D set eagerly, W^X refused at every level")
{
    HostTables mem(16);
    PageTable pt(mem.alloc_table().value(), mem);
    REQUIRE(pt.map(KVA, 0x90000000, R | X | G).ok());
    REQUIRE(pt.map(KVA + 4096, 0x90001000, R).ok());
    PhysAddr pa;
    uint64_t flags;
    REQUIRE(pt.lookup(KVA, pa, flags));
    CHECK(flags == (V | R | X | G | A | D));
    REQUIRE(pt.lookup(KVA + 4096, pa, flags));
    CHECK(flags == (V | R | A | D));
    for (unsigned level = 0; level < 3; level++)
        CHECK(pt.map(KVA + (4ull << 30), 0x80000000, R | W | X, level).error() == lib::Error::Invalid);
    CHECK(pt.map(KVA + 8192, 0x90002000, 0).error() == lib::Error::Invalid); // no permission at all
}

TEST_CASE("sv39: pruning unmap gives back tables that became empty, and only those")
{
    HostTables mem(16);
    PhysAddr root = mem.alloc_table().value();
    PageTable pt(root, mem);
    REQUIRE(pt.map(KVA, 0x90000000, R | W).ok());
    REQUIRE(pt.map(KVA + 4096, 0x90001000, R | W).ok());
    REQUIRE(pt.map(KVA + (2ull << 20), 0x90200000, R | W).ok()); // second level-0 table, same level-1
    CHECK(pt.tables_allocated() == 3);
    CHECK(pt.unmap(KVA, Prune::EmptyTables) == 0x90000000);
    CHECK(mem.freed.empty()); // KVA + 4096 still lives in that table
    CHECK(pt.unmap(KVA + 4096, Prune::EmptyTables) == 0x90001000);
    CHECK(mem.freed.size() == 1); // its level-0 table; the level-1 still holds the other
    PhysAddr pa;
    uint64_t flags;
    REQUIRE(pt.lookup(KVA + (2ull << 20), pa, flags));
    CHECK(pa == 0x90200000);
    CHECK(pt.unmap(KVA + (2ull << 20), Prune::EmptyTables) == 0x90200000);
    CHECK(mem.freed.size() == 3); // the second level-0 and the level-1; never the root
    CHECK(pt.tables_freed() == 3);
    CHECK(std::find(mem.freed.begin(), mem.freed.end(), root) == mem.freed.end());
    // The root's slot is clear, so the same address maps again with new tables.
    REQUIRE(pt.map(KVA, 0x91000000, R).ok());
    REQUIRE(pt.lookup(KVA, pa, flags));
    CHECK(pa == 0x91000000);
    // Keep (the default) never frees.
    CHECK(pt.unmap(KVA) == 0x91000000);
    CHECK(mem.freed.size() == 3);
}

TEST_CASE("sv39: randomized map/unmap with pruning agrees with a model and frees every table")
{
    HostTables mem(100000);
    PageTable pt(mem.alloc_table().value(), mem);
    std::mt19937_64 rng(99);
    std::map<uint64_t, PhysAddr> model;
    // Few pages over several tables, so tables empty and come back often.
    auto pick = [&] { return KVA + (rng() % 3) * (1ull << 30) + (rng() % 3) * (2ull << 20) + (rng() % 3) * 4096; };
    for (int i = 0; i < 20000; i++) {
        uint64_t va = pick();
        if (rng() % 2) {
            PhysAddr pa = 0x80000000 + (rng() % 65536) * 4096;
            lib::Status st = pt.map(va, pa, R);
            if (model.count(va)) {
                CHECK(st.error() == lib::Error::Exists);
            } else {
                REQUIRE(st.ok());
                model[va] = pa;
            }
        } else {
            auto it = model.find(va);
            CHECK(pt.unmap(va, Prune::EmptyTables) == (it == model.end() ? 0 : it->second));
            if (it != model.end())
                model.erase(it);
        }
        uint64_t probe = pick();
        PhysAddr got;
        uint64_t flags;
        auto it = model.find(probe);
        REQUIRE(pt.lookup(probe, got, flags) == (it != model.end()));
        if (it != model.end())
            CHECK(got == it->second);
    }
    CHECK(pt.tables_freed() > 100);
    for (auto [va, pa] : model)
        CHECK(pt.unmap(va, Prune::EmptyTables) == pa);
    CHECK(pt.tables_freed() == pt.tables_allocated()); // nothing but the root is left
}

TEST_CASE("sv39: root entries made in advance mean no table allocation at the root later")
{
    HostTables src(64);
    PhysAddr root = src.alloc_table().value();
    PageTable pt(root, src);
    // Two 1 GiB root entries, nothing below them.
    REQUIRE(pt.ensure_root_entries(KVA, (1ull << 30) + 4096).ok());
    CHECK(src.used() == 3);
    CHECK((src.table(root)[index(KVA, 2)] & V) != 0);
    CHECK((src.table(root)[index(KVA + (1ull << 30), 2)] & V) != 0);
    CHECK((src.table(root)[index(KVA + (2ull << 30), 2)] & V) == 0);
    // Again: nothing new.
    REQUIRE(pt.ensure_root_entries(KVA, 1ull << 30).ok());
    CHECK(src.used() == 3);
    // After freezing, a mapping under an existing root entry still works.
    pt.freeze_root();
    REQUIRE(pt.map(KVA + 0x5000, 0x80005000, R | W).ok());
    CHECK(pt.ensure_root_entries(0x4000000000ull, 4096).error() == lib::Error::Invalid);
    // A mapping that would need a new root entry is a kernel bug: it panics.
    size_t used = src.used();
    CHECK_THROWS_AS((void)pt.map(KVA + (5ull << 30), 0x80006000, R | W), HostPanic);
    CHECK(src.used() == used);
}
