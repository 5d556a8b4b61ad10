// Kernel memory bring-up and the glue between vm/'s hardware-free pieces and
// the machine. Boot order (vm::kmem::init, boot hart, paging still off):
//   1. usable RAM = the device tree's usable ranges minus the kernel image;
//   2. a bump allocator takes pages from the top of the largest range for the
//      page tables and the page array (physical addresses are still usable as
//      pointers: paging is off);
//   3. the kernel page table: direct map of all RAM (RW, never X; the image's
//      text and rodata read-only), the image identity-mapped at its load
//      address with W^X, device registers identity-mapped RW, and every
//      page-table page of the KVA part sized to RAM built in advance;
//   4. satp: paging on;
//   5. the physical page allocator over what is left, through the direct map.
#include "vm/kmem.h"

#include "boot/bootargs.h"
#include "kern/arch/riscv/csr.h"
#include "boot/machine.h"
#include "kern/arch/riscv/hart.h"
#include "kern/console/panic.h"
#include "kern/console/printf.h"
#include "kern/sched/sched.h"
#include "kern/arch/riscv/timer.h"
#include "kern/sync/wait.h"
#include "lib/string.h"
#include "vm/arena.h"
#include "vm/layout.h"
#include "vm/phys.h"
#include "vm/sv39.h"
#include "vm/tlb.h"

#include <new>

extern "C" {
extern char _kernel_start[], _text_start[], _text_end[], _rodata_start[], _rodata_end[];
extern char _data_start[], _bss_end[], _kernel_end[];
}

