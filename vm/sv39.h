// Sv39 page tables: pure logic, host-tested. Three levels of 512 entries;
// a leaf at level 0 maps 4 KiB, at level 1 2 MiB, at level 2 1 GiB.
//
// The walker reaches table memory and gets new (zeroed) table pages through a
// TableSource the caller supplies: the kernel's maps physical addresses
// through the direct map and allocates from the page allocator; a host test's
// uses ordinary memory.
#pragma once

#include "lib/page.h"
#include "lib/result.h"

#include <cstddef>
#include <cstdint>

namespace vm::sv39 {

using Pte = uint64_t;
using PhysAddr = uint64_t;

enum PteBit : uint64_t {
    V = 1u << 0,
    R = 1u << 1,
    W = 1u << 2,
    X = 1u << 3,
    U = 1u << 4,
    G = 1u << 5,
    A = 1u << 6,
    D = 1u << 7,
};

constexpr size_t ENTRIES = 512;
constexpr uint64_t LEVEL_SIZE[3] = {PAGE_SIZE, 2ul << 20, 1ul << 30};

[[nodiscard]] constexpr unsigned index(uint64_t va, unsigned level) { return (va >> (12 + 9 * level)) & 511; }
[[nodiscard]] constexpr PhysAddr pte_pa(Pte p) { return (p >> 10) << PAGE_SHIFT; }
[[nodiscard]] constexpr Pte make_pte(PhysAddr pa, uint64_t flags) { return ((pa >> PAGE_SHIFT) << 10) | flags; }
[[nodiscard]] constexpr bool is_leaf(Pte p) { return (p & V) && (p & (R | W | X)); }
// Sv39 addresses are sign-extended from bit 38.
[[nodiscard]] constexpr bool canonical(uint64_t va)
{
    uint64_t top = va >> 38;
    return top == 0 || top == (~0ull >> 38);
}

class TableSource {
public:
    virtual Pte* table(PhysAddr pa) = 0;
    // A zeroed page for a new table, or an error.
    [[nodiscard]] virtual lib::Result<PhysAddr> alloc_table() = 0;
    // A table emptied by unmap(va, Prune::EmptyTables); by default kept.
    virtual void free_table(PhysAddr) {}

protected:
    ~TableSource() = default;
};

// Allowed: build missing intermediate tables through the TableSource.
// Forbidden: the caller promised the range was populated in advance (an
// interrupt zone refilling with exactly one page); a missing table is a kernel
// bug, so it panics naming the address instead of quietly allocating.
enum class Alloc : uint8_t { Allowed, Forbidden };
// Keep: tables stay when they empty (always right inside populated ranges).
// EmptyTables: give tables that became empty back through free_table().
enum class Prune : uint8_t { Keep, EmptyTables };

class PageTable {
public:
    PageTable(PhysAddr root, TableSource& src) : root_(root), src_(src) {}

    // Map one leaf at `level` (0: 4 KiB, 1: 2 MiB, 2: 1 GiB). `flags` holds the
    // permissions (R, W, X, U, G); V, A and D are added (some harts fault on
    // a clear A or D instead of setting it). Refuses writable+executable, a
    // misaligned address, a non-canonical one, and an address already mapped.
    // With Alloc::Forbidden a missing table panics instead of allocating: the
    // populated-range guarantee (see populate()).
    [[nodiscard]] lib::Status map(uint64_t va, PhysAddr pa, uint64_t flags, unsigned level = 0,
                                  Alloc alloc = Alloc::Allowed);
    // Map [va, va + len) to [pa, ...) with the largest leaves alignment allows.
    [[nodiscard]] lib::Status map_range(uint64_t va, PhysAddr pa, uint64_t len, uint64_t flags);
    // Remove the leaf mapping va (4 KiB, or a 2 MiB / 1 GiB leaf when va is its
    // first byte); returns its physical address, 0 if nothing was mapped there
    // (physical address 0 is never RAM on the machines Zest runs on). Tables
    // are kept: a populated range stays populated. The caller flushes TLBs.
    PhysAddr unmap(uint64_t va, Prune prune = Prune::Keep);
    // unmap() of the n 4 KiB pages from va on, walking the tables once per
    // leaf table instead of once per page; pa[i] gets page i's physical
    // address (0 where nothing was mapped, or where a larger leaf covers it,
    // which stays). Tables are kept.
    void unmap_pages(uint64_t va, size_t n, PhysAddr* pa);
    // Find the leaf for va: physical address of va itself and the leaf's flags.
    [[nodiscard]] bool lookup(uint64_t va, PhysAddr& pa, uint64_t& flags) const;
    // Build every table a 4 KiB mapping in [va, va + len) will need.
    [[nodiscard]] lib::Status populate(uint64_t va, uint64_t len);
    // Create the root entry (a level-1 table) of every 1 GiB in [va, va + len).
    [[nodiscard]] lib::Status ensure_root_entries(uint64_t va, uint64_t len);
    // From now on a mapping that needs a new root entry panics: copies of this
    // root (user address spaces share the kernel's entries) would miss it.
    void freeze_root() { root_frozen_ = true; }
    // Tables allocated / freed so far by this object.
    [[nodiscard]] size_t tables_allocated() const { return tables_; }
    [[nodiscard]] size_t tables_freed() const { return freed_; }

    [[nodiscard]] PhysAddr root() const { return root_; }
    // satp value: Sv39 mode with this root (ASID 0).
    [[nodiscard]] uint64_t satp() const { return (8ull << 60) | (root_ >> PAGE_SHIFT); }

private:
    // The entry for va at `level`, creating tables above it if allowed.
    [[nodiscard]] lib::Result<Pte*> walk(uint64_t va, unsigned level, Alloc alloc);
    // The leaf entry covering va and its level, or nullptr; never allocates.
    // path[l] receives the entry at level l that was followed (for pruning).
    [[nodiscard]] Pte* find_leaf(uint64_t va, unsigned& level, Pte** path = nullptr) const;

    PhysAddr root_;
    TableSource& src_;
    size_t tables_ = 0;
    size_t freed_ = 0;
    bool root_frozen_ = false;
};

} // namespace vm::sv39
