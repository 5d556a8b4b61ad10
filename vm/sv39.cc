#include "vm/sv39.h"

namespace vm::sv39 {

lib::Result<Pte*> PageTable::walk(uint64_t va, unsigned level, Alloc alloc)
{
    Pte* table = src_.table(root_);
    for (unsigned l = 2; l > level; l--) {
        Pte& e = table[index(va, l)];
        if (!(e & V)) {
            if (alloc == Alloc::Forbidden)
                return lib::Error::NoMemory;
            lib::Result<PhysAddr> pa = src_.alloc_table();
            if (!pa.ok())
                return pa.error();
            tables_++;
            e = make_pte(pa.value(), V);
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
    lib::Result<Pte*> e = walk(va, level, alloc);
    if (!e.ok())
        return e.error();
    if (*e.value() & V)
        return lib::Error::Exists;
    *e.value() = make_pte(pa, (flags & (R | W | X | U | G)) | V | A | D);
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
        lib::Status st = map(va, pa, flags, level);
        if (!st.ok())
            return st;
        va += LEVEL_SIZE[level];
        pa += LEVEL_SIZE[level];
    }
    return {};
}

PhysAddr PageTable::unmap(uint64_t va)
{
    if (!canonical(va))
        return 0;
    lib::Result<Pte*> e = walk(va, 0, Alloc::Forbidden);
    if (!e.ok() || !(*e.value() & V))
        return 0;
    PhysAddr pa = pte_pa(*e.value());
    *e.value() = 0;
    return pa;
}

bool PageTable::lookup(uint64_t va, PhysAddr& pa, uint64_t& flags) const
{
    if (!canonical(va))
        return false;
    Pte* table = src_.table(root_);
    for (int l = 2; l >= 0; l--) {
        Pte e = table[index(va, unsigned(l))];
        if (!(e & V))
            return false;
        if (is_leaf(e)) {
            pa = pte_pa(e) + (va & (LEVEL_SIZE[l] - 1));
            flags = e & 0x3ff;
            return true;
        }
        table = src_.table(pte_pa(e));
    }
    return false;
}

lib::Status PageTable::populate(uint64_t va, uint64_t len)
{
    uint64_t end = va + len;
    for (va &= ~(LEVEL_SIZE[1] - 1); va < end; va += LEVEL_SIZE[1]) {
        lib::Result<Pte*> e = walk(va, 0, Alloc::Allowed);
        if (!e.ok())
            return e.error();
    }
    return {};
}

} // namespace vm::sv39
