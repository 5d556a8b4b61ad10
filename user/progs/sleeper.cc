// Sleeps for arg microseconds (10 s if 0), then exits 7.
#include "user/lib/zest.h"

int main(long arg)
{
    zest::sleep_us(arg ? uint64_t(arg) : SLEEP_MAX_US);
    return 7;
}
