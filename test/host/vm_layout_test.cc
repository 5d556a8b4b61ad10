// The kernel VA layout: regions are disjoint, canonical, and the helpers agree
// with the picture in vm/layout.h.
#include "vm/layout.h"
#include "vm/sv39.h"

#include <doctest/doctest.h>

namespace L = vm::layout;

TEST_CASE("layout: every kernel region is canonical Sv39 upper half, in order, disjoint")
{
    struct Region {
        uintptr_t base;
        size_t size;
    } regions[] = {{L::DIRECT_MAP_BASE, L::DIRECT_MAP_SIZE},
                   {L::INTR_KVA_BASE, L::INTR_KVA_SIZE},
                   {L::SLAB_KVA_BASE, L::SLAB_KVA_SIZE},
                   {L::KSTACK_BASE, L::KSTACK_SIZE}};
    for (size_t i = 0; i < sizeof regions / sizeof regions[0]; i++) {
        const Region& r = regions[i];
        CHECK(vm::sv39::canonical(r.base));
        CHECK(vm::sv39::canonical(r.base + r.size - 1));
        CHECK(L::is_kernel_half(r.base));
        if (i > 0)
            CHECK(regions[i - 1].base + regions[i - 1].size <= r.base);
    }
    // The interrupt-zone and slab sub-ranges tile KVA exactly.
    CHECK(L::INTR_KVA_BASE == L::KVA_BASE);
    CHECK(L::SLAB_KVA_BASE + L::SLAB_KVA_SIZE == L::KVA_BASE + L::KVA_SIZE);
}

TEST_CASE("layout: classification helpers at the edges")
{
    CHECK(L::is_direct_map(L::DIRECT_MAP_BASE));
    CHECK(L::is_direct_map(L::DIRECT_MAP_BASE + L::DIRECT_MAP_SIZE - 1));
    CHECK_FALSE(L::is_direct_map(L::DIRECT_MAP_BASE + L::DIRECT_MAP_SIZE));
    CHECK_FALSE(L::is_direct_map(L::KERNEL_LOAD)); // the image runs identity-mapped, low half
    CHECK_FALSE(L::is_kernel_half(L::KERNEL_LOAD));
    CHECK(L::is_kva(L::KVA_BASE));
    CHECK(L::is_interrupt_kva(L::KVA_BASE));
    CHECK_FALSE(L::is_interrupt_kva(L::SLAB_KVA_BASE));
    CHECK(L::is_kva(L::SLAB_KVA_BASE));
    CHECK_FALSE(L::is_kva(L::KSTACK_BASE));
    CHECK(L::is_kstack(L::KSTACK_BASE));
    CHECK_FALSE(L::is_kstack(L::KSTACK_BASE + L::KSTACK_SIZE));
}

TEST_CASE("layout: direct-map conversions round-trip for RAM and stop at 128 GiB")
{
    const uint64_t pa = L::RAM_BASE + 0x12345000;
    CHECK(L::direct_pa(L::direct_va(pa)) == pa);
    CHECK(L::is_direct_map(L::direct_va(pa)));
    CHECK(L::pa_in_direct_map(L::RAM_BASE, 16ull << 30));
    CHECK_FALSE(L::pa_in_direct_map(L::DIRECT_MAP_SIZE - 4096, 8192));
    CHECK_FALSE(L::pa_in_direct_map(~0ull, 1));
}
