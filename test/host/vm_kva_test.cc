// The interrupt-zone guarantee end to end: the arena hands out ranges only
// from spans whose page tables sv39 built in advance, so mapping every page of
// them needs not one more table page.
#include "vm/arena.h"
#include "vm/layout.h"
#include "vm/sv39.h"

#include <doctest/doctest.h>

#include <cstdlib>
#include <cstring>
#include <vector>

using namespace vm::sv39;

namespace {
class CountingTables final : public TableSource {
public:
    static constexpr PhysAddr BASE = 0x80000000;
    ~CountingTables()
    {
        for (void* p : pages_)
            std::free(p);
    }
    Pte* table(PhysAddr pa) override { return static_cast<Pte*>(pages_.at((pa - BASE) / PAGE_SIZE)); }
    lib::Result<PhysAddr> alloc_table() override
    {
        void* p = std::aligned_alloc(PAGE_SIZE, PAGE_SIZE);
        std::memset(p, 0, PAGE_SIZE);
        pages_.push_back(p);
        return BASE + (pages_.size() - 1) * PAGE_SIZE;
    }
    size_t used() const { return pages_.size(); }

private:
    std::vector<void*> pages_;
};
} // namespace

TEST_CASE("kva: populated arena ranges map page by page without a table allocation")
{
    namespace L = vm::layout;
    CountingTables mem;
    PageTable pt(mem.alloc_table().value(), mem);
    static vm::Arena::Segment pool[64];
    vm::Arena kva("kva");
    kva.init(L::KVA_BASE, 64ull << 20, pool, 64);

    // Boot: build the tables of the first 8 MiB of the interrupt-zone range, tell the arena.
    const size_t populated = 8ull << 20;
    REQUIRE(pt.populate(L::INTR_KVA_BASE, populated).ok());
    REQUIRE(kva.mark_populated(L::INTR_KVA_BASE, populated).ok());
    const size_t tables_after_boot = mem.used();
    CHECK(tables_after_boot == 1 + 1 + populated / L::MEGAPAGE); // root, one level-1, one level-0 per 2 MiB

    // Zones reserve their ranges, then refill one page at a time.
    PhysAddr next_pa = 0x90000000;
    size_t pages = 0;
    for (;;) {
        auto r = kva.alloc(3 * 4096 * 16, 4096, vm::Arena::Placement::Populated);
        if (!r.ok())
            break;
        for (uintptr_t va = r.value(); va < r.value() + 3 * 4096 * 16; va += 4096, next_pa += 4096, pages++)
            REQUIRE(pt.map(va, next_pa, R | W | G, 0, Alloc::Forbidden).ok());
    }
    CHECK(pages > 2000);
    CHECK(mem.used() == tables_after_boot);
    // An ordinary range outside the populated spans is where tables get built.
    auto plain = kva.alloc(4096, 4096);
    REQUIRE(plain.ok());
    CHECK_FALSE(kva.is_populated(plain.value(), 4096));
}
