// Spawns copies of itself, arg levels deep, each spawning until refused
// (EAGAIN: a limit on children or tasks; ENOMEM: memory), then sleeps for
// good. Only kills end it.
#include "user/lib/zest.h"

using namespace zest;

int main(long depth)
{
    if (depth > 0)
        while (spawn("forkbomb", depth - 1) > 0) {
        }
    for (;;)
        sleep_us(SLEEP_MAX_US);
}
