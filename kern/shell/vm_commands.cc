// Shell: vmstat (pages, reserve classes, watermarks; -z zones, -m malloc
// types), memmap (the kernel VA layout and what is mapped where) and
// swapinfo (the swap device and the stacks on it).
#include "dev/block.h"
#include "kern/console/printf.h"
#include "kern/shell/shell.h"
#include "kstack/swap.h"
#include "lib/string.h"
#include "vm/kmem.h"
#include "vm/layout.h"
#include "vm/pageout.h"
#include "vm/swap.h"
#include "vm/tlb.h"
#include "zalloc/stats.h"

namespace {

void print_line(const char* line) { kprintf("%s", line); }

// Snapshots are copied out under each zone's lock; static: they are too big for a stack.
zalloc::ZoneStats g_zs[64];
zalloc::TypeStats g_ts[64];

void vmstat_pages()
{
    vm::PhysAllocator& p = vm::kmem::phys();
    vm::PhysAllocator::Stats s = p.stats();
    const vm::Watermarks& w = p.watermarks();
    kprintf("pages: %lu total, %lu free (%lu in per-hart caches), %lu wired (%lu KiB free)\n", s.total, s.free,
            s.cached, s.total - s.free, s.free * 4);
    kprintf("watermarks: free_min %lu, free_reserved %lu, system_min %lu, interrupt_min %lu, free_target %lu\n",
            w.free_min, w.free_reserved, w.system_min, w.interrupt_min, w.free_target);
    kprintf("reserve: normal callers stop at %lu free pages, system at %lu, interrupt may take the last\n",
            w.free_reserved, w.interrupt_min);
    static const char* const names[3] = {"normal", "system", "interrupt"};
    for (int c = 0; c < 3; c++)
        kprintf("  %-9s %10lu allocations %8lu failures\n", names[c], s.allocs[c], s.failures[c]);
    kprintf("per-hart page caches: %lu hits, %lu misses\n", s.cache_hits, s.cache_misses);
    kprintf("waits for memory: %lu (%lu ms waiting in all)\n", vm::kmem::memory_waits(),
            vm::kmem::memory_wait_us() / 1000);
    kstack::swap::Stats sw = kstack::swap::stats();
    vm::pageout::Stats po = vm::pageout::stats();
    kprintf("paging: %lu stack swap-outs (%lu pages freed), %lu swap-ins (%lu at the wakeup, %lu early), %lu now "
            "swapped\n",
            sw.swap_outs, sw.pages_out, sw.swap_ins, sw.wakeup_swap_ins, sw.early_swap_ins, sw.stacks_swapped);
    kprintf("  %lu cancelled by a wakeup; woken threads waited %lu ms for their stacks (%lu waits)\n", sw.cancelled,
            sw.swapin_wait_us / 1000, sw.swapin_waits);
    kprintf("  pagedaemon: %lu wakeups, %lu swap passes; emergency pager passes %lu; idle threshold %lu ms\n",
            po.wakeups, po.swap_passes, po.emergency_passes, kstack::swap::idle_us() / 1000);
    vm::tlb::Stats t = vm::tlb::stats();
    kprintf("tlb shootdowns: %lu (%lu pages, %lu full flushes)\n", t.shootdowns, t.pages, t.full_flushes);
}

} // namespace

SHELL_COMMAND(vmstat, "[-z|-m]", "memory: pages and reserve classes; -z zones; -m malloc types")
{
    if (argc == 1) {
        vmstat_pages();
        return 0;
    }
    if (argc != 2)
        return 1;
    if (strcmp(argv[1], "-z") == 0) {
        size_t n = zalloc::snapshot_zones(g_zs, 64);
        zalloc::format_zone_stats(g_zs, n < 64 ? n : 64, print_line);
        return 0;
    }
    if (strcmp(argv[1], "-m") == 0) {
        size_t n = zalloc::snapshot_types(g_ts, 64);
        zalloc::format_type_stats(g_ts, n < 64 ? n : 64, print_line);
        return 0;
    }
    kprintf("error: unknown option '%s'\n", argv[1]);
    return 1;
}

SHELL_COMMAND(memmap, "", "kernel virtual address layout and what is mapped where")
{
    if (argc != 1)
        return 1;
    extern char _kernel_start[], _text_end[], _rodata_start[], _rodata_end[], _data_start[], _kernel_end[];
    namespace L = vm::layout;
    kprintf("kernel address space (Sv39):\n");
    kprintf("  0x%016lx-0x%016lx direct map of RAM (rw-, text/rodata r--)\n", L::DIRECT_MAP_BASE,
            L::DIRECT_MAP_BASE + L::DIRECT_MAP_SIZE);
    vm::Arena::Stats k = vm::kmem::kva().stats();
    kprintf("  0x%016lx-0x%016lx KVA: slabs, zones (page tables built for %zu MiB; %zu KiB in use)\n", L::KVA_BASE,
            L::KVA_BASE + L::KVA_SIZE, vm::kmem::kva().size() >> 20, k.in_use / 1024);
    kprintf("  0x%016lx-0x%016lx kernel stacks (guard + stack slots)\n", L::KSTACK_BASE,
            L::KSTACK_BASE + L::KSTACK_SIZE);
    kprintf("  0x%016lx-0x%016lx kernel text (r-x)\n", reinterpret_cast<uintptr_t>(_kernel_start),
            reinterpret_cast<uintptr_t>(_text_end));
    kprintf("  0x%016lx-0x%016lx kernel rodata (r--)\n", reinterpret_cast<uintptr_t>(_rodata_start),
            reinterpret_cast<uintptr_t>(_rodata_end));
    kprintf("  0x%016lx-0x%016lx kernel data and bss (rw-)\n", reinterpret_cast<uintptr_t>(_data_start),
            reinterpret_cast<uintptr_t>(_kernel_end));
    kprintf("  devices: identity-mapped rw- (see 'info')\n");
    return 0;
}

SHELL_COMMAND(swapinfo, "", "swap device, size, used, errors")
{
    if (argc != 1)
        return 1;
    if (!vm::swap::enabled()) {
        kprintf("no swap device (bootarg swap=NAME picks one; make run attaches build/swap.img)\n");
        return 0;
    }
    vm::swap::Stats s = vm::swap::stats();
    kprintf("device %s: %lu KiB, %lu KiB used (%lu%%)\n", vm::swap::device()->name(), s.blocks * 4, s.used * 4,
            s.blocks ? s.used * 100 / s.blocks : 0);
    kprintf("pages written %lu, read %lu; write errors %lu, read errors %lu; times full %lu\n", s.pages_out,
            s.pages_in, s.write_errors, s.read_errors, s.full);
    kstack::swap::Stats k = kstack::swap::stats();
    kprintf("kernel stacks: %lu swapped now; %lu out, %lu in; %lu checksum errors, %lu threads killed\n",
            k.stacks_swapped, k.swap_outs, k.swap_ins, k.checksum_errors, k.killed);
    kprintf("swap-outs refused: %lu swap full, %lu write errors, %lu no metadata\n", k.full, k.write_errors,
            k.meta_failures);
    return 0;
}
