// Floating point across switches. THREADS threads each run, in rounds that
// yield, sleep or spin long enough to be preempted (with arg's other tasks
// and threads sharing the harts):
//   - Fibonacci in doubles (exact up to F(78) < 2^53), checked against the
//     same numbers in integers;
//   - a sum of 1..N in floats (exact below 2^24), checked against N(N+1)/2;
//   - a logistic map x <- r x (1 - x) in doubles and in floats, chaotic, so a
//     single changed bit anywhere shows; checked against the same function
//     run by the main thread alone before any thread started;
//   - all 32 registers and fcsr loaded with a pattern of the thread's own
//     across a yield, a sleep or a spin (user/lib/fpregs.h).
// arg: a seed (the ktest runs several tasks with different ones). Exits 0 if
// all matched, else a code naming the first failure (10s: Fibonacci, 20s:
// sum, 30s: logistic map, 40s: registers, 1-3: set-up), and prints a line.
#include "user/lib/fpregs.h"
#include "user/lib/zest.h"

using namespace zest;

namespace {

constexpr int THREADS = 4;
constexpr int ROUNDS = 12;
constexpr long SPIN = 2000000;
volatile long g_result[THREADS];
volatile long g_done[THREADS];
long g_seed;

struct Logistic {
    double d;
    float f;
};

// The pause between steps of round `round`: a yield, a sleep or a spin.
void pause(int round)
{
    switch (round % 3) {
    case 0: yield(); break;
    case 1: sleep_us(300); break;
    default:
        for (long i = 0; i < SPIN / 4; i++)
            asm volatile("");
    }
}

// `steps` steps of the map from a start given by seed; with pauses when
// `switching` (the threads), without (the main thread's reference). Not
// inlined: both callers run the very same instructions.
[[gnu::noinline]] Logistic logistic(long seed, int steps, bool switching)
{
    double x = 0.1 + double(seed % 97) / 200.0;
    float y = 0.2f + float(seed % 89) / 300.0f;
    const double r = 3.9;
    const float rf = 3.7f;
    for (int i = 0; i < steps; i++) {
        x = r * x * (1.0 - x);
        y = rf * y * (1.0f - y);
        if (switching && i % 50 == 0)
            pause(i / 50);
    }
    return {x, y};
}

constexpr int LOGISTIC_STEPS = 600;
Logistic g_want[THREADS];

long worker(long i)
{
    long seed = g_seed * THREADS + i;
    long fail = 0;
    for (int round = 0; round < ROUNDS && !fail; round++) {
        // Fibonacci: doubles against integers.
        double a = 0, b = 1;
        uint64_t ia = 0, ib = 1;
        for (int k = 0; k < 78; k++) {
            double c = a + b;
            a = b;
            b = c;
            uint64_t ic = ia + ib;
            ia = ib;
            ib = ic;
            if (k % 26 == 0)
                pause(round + k);
        }
        if (a != double(ia) || uint64_t(a) != ia)
            fail = 10 + i;
        // Sum of 1..N in floats: exact.
        float s = 0;
        const int n = 4000 + int(seed % 500);
        for (int k = 1; k <= n; k++) {
            s += float(k);
            if (k % 1500 == 0)
                pause(round + k);
        }
        if (!fail && s != float(uint64_t(n) * (n + 1) / 2))
            fail = 20 + i;
        // The logistic map against the reference.
        Logistic got = logistic(seed, LOGISTIC_STEPS, true);
        if (!fail && (got.d != g_want[i].d || got.f != g_want[i].f))
            fail = 30 + i;
        // Every register.
        FpRegs in, out;
        fp_pattern(in, uint64_t(seed) * ROUNDS + round);
        switch (round % 3) {
        case 0: fp_round_trip(in, out, SYS_YIELD, 0, 0); break;
        case 1: fp_round_trip(in, out, SYS_SLEEP, 500, 0); break;
        default: fp_round_trip(in, out, -1, 0, SPIN); break;
        }
        if (!fail && !fp_equal(in, out))
            fail = 40 + i;
    }
    g_result[i] = fail;
    g_done[i] = 1;
    return 0;
}

} // namespace

int main(long arg)
{
    g_seed = arg;
    for (int i = 0; i < THREADS; i++)
        g_want[i] = logistic(g_seed * THREADS + i, LOGISTIC_STEPS, false);
    long stacks = mmap(nullptr, THREADS * 16384, PROT_READ | PROT_WRITE);
    if (stacks < 0)
        return stacks == -ENOMEM ? ENOMEM : 1;
    for (int i = 0; i < THREADS; i++) {
        long tid = thread_create(worker, i, reinterpret_cast<void*>(stacks + (i + 1) * 16384));
        if (tid == -ENOMEM)
            return ENOMEM;
        if (tid <= 0)
            return 2;
    }
    for (int i = 0; i < THREADS; i++)
        while (!g_done[i])
            sleep_us(1000);
    for (int i = 0; i < THREADS; i++)
        if (g_result[i]) {
            printf("fpmix %ld: thread %d failed with %ld\n", arg, i, g_result[i]);
            return int(g_result[i]);
        }
    printf("fpmix %ld: %d threads x %d rounds of FP recurrences matched (logistic %.6f)\n", arg, THREADS, ROUNDS,
           g_want[0].d);
    return 0;
}
