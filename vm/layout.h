// The kernel's virtual address space. One picture, one header.
//
// Sv39: 39-bit virtual addresses, sign-extended from bit 38, so the valid
// addresses are the low 256 GiB (user, for now also the identity-mapped kernel
// image) and the high 256 GiB from 0xffffffc000000000 (the kernel proper).
//
//   0xffffffc000000000  DIRECT MAP, 128 GiB: VA = DIRECT_MAP_BASE + PA for all
//                       RAM (RAM starts at 0x80000000 on every supported board,
//                       so up to ~126 GiB of RAM fits). Read-write, never
//                       executable; the image's text and rodata are read-only
//                       here too. 1 GiB / 2 MiB leaves where alignment allows.
//   0xffffffe000000000  KVA, 32 GiB: zalloc and kmalloc_obj slabs and the
//                       ranges interrupt zones reserve (vm::Arena). vm/kmem.cc
//                       builds every page-table page of the first RAM-sized
//                       part at boot and marks it populated in the arena, so
//                       mapping any page there needs no table page: a slab
//                       refill or an interrupt zone's refill takes exactly the
//                       physical pages it maps, so it cannot fail for want
//                       of a table page at zero free memory. Interrupt
//                       zones reserve with Placement::Populated. INTR_KVA_* and
//                       SLAB_KVA_* name the two halves for a later split.
//   0xffffffe800000000  KERNEL STACKS, 4 GiB: slots of SLOT_SIZE = 2 x stack
//                       size, the low half of each slot an unmapped guard, the
//                       high half the stack (kstack/layout.h does the slot
//                       arithmetic; a stack aligned to twice its size lets the
//                       trap entry test one bit of sp). Tables built 2 MiB at
//                       a time and kept. 131072 slots of 32 KiB: with stacks
//                       swapped out, far more threads than RAM holds stacks.
//   0xffffffe900000000  (free, up to the top)
//
// Low half, first stage: the kernel image runs where it was loaded, at
// 0x80200000, identity-mapped (text r-x, rodata r--, data/bss rw-), and the
// device registers are identity-mapped rw-. Moving the image into the high
// half (a KERNEL_BASE above the stacks) is a later step; user address spaces
// will then get the whole low half.
//
// User space, meanwhile: [USER_BASE, USER_END) = [64 GiB, 256 GiB), root
// page-table indices 64..255, which the kernel never uses (its low-half
// identity maps, the image near 0x80200000 and device registers below
// 0x80000000, stay under 64 GiB; vm/kmem.cc panics if one would not). Each task's root table copies the kernel's root
// entries and adds its own in that range only (vm/uspace.h). The kernel adds
// no root-level entry after boot (vm/kmem.cc freezes its root), so every copy
// stays complete.
#pragma once

#include "lib/page.h"

#include <cstddef>
#include <cstdint>

