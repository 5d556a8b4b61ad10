#include "kern/debug/debug_stop.h"

namespace kern {

// The asm barrier keeps the call (and `why`, which gdb prints) from being
// optimised away: an empty function with no side effects could be dropped
// at its call sites.
void debug_stop(const char* why)
{
    asm volatile("" : : "r"(why) : "memory");
}

} // namespace kern