namespace vm::kmem {
namespace {

using sv39::PageTable;
using sv39::Pte;

bool g_paging;
PhysAllocator g_phys;
uint64_t g_satp;

// ---- boot-time bump allocator: pages before the page allocator exists ----------

struct Bump {
    uint64_t lo, hi; // [lo, hi) still free; takes from the top
    uint64_t taken_from;
} g_bump;

lib::Result<uint64_t> bump_page()
{
    if (g_bump.hi - PAGE_SIZE < g_bump.lo)
        return lib::Error::NoMemory;
    g_bump.hi -= PAGE_SIZE;
    return g_bump.hi;
}

// ---- page-table memory ---------------------------------------------------------

class KernelTables final : public sv39::TableSource {
public:
    Pte* table(uint64_t pa) override { return static_cast<Pte*>(phys_to_virt(pa)); }
    lib::Result<uint64_t> alloc_table() override
    {
        lib::Result<uint64_t> pa = g_paging ? g_phys.alloc(PageClass::System) : bump_page();
        if (pa.ok())
            memset(phys_to_virt(pa.value()), 0, PAGE_SIZE);
        return pa;
    }
};
KernelTables g_tables;
alignas(PageTable) unsigned char g_pt_storage[sizeof(PageTable)];
PageTable* g_pt;
// Kernel page-table changes are rare (boot, KVA and stack mappings): one lock.
ksync::SpinLock g_pt_lock {"kernel-pagetable"};

// ---- KVA: slabs and interrupt zones --------------------------------------------

Arena g_kva {"kva"};
Arena::Segment g_kva_segments[512];
size_t g_kva_populated; // bytes of KVA whose page tables exist

// ---- waiting for memory ---------------------------------------------------------

ksync::WaitQueue* g_memwait;
void (*g_wake_pageout)() = nullptr;
std::atomic<uint64_t> g_memwaits;
std::atomic<uint64_t> g_memwait_us;
std::atomic<uint64_t> g_memwait_failures;
uint64_t g_memwait_bound_us = 1000000; // bootarg memwait_ms
UserWaitHooks g_user_hooks {};

void pages_freed_hook()
{
    if (g_memwait)
        g_memwait->wake_all();
}

void wake_pageout_hook()
{
    if (g_wake_pageout)
        g_wake_pageout();
}

uint64_t page_up(uint64_t x) { return (x + PAGE_SIZE - 1) & ~(PAGE_SIZE - 1); }
uint64_t page_down(uint64_t x) { return x & ~(PAGE_SIZE - 1); }

void map_or_panic(uint64_t va, uint64_t pa, uint64_t len, uint64_t flags, const char* what)
{
    lib::Status st = g_pt->map_range(va, pa, len, flags);
    if (!st.ok())
        panic("kmem: cannot map %s [0x%lx, +0x%lx): %s", what, va, len, lib::error_name(st.error()));
}

// The direct map of one RAM range: RW, except the kernel image's text and
// rodata, which get read-only (4 KiB pages around them).
void direct_map_range(uint64_t base, uint64_t size)
{
    uint64_t ro_lo = reinterpret_cast<uint64_t>(_text_start), ro_hi = page_up(reinterpret_cast<uint64_t>(_rodata_end));
    uint64_t end = base + size;
    auto map = [&](uint64_t lo, uint64_t hi, uint64_t flags) {
        if (hi > lo)
            map_or_panic(layout::DIRECT_MAP_BASE + lo, lo, hi - lo, flags, "direct map");
    };
    uint64_t rw = sv39::R | sv39::W | sv39::G;
    if (ro_hi <= base || ro_lo >= end) {
        map(base, end, rw);
        return;
    }
    map(base, ro_lo > base ? ro_lo : base, rw);
    map(ro_lo > base ? ro_lo : base, ro_hi < end ? ro_hi : end, sv39::R | sv39::G);
    map(ro_hi < end ? ro_hi : end, end, rw);
}

void map_device(uint64_t base, uint64_t size)
{
    if (!size)
        return;
    uint64_t lo = page_down(base), hi = page_up(base + size);
    for (uint64_t a = lo; a < hi; a += PAGE_SIZE) {
        uint64_t pa, flags;
        if (g_pt->lookup(a, pa, flags))
            continue; // shared page with another device
        lib::Status st = g_pt->map(a, a, sv39::R | sv39::W | sv39::G);
        if (!st.ok())
            panic("kmem: cannot map device registers at 0x%lx: %s", a, lib::error_name(st.error()));
    }
}

void build_kernel_table(const fdt::MachineInfo& m)
{
    lib::Result<uint64_t> root = bump_page();
    if (!root.ok())
        panic("kmem: no page for the root page table");
    memset(phys_to_virt(root.value()), 0, PAGE_SIZE);
    g_pt = new (g_pt_storage) PageTable(root.value(), g_tables);

    for (size_t i = 0; i < m.nmemory; i++)
        direct_map_range(m.memory[i].base, m.memory[i].size);

    // The image where it runs, W^X.
    auto k = [](char* p) { return reinterpret_cast<uint64_t>(p); };
    map_or_panic(k(_kernel_start), k(_kernel_start), page_up(k(_text_end)) - k(_kernel_start),
                 sv39::R | sv39::X | sv39::G, "kernel text");
    map_or_panic(k(_rodata_start), k(_rodata_start), page_up(k(_rodata_end)) - k(_rodata_start), sv39::R | sv39::G,
                 "kernel rodata");
    map_or_panic(k(_data_start), k(_data_start), page_up(k(_kernel_end)) - k(_data_start),
                 sv39::R | sv39::W | sv39::G, "kernel data and bss");

    // Devices the kernel drives or may probe.
    for (size_t i = 0; i < m.nuarts; i++)
        map_device(m.uarts[i].base, m.uarts[i].size);
    if (m.plic.present)
        map_device(m.plic.base, m.plic.size);
    for (size_t i = 0; i < m.nvirtio; i++)
        map_device(m.virtio[i].base, m.virtio[i].size);
    for (size_t i = 0; i < m.nspi; i++)
        map_device(m.spi[i].base, m.spi[i].size);
    if (m.finisher.kind != fdt::FinisherKind::None)
        map_device(m.finisher.base, m.finisher.size ? m.finisher.size : PAGE_SIZE);
}

uint64_t ram_bytes(const fdt::MachineInfo& m)
{
    uint64_t n = 0;
    for (size_t i = 0; i < m.nmemory; i++)
        n += m.memory[i].size;
    return n;
}

} // namespace

void init(const fdt::MachineInfo& m)
{
    // 1. Usable RAM minus the kernel image.
    fdt::Range image {reinterpret_cast<uint64_t>(_kernel_start),
                      page_up(reinterpret_cast<uint64_t>(_kernel_end)) - reinterpret_cast<uint64_t>(_kernel_start)};
    static fdt::Range usable[fdt::kMaxUsable + 1];
    size_t nusable = 0;
    if (!fdt::subtract_ranges(m.usable, m.nusable, &image, 1, usable, fdt::kMaxUsable + 1, nusable).ok())
        panic("kmem: too many usable memory ranges");
    uint64_t total = 0;
    size_t largest = 0;
    for (size_t i = 0; i < nusable; i++) {
        total += usable[i].size;
        if (usable[i].size > usable[largest].size)
            largest = i;
    }
    if (total / PAGE_SIZE < MIN_RAM_PAGES)
        panic("kmem: %lu KiB of usable RAM; Zest needs at least %lu KiB", total / 1024,
              MIN_RAM_PAGES * PAGE_SIZE / 1024);

    // 2. Bump allocation from the top of the largest range.
    g_bump = {usable[largest].base, usable[largest].base + usable[largest].size, 0};
    uint64_t lowest = usable[0].base, highest = usable[nusable - 1].end();
    size_t array_bytes = page_up(PhysAllocator::page_array_bytes(lowest, highest));
    if (array_bytes + (1ul << 20) > usable[largest].size)
        panic("kmem: no room for the page array (%zu KiB)", array_bytes / 1024);
    g_bump.hi -= array_bytes;
    uint64_t page_array_pa = g_bump.hi;

    // 3. The kernel page table.
    build_kernel_table(m);
    // KVA: page tables for as much as there is RAM, built now (from the bump
    // allocator): a slab or interrupt-zone page never needs a table page later.
    g_kva_populated = page_up(ram_bytes(m));
    if (g_kva_populated > layout::KVA_SIZE)
        g_kva_populated = layout::KVA_SIZE;
    if (!g_pt->populate(layout::KVA_BASE, g_kva_populated).ok())
        panic("kmem: no pages for the KVA page tables");
    g_kva.init(layout::KVA_BASE, g_kva_populated, g_kva_segments, sizeof g_kva_segments / sizeof g_kva_segments[0]);
    if (!g_kva.mark_populated(layout::KVA_BASE, g_kva_populated).ok())
        panic("kmem: cannot record the populated KVA");

    // Every root-level entry the kernel will ever use, now: user address spaces
    // copy the root's kernel entries when they are made (vm/uspace.cc), so a
    // root entry added later would be missing from theirs. The direct map and
    // the KVA are mapped above; the stack region's tables come 2 MiB at a time
    // later, under root entries made here. Then the root is frozen: a mapping
    // needing a new root entry panics (vm/sv39.cc).
    if (!g_pt->ensure_root_entries(layout::KSTACK_BASE, layout::KSTACK_SIZE).ok() ||
        !g_pt->ensure_root_entries(layout::KVA_BASE, g_kva_populated).ok())
        panic("kmem: no pages for the kernel's root-level tables");
    for (unsigned i = sv39::index(layout::USER_BASE, 2); i < sv39::index(layout::USER_END - 1, 2) + 1; i++)
        if (g_tables.table(g_pt->root())[i] & sv39::V)
            panic("kmem: a kernel mapping reaches into user space (root entry %u)", i);
    g_pt->freeze_root();

    // 4. Paging on.
    g_satp = g_pt->satp();
    tlb::flush_local_all();
    csr_write(satp, g_satp);
    tlb::flush_local_all();
    kern::this_hart().satp = g_satp;
    g_paging = true;

    // 5. The page allocator over the rest: usable minus what the bump took.
    fdt::Range taken {g_bump.hi, usable[largest].end() - g_bump.hi};
    static fdt::Range rest[fdt::kMaxUsable + 2];
    size_t nrest = 0;
    if (!fdt::subtract_ranges(usable, nusable, &taken, 1, rest, fdt::kMaxUsable + 2, nrest).ok())
        panic("kmem: too many memory ranges");
    static PhysRange ranges[fdt::kMaxUsable + 2];
    for (size_t i = 0; i < nrest; i++)
        ranges[i] = {rest[i].base, rest[i].size};
    // The page array must cover every page it will be asked about.
    g_phys.init(static_cast<Page*>(phys_to_virt(page_array_pa)), ranges, nrest);
    g_phys.set_hooks(wake_pageout_hook, pages_freed_hook);
    kprintf("memory: %lu KiB usable, %lu KiB free after the kernel (%lu KiB image, %lu KiB page tables, "
            "%zu KiB page array)\n",
            total / 1024, g_phys.free_pages() * 4, image.size / 1024,
            (usable[largest].end() - g_bump.hi - array_bytes) / 1024, array_bytes / 1024);
}

void init_secondary()
{
    tlb::flush_local_all();
    csr_write(satp, g_satp);
    tlb::flush_local_all();
    kern::this_hart().satp = g_satp;
}

uint64_t kernel_satp() { return g_satp; }

void copy_kernel_root(uint64_t* dst)
{
    // Read without the lock: the root is frozen, its entries never change.
    memcpy(dst, g_tables.table(g_pt->root()), PAGE_SIZE);
}

bool paging_on() { return g_paging; }

void* phys_to_virt(uint64_t pa)
{
    return reinterpret_cast<void*>(g_paging ? layout::DIRECT_MAP_BASE + pa : pa);
}

uint64_t virt_to_phys(const void* va)
{
    auto v = reinterpret_cast<uintptr_t>(va);
    if (layout::is_direct_map(v))
        return v - layout::DIRECT_MAP_BASE;
    if (v >= reinterpret_cast<uintptr_t>(_kernel_start) && v < reinterpret_cast<uintptr_t>(_kernel_end))
        return v;
    return lookup(v);
}

// ---- pages ------------------------------------------------------------------------

namespace {
PageClass to_phys(Class c)
{
    switch (c) {
    case Class::Normal: return PageClass::Normal;
    case Class::System: return PageClass::System;
    case Class::Interrupt: return PageClass::Interrupt;
    }
    return PageClass::Normal;
}

// Sleeping for memory is possible only for a thread with interrupts on.
bool can_sleep() { return kern::sched::started() && cpu::irqs_enabled() && g_memwait; }
} // namespace

namespace {
bool user_caller() { return g_user_hooks.is_user && g_user_hooks.is_user(); }

// `w` decided by the caller, or (by_caller) at the first sleep from who it is.
lib::Result<uint64_t> alloc_page_waiting(Class c, Wait w, uint64_t deadline_us, bool by_caller)
{
    bool user = false;
    for (bool first = true;; first = false) {
        lib::Result<uint64_t> pa = g_phys.alloc(to_phys(c));
        if (pa.ok() || w == Wait::No || !can_sleep())
            return pa;
        if (first) {
            user = user_caller();
            if (by_caller)
                w = user ? Wait::Bounded : Wait::Forever;
        }
        // Sleep: wake the pagedaemon and wait for pages to be freed (with a
        // timeout, so a wakeup that raced our check costs a moment, not forever).
        uint64_t slice = 100000;
        uint64_t t0 = kern::timer::now_us();
        if (w == Wait::Bounded) {
            if (!deadline_us)
                deadline_us = t0 + g_memwait_bound_us;
            if (t0 >= deadline_us) {
                g_memwait_failures.fetch_add(1, std::memory_order_relaxed);
                return lib::Error::NoMemory;
            }
            if (deadline_us - t0 < slice)
                slice = deadline_us - t0;
        }
        g_memwaits.fetch_add(1, std::memory_order_relaxed);
        wake_pageout_hook();
        bool killed = false;
        if (user && w == Wait::Bounded)
            killed = !g_user_hooks.sleep(*g_memwait, slice);
        else
            (void)g_memwait->wait(nullptr, slice);
        g_memwait_us.fetch_add(kern::timer::now_us() - t0, std::memory_order_relaxed);
        if (killed) {
            g_memwait_failures.fetch_add(1, std::memory_order_relaxed);
            return lib::Error::NoMemory;
        }
    }
}
} // namespace

lib::Result<uint64_t> alloc_page(Class c, Wait w, uint64_t deadline_us)
{
    return alloc_page_waiting(c, w, deadline_us, false);
}

lib::Result<uint64_t> alloc_page(Class c, bool may_block)
{
    return alloc_page_waiting(c, may_block ? Wait::Forever : Wait::No, 0, may_block);
}

void free_page(uint64_t pa) { g_phys.free(pa); }
void free_page_batch(const uint64_t* pa, size_t n) { g_phys.free_batch(pa, n); }
uint64_t free_pages() { return g_phys.free_pages(); }
uint64_t total_pages() { return g_phys.total_pages(); }
PhysAllocator& phys() { return g_phys; }

void set_pageout_hook(void (*fn)()) { g_wake_pageout = fn; }

void init_waiting()
{
    static ksync::WaitQueue memwait("memwait");
    g_memwait = &memwait;
    uint64_t v;
    if (kern::bootargs::get_number("memwait_ms", v))
        g_memwait_bound_us = (v ? v : 1) * 1000;
}

uint64_t memwait_us() { return g_memwait_bound_us; }
void set_user_wait_hooks(const UserWaitHooks& h) { g_user_hooks = h; }
void wake_memory_waiters() { pages_freed_hook(); }
uint64_t memory_wait_failures() { return g_memwait_failures.load(); }

// ---- kernel mappings ----------------------------------------------------------

lib::Status map_page(uintptr_t va, uint64_t pa, Perm p)
{
    uint64_t flags = sv39::R | sv39::G | (p == Perm::ReadWrite ? uint64_t(sv39::W) : 0);
    ksync::SpinGuard g(g_pt_lock);
    return g_pt->map(va, pa, flags);
}

uint64_t unmap_page(uintptr_t va)
{
    uint64_t pa;
    {
        ksync::SpinGuard g(g_pt_lock);
        pa = g_pt->unmap(va);
    }
    tlb::flush_local(va);
    return pa;
}

lib::Status map_stack_page(uintptr_t va, uint64_t pa)
{
    if (!layout::is_kstack(va))
        panic("kmem: map_stack_page(0x%lx) outside the stack region", va);
    return g_pt->map(va, pa, sv39::R | sv39::W | sv39::G, 0, sv39::Alloc::Forbidden);
}

uint64_t unmap_stack_page(uintptr_t va)
{
    if (!layout::is_kstack(va))
        panic("kmem: unmap_stack_page(0x%lx) outside the stack region", va);
    return g_pt->unmap(va);
}

void unmap_stack_pages(uintptr_t va, size_t n, uint64_t* pa)
{
    if (n == 0)
        return;
    if (!layout::is_kstack(va) || !layout::is_kstack(va + (n - 1) * PAGE_SIZE))
        panic("kmem: unmap_stack_pages(0x%lx, %zu) outside the stack region", va, n);
    g_pt->unmap_pages(va, n, pa);
}

lib::Status populate(uintptr_t va, size_t len)
{
    ksync::SpinGuard g(g_pt_lock);
    return g_pt->populate(va, len);
}

uint64_t lookup(uintptr_t va)
{
    uint64_t pa, flags;
    ksync::SpinGuard g(g_pt_lock);
    return g_pt->lookup(va, pa, flags) ? pa : 0;
}

bool lookup_flags(uintptr_t va, uint64_t& pa, uint64_t& flags)
{
    ksync::SpinGuard g(g_pt_lock);
    return g_pt->lookup(va, pa, flags);
}

Arena& kva() { return g_kva; }
uint64_t memory_waits() { return g_memwaits.load(); }
uint64_t memory_wait_us() { return g_memwait_us.load(); }

// ---- the zalloc backend --------------------------------------------------------

namespace {

Class from_zalloc(zalloc::PageClass cls)
{
    switch (cls) {
    case zalloc::PageClass::Interrupt: return Class::Interrupt;
    case zalloc::PageClass::System: return Class::System;
    case zalloc::PageClass::Normal: break;
    }
    return Class::Normal;
}

class KernelBackend final : public zalloc::Backend {
public:
    void* alloc_pages(size_t n, size_t align_pages, zalloc::PageClass cls, bool may_block) override
    {
        Class c = from_zalloc(cls);
        if (n == 1 && align_pages <= 1) {
            lib::Result<uint64_t> pa = alloc_page(c, may_block);
            return pa.ok() ? phys_to_virt(pa.value()) : nullptr;
        }
        // A run: KVA (whose page tables exist) backed page by page, so no
        // physically contiguous block is ever needed.
        lib::Result<uintptr_t> va = g_kva.alloc(n * PAGE_SIZE, align_pages * PAGE_SIZE);
        if (!va.ok())
            return nullptr;
        for (size_t i = 0; i < n; i++) {
            lib::Result<uint64_t> pa = alloc_page(c, may_block);
            if (!pa.ok() || !map_kva(va.value() + i * PAGE_SIZE, pa.value())) {
                if (pa.ok())
                    free_page(pa.value());
                unmap_and_free(va.value(), i);
                g_kva.free(va.value(), n * PAGE_SIZE);
                return nullptr;
            }
        }
        return reinterpret_cast<void*>(va.value());
    }

