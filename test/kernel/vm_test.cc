// Kernel tests of vm/: the page allocator's reserve classes on real memory,
// W^X on the kernel's own mappings, and TLB shootdown across harts.
#include "kern/arch/riscv/fixup.h"
#include "kern/arch/riscv/hart.h"
#include "test/kernel/ktest.h"
#include "kern/console/printf.h"
#include "kern/arch/riscv/smp.h"
#include "kern/arch/riscv/smp.h"
#include "lib/string.h"
#include "vm/page_chain.h"
#include "vm/kmem.h"
#include "vm/layout.h"
#include "vm/tlb.h"

extern "C" char _text_start[], _rodata_start[];


// Every page, class by class: Normal stops at free_reserved, System at the
// interrupt minimum, Interrupt takes the last page; then everything goes back
// and the counters are where they started.
KTEST(pages_reserve_classes_and_all_pages)
{
    ktest::Quiet quiet;
    vm::PhysAllocator& p = vm::kmem::phys();
    const vm::Watermarks& w = p.watermarks();
    vm::PhysAllocator::Stats s0 = p.stats();
    uint64_t free0 = p.free_pages();
    vm::PageChain c;
    c.take_until_failure(vm::kmem::Class::Normal);
    uint64_t after_normal = p.free_pages();
    c.take_until_failure(vm::kmem::Class::System);
    uint64_t after_system = p.free_pages();
    c.take_until_failure(vm::kmem::Class::Interrupt);
    uint64_t after_interrupt = p.free_pages();
    uint64_t taken = c.count;
    c.free_all();
    uint64_t free1 = p.free_pages();
    vm::PhysAllocator::Stats s1 = p.stats();
    KEXPECT_EQ(after_normal, w.free_reserved);
    KEXPECT_EQ(after_system, w.interrupt_min);
    KEXPECT_EQ(after_interrupt, 0u);
    KEXPECT_EQ(taken, free0);
    KEXPECT_EQ(free1, free0);
    KEXPECT_EQ(s1.total, s0.total);
    KEXPECT(s1.failures[0] > s0.failures[0]);
    kprintf("ktest: took all %lu free pages (normal stopped at %lu, system at %lu)\n", taken, after_normal,
            after_system);
}

KTEST(wx_text_is_not_writable)
{
    uint64_t v;
    auto text = reinterpret_cast<uintptr_t>(&probe_ret_only);
    KEXPECT(probe_read_u64(text, &v) == 0);
    KEXPECT(probe_write_u64(text, v) != 0);
    auto ro = reinterpret_cast<uintptr_t>(_rodata_start);
    KEXPECT(probe_read_u64(ro, &v) == 0);
    KEXPECT(probe_write_u64(ro, v) != 0);
    // The direct map's alias of the text is read-only too.
    KEXPECT(probe_write_u64(vm::layout::DIRECT_MAP_BASE + text, v) != 0);
}

KTEST(wx_data_is_not_executable)
{
    // A `ret` instruction that runs where it is code...
    KEXPECT(probe_exec(reinterpret_cast<uintptr_t>(&probe_ret_only)) == 0);
    // ...and faults where it is data: in the image's data, and in the direct map.
    alignas(8) static uint32_t ret_in_data[2] = {0x00008067, 0x00008067};
    KEXPECT(probe_exec(reinterpret_cast<uintptr_t>(ret_in_data)) != 0);
    auto pa = vm::kmem::alloc_page(vm::kmem::Class::Normal, false);
    KEXPECT(pa.ok());
    auto* page = static_cast<uint32_t*>(vm::kmem::phys_to_virt(pa.value()));
    page[0] = 0x00008067;
    long r = probe_exec(reinterpret_cast<uintptr_t>(page));
    vm::kmem::free_page(pa.value());
    KEXPECT(r != 0);
}

namespace {
struct PingPong {
    uintptr_t va;
    uint64_t expect;
    std::atomic<unsigned> stale;
    std::atomic<unsigned> faults;
};
void read_and_check(PingPong& pp)
{
    uint64_t v;
    if (probe_read_u64(pp.va, &v) != 0)
        pp.faults.fetch_add(1);
    else if (v != pp.expect)
        pp.stale.fetch_add(1);
}
} // namespace

// One VA, remapped to a different page each round; every hart reads it each
// round (so its TLB holds the old translation) and must see the new page's
// value: the shootdown reached it. Then unmapped: every hart must fault.
KTEST(tlb_shootdown_ping_pong)
{
    auto va = vm::kmem::kva().alloc(4096, 4096);
    KEXPECT(va.ok());
    static PingPong pp;
    pp.va = va.value();
    pp.stale = 0;
    pp.faults = 0;
    constexpr unsigned ROUNDS = 300;
    for (unsigned i = 1; i <= ROUNDS; i++) {
        auto pa = vm::kmem::alloc_page(vm::kmem::Class::Normal, false);
        KEXPECT(pa.ok());
        *static_cast<uint64_t*>(vm::kmem::phys_to_virt(pa.value())) = i;
        KEXPECT(vm::kmem::map_page(pp.va, pa.value(), vm::kmem::Perm::ReadWrite).ok());
        pp.expect = i;
        kern::smp::call_on_all([] { read_and_check(pp); });
        uint64_t old = vm::kmem::unmap_page(pp.va);
        vm::tlb::shootdown(pp.va, 1);
        KEXPECT_EQ(old, pa.value());
        vm::kmem::free_page(old);
    }
    KEXPECT_EQ(pp.stale.load(), 0u);
    KEXPECT_EQ(pp.faults.load(), 0u);
    // Unmapped now: every hart's read must fault, none may hit a stale entry.
    kern::smp::call_on_all([] { read_and_check(pp); });
    KEXPECT_EQ(pp.faults.load(), cpu::count());
    vm::kmem::kva().free(pp.va, 4096);
}
