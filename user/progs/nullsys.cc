// Benchmark: system-call entry and exit in instructions (rdinstret; exact
// under QEMU -icount). arg: calls per sample (default 1000) in the low 32
// bits, the system-call number in the high 32 (default getpid). The same
// loop with a nop in place of the ecall is the baseline; the exit code is the
// median net cost per call times 100.
#include "user/lib/zest.h"

using namespace zest;

namespace {

constexpr int SAMPLES = 15;

template <bool Call>
__attribute__((noinline)) uint64_t loop(long nr, uint64_t n)
{
    uint64_t t0 = rdinstret();
    for (uint64_t i = 0; i < n; i++) {
        register long a0 asm("a0") = 0;
        register long a7 asm("a7") = nr;
        if constexpr (Call)
            asm volatile("ecall" : "+r"(a0) : "r"(a7) : "memory");
        else
            asm volatile("nop" : "+r"(a0) : "r"(a7) : "memory");
    }
    return rdinstret() - t0;
}

} // namespace

int main(long arg)
{
    uint64_t n = uint64_t(arg) & 0xffffffff;
    long nr = long(uint64_t(arg) >> 32);
    if (!n)
        n = 1000;
    if (!nr)
        nr = SYS_GETPID;
    uint64_t call[SAMPLES], base[SAMPLES];
    for (int k = 0; k < SAMPLES; k++) {
        call[k] = loop<true>(nr, n);
        base[k] = loop<false>(nr, n);
    }
    uint64_t c = median(call, SAMPLES), b = median(base, SAMPLES);
    return int(c > b ? (c - b) * 100 / n : 0);
}