    void free_pages(void* p, size_t n) override
    {
        auto va = reinterpret_cast<uintptr_t>(p);
        if (layout::is_direct_map(va)) {
            for (size_t i = 0; i < n; i++)
                free_page(va - layout::DIRECT_MAP_BASE + i * PAGE_SIZE);
            return;
        }
        unmap_and_free(va, n);
        g_kva.free(va, n * PAGE_SIZE);
    }

    void* reserve_va(size_t n) override
    {
        // The whole KVA in use already has its page tables (init).
        lib::Result<uintptr_t> va = g_kva.alloc(n * PAGE_SIZE, PAGE_SIZE, Arena::Placement::Populated);
        return va.ok() ? reinterpret_cast<void*>(va.value()) : nullptr;
    }

    void release_va(void* p, size_t n) override
    {
        auto va = reinterpret_cast<uintptr_t>(p);
        tlb::Batch batch;
        for (size_t i = 0; i < n; i++) {
            uint64_t pa = unmap_page(va + i * PAGE_SIZE);
            if (pa) {
                batch.add(va + i * PAGE_SIZE);
                batch.flush();
                free_page(pa);
            }
        }
        g_kva.free(va, n * PAGE_SIZE);
    }

    bool map_page(void* p, zalloc::PageClass cls, bool may_block) override
    {
        Class c = from_zalloc(cls);
        lib::Result<uint64_t> pa = alloc_page(c, may_block);
        if (!pa.ok())
            return false;
        if (!map_kva(reinterpret_cast<uintptr_t>(p), pa.value())) {
            free_page(pa.value());
            return false;
        }
        return true;
    }