namespace vm::layout {

constexpr uintptr_t KERNEL_HALF_BASE = 0xffffffc000000000ul; // lowest canonical upper-half address

constexpr uintptr_t DIRECT_MAP_BASE = 0xffffffc000000000ul;
constexpr size_t DIRECT_MAP_SIZE = 128ul << 30;

constexpr uintptr_t KVA_BASE = 0xffffffe000000000ul;
constexpr size_t KVA_SIZE = 32ul << 30;
// Interrupt zones: the first part of KVA, page tables built per zone at creation.
constexpr uintptr_t INTR_KVA_BASE = KVA_BASE;
constexpr size_t INTR_KVA_SIZE = 1ul << 30;
// Everything else in KVA: ordinary slabs and zones.
constexpr uintptr_t SLAB_KVA_BASE = INTR_KVA_BASE + INTR_KVA_SIZE;
constexpr size_t SLAB_KVA_SIZE = KVA_SIZE - INTR_KVA_SIZE;

constexpr uintptr_t KSTACK_BASE = 0xffffffe800000000ul;
constexpr size_t KSTACK_SIZE = 4ul << 30;

// The kernel image, first stage: identity-mapped where the firmware loaded it.
constexpr uintptr_t KERNEL_LOAD = 0x80200000ul;
constexpr uintptr_t RAM_BASE = 0x80000000ul; // every supported board

constexpr size_t MEGAPAGE = 2ul << 20; // Sv39 level-1 leaf and one level-0 table's reach
constexpr size_t GIGAPAGE = 1ul << 30; // Sv39 level-2 leaf

// User address spaces (vm/uspace.h): 64 GiB up to the top of the low half.
constexpr uintptr_t USER_BASE = 0x1000000000ul;
constexpr uintptr_t USER_END = 0x4000000000ul;
// Where a program's initial stack ends (a guard page above it) and what mmap
// picks from when no address is given.
constexpr uintptr_t USER_STACK_TOP = USER_END - 0x10000ul;
constexpr size_t USER_STACK_SIZE = 64ul << 10;
constexpr uintptr_t USER_MMAP_BASE = 0x2000000000ul;
constexpr uintptr_t USER_MMAP_END = 0x3000000000ul;

[[nodiscard]] constexpr bool is_kernel_half(uintptr_t va) { return va >= KERNEL_HALF_BASE; }
[[nodiscard]] constexpr bool is_direct_map(uintptr_t va)
{
    return va >= DIRECT_MAP_BASE && va < DIRECT_MAP_BASE + DIRECT_MAP_SIZE;
}
[[nodiscard]] constexpr bool is_kva(uintptr_t va) { return va >= KVA_BASE && va < KVA_BASE + KVA_SIZE; }
[[nodiscard]] constexpr bool is_interrupt_kva(uintptr_t va)
{
    return va >= INTR_KVA_BASE && va < INTR_KVA_BASE + INTR_KVA_SIZE;
}
[[nodiscard]] constexpr bool is_kstack(uintptr_t va) { return va >= KSTACK_BASE && va < KSTACK_BASE + KSTACK_SIZE; }

// [va, va + len) lies inside user space (no wrap-around). len 0: va itself
// must be in user space or at its end.
[[nodiscard]] constexpr bool is_user_range(uintptr_t va, size_t len)
{
    return va >= USER_BASE && va <= USER_END && len <= USER_END - va;
}

// Direct-map conversions (no check: use is_direct_map / pa_in_direct_map first).
[[nodiscard]] constexpr uintptr_t direct_va(uint64_t pa) { return DIRECT_MAP_BASE + pa; }
[[nodiscard]] constexpr uint64_t direct_pa(uintptr_t va) { return va - DIRECT_MAP_BASE; }
[[nodiscard]] constexpr bool pa_in_direct_map(uint64_t pa, uint64_t len = 1)
{
    return len <= DIRECT_MAP_SIZE && pa <= DIRECT_MAP_SIZE - len;
}

static_assert(DIRECT_MAP_BASE == KERNEL_HALF_BASE);
static_assert(DIRECT_MAP_BASE + DIRECT_MAP_SIZE <= KVA_BASE, "direct map and KVA overlap");
static_assert(KVA_BASE + KVA_SIZE <= KSTACK_BASE, "KVA and kernel stacks overlap");
static_assert(KSTACK_BASE + KSTACK_SIZE > KSTACK_BASE, "kernel stacks wrap around the top");
static_assert(DIRECT_MAP_BASE % GIGAPAGE == 0, "the direct map uses 1 GiB leaves");
static_assert(INTR_KVA_BASE % MEGAPAGE == 0 && INTR_KVA_SIZE % MEGAPAGE == 0,
              "interrupt zones populate whole level-0 tables");
static_assert(KSTACK_BASE % MEGAPAGE == 0, "stack region is built in 2 MiB chunks");
static_assert(USER_BASE % GIGAPAGE == 0 && USER_END % GIGAPAGE == 0, "user space is whole root entries");
static_assert(USER_BASE >> 30 == 64 && USER_END >> 30 == 256, "user space: root indices 64..255");
static_assert(KERNEL_LOAD < USER_BASE, "the identity-mapped image stays below user space");
static_assert(KERNEL_LOAD % MEGAPAGE == 0 && KERNEL_LOAD < KERNEL_HALF_BASE, "image: 2 MiB aligned, low half");

} // namespace vm::layout
