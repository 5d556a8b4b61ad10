// Jumps into its own data (a `ret` placed in a writable array): must be
// killed, since data pages are never executable.
#include "user/lib/zest.h"

uint32_t code[4] = {0x00008067, 0, 0, 0}; // ret

int main(long)
{
    auto fn = reinterpret_cast<void (*)()>(reinterpret_cast<uintptr_t>(code));
    fn();
    return 0;
}
