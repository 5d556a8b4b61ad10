#include "vm/sv39.h"

#include "kern/seam/panic.h"

namespace vm::sv39 {

lib::Result<Pte*> PageTable::walk(uint64_t va, unsigned level, Alloc alloc)
{
    Pte* table = src_.table(root_);
    for (unsigned l = 2; l > level; l--) {
        Pte& e = table[index(va, l)];
        if (!(e & V)) {
            if (alloc == Alloc::Forbidden)
                panic("sv39: mapping 0x%lx needs a level-%u table, but its range was never populated", va, l - 1);
            if (l == 2 && root_frozen_)
                panic("sv39: mapping 0x%lx needs a new root entry after boot; task page tables copied the root "
                      "and would miss it (pre-create it in vm/kmem.cc)", va);
            PhysAddr pa = TRY(src_.alloc_table());
            tables_++;
            e = make_pte(pa, V);
        } else if (is_leaf(e)) {
            return lib::Error::Exists; // a larger leaf already covers va
        }
        table = src_.table(pte_pa(e));
    }
    return &table[index(va, level)];
}

lib::Status PageTable::map(uint64_t va, PhysAddr pa, uint64_t flags, unsigned level, Alloc alloc)
{
    if (level > 2 || !canonical(va))
        return lib::Error::Invalid;
    if ((va | pa) & (LEVEL_SIZE[level] - 1))
        return lib::Error::Invalid;
    if ((flags & W) && (flags & X))
        return lib::Error::Invalid; // W^X: never both
    if (!(flags & (R | X)))
        return lib::Error::Invalid; // W alone is reserved by the spec
    Pte* e = TRY(walk(va, level, alloc));
    if (*e & V)
        return lib::Error::Exists;
    *e = make_pte(pa, (flags & (R | W | X | U | G)) | V | A | D);
    return {};
}

lib::Status PageTable::map_range(uint64_t va, PhysAddr pa, uint64_t len, uint64_t flags)
{
    uint64_t end = va + len;
    while (va < end) {
        unsigned level = 0;
        for (unsigned l = 2; l > 0; l--) {
            if (((va | pa) & (LEVEL_SIZE[l] - 1)) == 0 && end - va >= LEVEL_SIZE[l]) {
                level = l;
                break;
            }
        }
        TRY(map(va, pa, flags, level));
        va += LEVEL_SIZE[level];
        pa += LEVEL_SIZE[level];
    }
    return {};
}

Pte* PageTable::find_leaf(uint64_t va, unsigned& level, Pte** path) const
{
    if (!canonical(va))
        return nullptr;
    Pte* table = src_.table(root_);
    for (int l = 2; l >= 0; l--) {
        Pte& e = table[index(va, unsigned(l))];
        if (path)
            path[l] = &e;
        if (!(e & V))
            return nullptr;
        if (is_leaf(e)) {
            level = unsigned(l);
            return &e;
        }
        table = src_.table(pte_pa(e));
    }
    return nullptr;
}

PhysAddr PageTable::unmap(uint64_t va, Prune prune)
{
    unsigned level = 0;
    Pte* path[3] = {};
    Pte* e = find_leaf(va, level, path);
    // Only whole leaves: unmapping 4 KiB out of a 2 MiB leaf would need a split.
    if (!e || (va & (LEVEL_SIZE[level] - 1)))
        return 0;
    PhysAddr pa = pte_pa(*e);
    *e = 0;
    if (prune == Prune::EmptyTables) {
        // Walk up: a table left with no valid entry goes back, and so may its parent.
        // The caller flushes the TLB (stale walks may cache the freed tables too).
        for (unsigned l = level + 1; l <= 2; l++) {
            PhysAddr table_pa = pte_pa(*path[l]);
            const Pte* t = src_.table(table_pa);
            for (size_t i = 0; i < ENTRIES; i++)
                if (t[i] & V)
                    return pa;
            *path[l] = 0;
            src_.free_table(table_pa);
            freed_++;
        }
    }
    return pa;
}

void PageTable::unmap_pages(uint64_t va, size_t n, PhysAddr* pa)
{
    Pte* e = nullptr; // the next page's entry while it is in the same leaf table
    for (size_t i = 0; i < n; i++, va += PAGE_SIZE) {
        if (!e || (va & (LEVEL_SIZE[1] - 1)) == 0) {
            unsigned level = 0;
            e = find_leaf(va, level);
            if (!e || level != 0) {
                pa[i] = 0; // nothing there, or inside a larger leaf: left alone
                e = nullptr;
                continue;
            }
        }
        pa[i] = (*e & V) ? pte_pa(*e) : 0;
        *e = 0;
        e++;
    }
}

bool PageTable::lookup(uint64_t va, PhysAddr& pa, uint64_t& flags) const
{
    unsigned level = 0;
    Pte* e = find_leaf(va, level);
    if (!e)
        return false;
    pa = pte_pa(*e) + (va & (LEVEL_SIZE[level] - 1));
    flags = *e & 0x3ff;
    return true;
}

lib::Status PageTable::ensure_root_entries(uint64_t va, uint64_t len)
{
    uint64_t end = va + len;
    for (va &= ~(LEVEL_SIZE[2] - 1); va < end; va += LEVEL_SIZE[2]) {
        if (!canonical(va))
            return lib::Error::Invalid;
        Pte& e = src_.table(root_)[index(va, 2)];
        if (e & V)
            continue;
        PhysAddr pa = TRY(src_.alloc_table());
        tables_++;
        e = make_pte(pa, V);
    }
    return {};
}

lib::Status PageTable::populate(uint64_t va, uint64_t len)
{
    uint64_t end = va + len;
    for (va &= ~(LEVEL_SIZE[1] - 1); va < end; va += LEVEL_SIZE[1]) {
        TRY(walk(va, 0, Alloc::Allowed));
    }
    return {};
}

} // namespace vm::sv39