    void request_replenish() override
    {
        replenish_wanted.store(1, std::memory_order_release);
        if (g_wake_pageout)
            g_wake_pageout();
    }

    std::atomic<uint32_t> replenish_wanted {0}; // no byte-sized atomic swap on RISC-V

private:
    // Map one page in the prepared KVA: the tables exist, so nothing is allocated.
    static bool map_kva(uintptr_t va, uint64_t pa)
    {
        ksync::SpinGuard g(g_pt_lock);
        return g_pt->map(va, pa, sv39::R | sv39::W | sv39::G, 0, sv39::Alloc::Forbidden).ok();
    }

    static void unmap_and_free(uintptr_t va, size_t n)
    {
        uint64_t pas[8];
        size_t done = 0;
        while (done < n) {
            size_t k = 0;
            tlb::Batch batch;
            for (; k < 8 && done + k < n; k++) {
                pas[k] = unmap_page(va + (done + k) * PAGE_SIZE);
                batch.add(va + (done + k) * PAGE_SIZE);
            }
            // Every hart must have dropped the mapping before the page is reused.
            batch.flush();
            for (size_t i = 0; i < k; i++)
                if (pas[i])
                    free_page(pas[i]);
            done += k;
        }
    }
};

KernelBackend g_backend;

} // namespace

zalloc::Backend& backend() { return g_backend; }
bool replenish_wanted() { return g_backend.replenish_wanted.exchange(0, std::memory_order_acq_rel) != 0; }

} // namespace vm::kmem
