// Executes an illegal instruction (a privileged CSR read): must be killed.
#include "user/lib/zest.h"

int main(long)
{
    uint64_t v;
    asm volatile("csrr %0, sstatus" : "=r"(v));
    return int(v);
}
