// The smallest program: exit(42) with one ecall, nothing else.
#include "user/abi.h"

extern "C" int main(long)
{
    register long a0 asm("a0") = 42;
    register long a7 asm("a7") = SYS_EXIT;
    asm volatile("ecall" : "+r"(a0) : "r"(a7));
    return 0;
}
