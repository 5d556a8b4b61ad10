// The few libgcc helpers the kernel's code needs. Debian's cross libgcc is
// built for lp64d only and cannot be linked into this lp64 (no floating point)
// kernel, so they are written here; GCC calls them for __builtin_ctz and
// friends because the base ISA has no count instructions.
#include <cstdint>

extern "C" {

int __ctzdi2(uint64_t x)
{
    int n = 0;
    while (!(x & 1) && n < 64) {
        x >>= 1;
        n++;
    }
    return n;
}

int __ctzsi2(uint32_t x) { return x ? __ctzdi2(x) : 32; }

int __clzdi2(uint64_t x)
{
    int n = 0;
    for (uint64_t bit = 1ull << 63; bit && !(x & bit); bit >>= 1)
        n++;
    return n;
}

int __popcountdi2(uint64_t x)
{
    int n = 0;
    for (; x; x &= x - 1)
        n++;
    return n;
}
}
