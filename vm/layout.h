// The kernel's virtual address space (Sv39: 39-bit addresses, the kernel in
// the upper half, from 0xffffffc000000000). One picture, one header:
//
//   0xffffffc000000000  direct map of physical memory: VA = DIRECT_MAP_BASE + PA
//                       (128 GiB: RAM at 0x80000000 up to 16 GiB and more fits).
//                       Read-write, never executable; the kernel image's text
//                       and read-only data are mapped read-only here too.
//   0xffffffe000000000  KVA: zalloc and kmalloc_obj slabs, interrupt zones.
//                       Page tables for the part sized to RAM are built at
//                       boot, so mapping a page here never needs another page.
//   0xffffffe800000000  kernel stacks: slots of guard + stack (kstack/layout.h);
//                       page tables built a 2 MiB chunk at a time and kept.
//   0xfffffff000000000  (free)
//
//   Low half, for now: the kernel image identity-mapped where it was loaded
//   (0x80200000: text read-execute, rodata read-only, data and BSS read-write),
//   and device registers identity-mapped read-write. User address spaces (a
//   later issue) start above 4 GiB.
#pragma once

#include <cstddef>
#include <cstdint>

namespace vm::layout {

constexpr uintptr_t DIRECT_MAP_BASE = 0xffffffc000000000ul;
constexpr size_t DIRECT_MAP_SIZE = 128ul << 30;

constexpr uintptr_t KVA_BASE = 0xffffffe000000000ul;
constexpr size_t KVA_SIZE = 32ul << 30;

constexpr uintptr_t KSTACK_BASE = 0xffffffe800000000ul;
constexpr size_t KSTACK_SIZE = 1ul << 30;

constexpr uintptr_t KERNEL_LOAD = 0x80200000ul;

[[nodiscard]] constexpr bool is_direct_map(uintptr_t va)
{
    return va >= DIRECT_MAP_BASE && va < DIRECT_MAP_BASE + DIRECT_MAP_SIZE;
}
[[nodiscard]] constexpr bool is_kva(uintptr_t va) { return va >= KVA_BASE && va < KVA_BASE + KVA_SIZE; }
[[nodiscard]] constexpr bool is_kstack(uintptr_t va) { return va >= KSTACK_BASE && va < KSTACK_BASE + KSTACK_SIZE; }

static_assert(DIRECT_MAP_BASE + DIRECT_MAP_SIZE <= KVA_BASE);
static_assert(KVA_BASE + KVA_SIZE <= KSTACK_BASE);
static_assert(KSTACK_BASE % (2ul << 20) == 0, "stack region is built in 2 MiB chunks");

} // namespace vm::layout
