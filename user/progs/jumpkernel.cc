// Jumps to the kernel's entry point: must be killed (no U bit on kernel text).
#include "user/lib/zest.h"

int main(long)
{
    auto fn = reinterpret_cast<void (*)()>(0x80200000ull);
    fn();
    return 0;
}
