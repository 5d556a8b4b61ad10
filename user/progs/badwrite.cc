// Writes into the kernel image (identity-mapped, no U bit): must be killed.
#include "user/lib/zest.h"

int main(long)
{
    volatile uint64_t* p = reinterpret_cast<volatile uint64_t*>(0x80200000ull);
    *p = 0xdead;
    return 0;
}
