// Helpers shared by the kernel-stack swapping benchmarks (swap_bench.cc:
// throughput and swap-in latency; swap_capacity_bench.cc: how many blocked
// threads fit): kernel buffers, the driver thread, the swap-device check.
#pragma once

#include "dev/block.h"
#include "kern/arch/riscv/timer.h"
#include "kern/console/printf.h"
#include "kern/sched/sched.h"
#include "kern/sched/thread.h"
#include "lib/page.h"
#include "vm/kmem.h"
#include "vm/swap.h"
#include "vm/tlb.h"

#include <cstdint>

namespace kbench::swapbench {

inline constexpr uint32_t SECTORS_PER_PAGE = uint32_t(PAGE_SIZE / dev::SECTOR_SIZE);
inline constexpr uint64_t LONG_SLEEP_US = 3600ull * 1000000; // an hour: only a wakeup ends it

// Pages mapped contiguously in the kernel VA arena (buffers, and objects too
// big for the BSS of every boot).
struct KBuf {
    uintptr_t va = 0;
    size_t pages = 0;
    size_t want = 0;

    bool make(size_t bytes)
    {
        want = (bytes + PAGE_SIZE - 1) / PAGE_SIZE;
        auto r = vm::kmem::kva().alloc(want * PAGE_SIZE, PAGE_SIZE);
        if (!r.ok())
            return false;
        va = r.value();
        for (; pages < want; pages++) {
            auto pa = vm::kmem::alloc_page(vm::kmem::Class::Normal, true);
            if (!pa.ok())
                return false;
            if (!vm::kmem::map_page(va + pages * PAGE_SIZE, pa.value(), vm::kmem::Perm::ReadWrite).ok()) {
                vm::kmem::free_page(pa.value());
                return false;
            }
        }
        return true;
    }
    ~KBuf()
    {
        if (!va)
            return;
        uint64_t pa[64];
        size_t i = 0;
        while (i < pages) {
            size_t k = 0;
            uintptr_t first = va + i * PAGE_SIZE;
            for (; k < 64 && i < pages; k++, i++)
                pa[k] = vm::kmem::unmap_page(va + i * PAGE_SIZE);
            vm::tlb::shootdown(first, k);
            for (size_t j = 0; j < k; j++)
                if (pa[j])
                    vm::kmem::free_page(pa[j]);
        }
        vm::kmem::kva().free(va, want * PAGE_SIZE);
    }
    template <typename T>
    T* as() const
    {
        return reinterpret_cast<T*>(va);
    }
};

inline uint64_t ticks_to_ns(uint64_t ticks) { return ticks * 1000000000ull / kern::timer::timebase_hz(); }

// Run fn in a TF_NO_SWAP thread on hart 0 and wait for it.
inline void run_driver(const char* name, void (*fn)(void*))
{
    auto r = kern::thread::spawn(
        {.name = name, .entry = fn, .flags = kern::TF_NO_SWAP | kern::TF_BOUND, .hart = 0, .joinable = true});
    if (!r.ok()) {
        kprintf("kbench: error %s: spawn failed\n", name);
        return;
    }
    kern::thread::join(r.value());
}

inline bool have_swap(const char* bench)
{
    if (vm::swap::enabled() && vm::swap::device())
        return true;
    kprintf("kbench: error %s: no swap device in this boot\n", bench);
    return false;
}

inline bool wait_until(uint64_t timeout_us, auto cond)
{
    uint64_t end = kern::timer::now_us() + timeout_us;
    while (!cond()) {
        if (kern::timer::now_us() > end)
            return false;
        kern::sched::sleep_us(200);
    }
    return true;
}

} // namespace kbench::swapbench
