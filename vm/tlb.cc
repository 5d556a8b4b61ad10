#include "vm/tlb.h"

#include "kern/arch/riscv/hart.h"
#include "kern/arch/riscv/sbi.h"
#include "lib/page.h"

#include <atomic>

namespace vm::tlb {
namespace {

std::atomic<uint64_t> g_shootdowns, g_pages, g_full;

// Every online hart but this one, as an SBI hart mask. SBI masks are relative
// to a base hart id; Zest's hart ids fit in one 64-bit mask from base 0.
unsigned long others_mask()
{
    unsigned long mask = 0;
    unsigned me = cpu::id();
    for (unsigned i = 0; i < cpu::MAX_HARTS; i++) {
        const kern::HartLocal& h = kern::hart(i);
        if (i != me && h.online.load(std::memory_order_acquire))
            mask |= 1ul << h.hartid;
    }
    return mask;
}

void remote(uintptr_t start, size_t size)
{
    unsigned long mask = others_mask();
    if (mask)
        sbi::remote_sfence_vma(mask, 0, start, size);
    g_shootdowns.fetch_add(1, std::memory_order_relaxed);
}

} // namespace

void shootdown(uintptr_t va, size_t npages)
{
    for (size_t i = 0; i < npages; i++)
        flush_local(va + i * PAGE_SIZE);
    remote(va, npages * PAGE_SIZE);
    g_pages.fetch_add(npages, std::memory_order_relaxed);
}

void shootdown_all()
{
    flush_local_all();
    // SBI: a size of all ones (or a start and size of 0 and -1) means everything.
    remote(0, ~size_t(0));
    g_full.fetch_add(1, std::memory_order_relaxed);
}

void Batch::add(uintptr_t va)
{
    if (n_ == MAX) {
        overflowed_ = true;
        return;
    }
    va_[n_++] = va;
}

void Batch::flush()
{
    if (overflowed_) {
        shootdown_all();
    } else if (n_ > 0) {
        // One remote call covering the lowest to the highest address, unless they
        // are scattered so widely that a full flush is cheaper for the targets.
        uintptr_t lo = va_[0], hi = va_[0];
        for (unsigned i = 0; i < n_; i++) {
            lo = va_[i] < lo ? va_[i] : lo;
            hi = va_[i] > hi ? va_[i] : hi;
            flush_local(va_[i]);
        }
        size_t span = (hi - lo) / PAGE_SIZE + 1;
        if (span > 4 * MAX) {
            flush_local_all();
            remote(0, ~size_t(0));
            g_full.fetch_add(1, std::memory_order_relaxed);
        } else {
            remote(lo, span * PAGE_SIZE);
        }
        g_pages.fetch_add(n_, std::memory_order_relaxed);
    }
    n_ = 0;
    overflowed_ = false;
}

Stats stats() { return {g_shootdowns.load(), g_pages.load(), g_full.load()}; }

} // namespace vm::tlb
