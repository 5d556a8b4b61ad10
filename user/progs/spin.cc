// Runs until killed: a thread that spins and one that sleeps (kill must end
// both, the sleeper without waiting out its sleep).
#include "user/lib/zest.h"

using namespace zest;

namespace {
long sleeper(long) {
    for (;;)
        sleep_us(SLEEP_MAX_US);
}
char stack[8192] __attribute__((aligned(16)));
} // namespace

int main(long)
{
    thread_create(sleeper, 0, stack + sizeof stack);
    for (;;)
        asm volatile("" ::: "memory");
}
