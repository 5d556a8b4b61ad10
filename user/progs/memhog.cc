// Takes all the memory it may, 64 KiB at a time. arg: low 32 bits a delay in
// microseconds before it starts; MEMHOG_HOLD (bit 32): once refused, sleep
// forever holding what it got. Exits with the error number of the mmap that
// was refused.
#include "user/lib/zest.h"

using namespace zest;

namespace {
constexpr long HOLD = 1l << 32;
constexpr size_t CHUNK = 64 << 10;
} // namespace

int main(long arg)
{
    if (uint32_t(arg))
        sleep_us(uint32_t(arg));
    long r;
    do
        r = mmap(nullptr, CHUNK, PROT_READ | PROT_WRITE);
    while (r >= 0);
    if (arg & HOLD)
        for (;;)
            sleep_us(SLEEP_MAX_US);
    return int(-r);
}
