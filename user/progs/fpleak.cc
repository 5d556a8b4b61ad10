// No FP register value crosses from one task to another.
// arg 1, the filler: loads all 32 registers and fcsr with a pattern and
// yields with them loaded, forever (checking they come back; exits 10 if
// not), so the registers of any hart it ran on hold the pattern.
// arg 0, the reader: its very first FP instructions store the registers as
// it finds them, which must be zeros (a fresh thread's first FP instruction
// traps and gets a zeroed context loaded). Exits 0, or 1 + the first
// register that is not zero (33: fcsr).
#include "user/lib/fpregs.h"
#include "user/lib/zest.h"

using namespace zest;

int main(long arg)
{
    FpRegs seen;
    if (arg == 0) {
        fp_read(seen);
        for (int k = 0; k < 32; k++)
            if (seen.f[k])
                return 1 + k;
        return seen.fcsr ? 33 : 0;
    }
    FpRegs in;
    fp_pattern(in, uint64_t(getpid()));
    for (;;) {
        fp_round_trip(in, seen, SYS_YIELD, 0, 0);
        if (!fp_equal(in, seen))
            return 10;
    }
}
