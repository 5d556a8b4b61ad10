// Makes the kernel spend page tables: one page in every 2 MiB region of the
// mmap area (each needs a page-table page of its own), until refused. Then
// sleeps for good if arg is 1 (holding it all), else exits with the error
// number of the refused mmap.
#include "user/lib/zest.h"

using namespace zest;

int main(long arg)
{
    constexpr uint64_t BASE = 0x2000000000ul; // vm/layout.h's USER_MMAP_BASE
    constexpr uint64_t REGION = 2ul << 20;
    long r = 0;
    for (uint64_t at = BASE; r >= 0; at += REGION)
        r = mmap(reinterpret_cast<void*>(at), 4096, PROT_READ | PROT_WRITE);
    if (arg == 1)
        for (;;)
            sleep_us(SLEEP_MAX_US);
    return int(-r);
}
