// Reads a kernel address (the direct map): must be killed.
#include "user/lib/zest.h"

int main(long)
{
    volatile uint64_t* p = reinterpret_cast<volatile uint64_t*>(0xffffffc080200000ull);
    zest::printf("badread: reading %p\n", (void*)p);
    return int(*p);
}
