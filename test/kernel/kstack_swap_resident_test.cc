// What a thread keeps resident once its stack is on swap, measured from free
// pages (test/kernel/swap_resident.h): held under RESIDENT_LIMIT. docs/swap.md
// has the parts: Thread 272 B, stack record 96, swap record 48, the stack
// region's page tables 64 and slot table 8 (488 B); 456 measured here. The
// limit leaves room for one 32 KiB slab of Threads (32 B each) more. Asked
// for by name (virt-swap-smp1-128M): after a thread churn the zones hold room
// for these threads and free pages would not show their cost.
#include "test/kernel/ktest.h"
#include "test/kernel/kswap_test.h"
#include "test/kernel/swap_resident.h"

using namespace ktest::kswap;

namespace {
constexpr unsigned N = 1024; // zone slabs and page tables show; half of an 8 MiB swap disk
constexpr uint64_t RESIDENT_LIMIT = 496;
kern::Thread* g_th[N];
} // namespace

KTEST_EXPLICIT(kswap_resident_bytes_per_swapped_thread)
{
    if (no_swap_device("kswap_resident_bytes_per_swapped_thread"))
        return;
    kstack::swap::Stats s0 = kstack::swap::stats();
    // Free pages are the whole machine's: memory something else gave back
    // meanwhile (a cache trimmed, a stack shrunk) can hide the threads' cost.
    // A run that saw no pages go is measured again, up to three times.
    ktest::swapres::Cost c;
    for (int run = 1; run <= 3; run++) {
        c = ktest::swapres::measure(g_th, N);
        kprintf("ktest: kswap_resident_bytes_per_swapped_thread: run %d: %u threads, %u on swap, %lu pages: "
                "%lu bytes each%s%s\n",
                run, c.threads, c.swapped, c.pages, c.bytes_per_thread, *c.why ? "; " : "", c.why);
        if (c.pages > 0)
            break;
    }
    KEXPECT_EQ(c.threads, N);
    KEXPECT_EQ(c.swapped, N);
    KEXPECT(c.bytes_per_thread > 0);
    KEXPECT(c.bytes_per_thread <= RESIDENT_LIMIT);
    kstack::swap::Stats s1 = kstack::swap::stats();
    KEXPECT_EQ(s1.checksum_errors, s0.checksum_errors);
    KEXPECT_EQ(s1.killed, s0.killed);
}
