// The swap device end to end: space from the allocator, pages written to the
// disk and read back intact.
#include "test/kernel/ktest.h"
#include "kern/console/printf.h"
#include "lib/string.h"
#include "vm/kmem.h"
#include "vm/swap.h"

KTEST(swap_pages_round_trip)
{
    if (!vm::swap::enabled()) {
        kprintf("ktest: swap_pages_round_trip: no swap device in this boot, nothing to check\n");
        return;
    }
    constexpr uint32_t N = 8;
    void* out[N];
    void* in[N];
    for (uint32_t i = 0; i < N; i++) {
        auto a = vm::kmem::alloc_page(vm::kmem::Class::Normal, true);
        auto b = vm::kmem::alloc_page(vm::kmem::Class::Normal, true);
        KEXPECT(a.ok() && b.ok());
        out[i] = vm::kmem::phys_to_virt(a.value());
        in[i] = vm::kmem::phys_to_virt(b.value());
        auto* w = static_cast<uint64_t*>(out[i]);
        for (unsigned k = 0; k < 512; k++)
            w[k] = (uint64_t(i) << 32) ^ k ^ 0x5eed;
        memset(in[i], 0, 4096);
    }
    auto run = vm::swap::space().alloc(N);
    KEXPECT(run.ok());
    vm::swap::Stats s0 = vm::swap::stats();
    KEXPECT(vm::swap::write_pages(run.value(), out, N).ok());
    KEXPECT(vm::swap::read_pages(run.value(), in, N).ok());
    bool same = true;
    for (uint32_t i = 0; i < N; i++)
        same = same && memcmp(out[i], in[i], 4096) == 0;
    vm::swap::Stats s1 = vm::swap::stats();
    vm::swap::space().free(run.value(), N);
    for (uint32_t i = 0; i < N; i++) {
        vm::kmem::free_page(vm::kmem::virt_to_phys(out[i]));
        vm::kmem::free_page(vm::kmem::virt_to_phys(in[i]));
    }
    KEXPECT(same);
    KEXPECT_EQ(s1.pages_out - s0.pages_out, uint64_t(N));
    KEXPECT_EQ(s1.pages_in - s0.pages_in, uint64_t(N));
}
