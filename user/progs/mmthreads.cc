// mmap, munmap and threads: threads fill their own mmap'd buffers with a
// pattern and check them; the main thread checks every result and unmaps.
// Exits 0 if all is well, ENOMEM if the kernel refused it memory (a bounded
// wait that ran out: docs/user.md), else a code naming the first failure.
#include "user/lib/zest.h"

using namespace zest;

namespace {

constexpr int THREADS = 4;
constexpr size_t LEN = 64 << 10;
volatile long g_result[THREADS];
volatile long g_done[THREADS];

long worker(long i)
{
    long r = mmap(nullptr, LEN, PROT_READ | PROT_WRITE);
    if (r < 0) {
        g_result[i] = r == -ENOMEM ? ENOMEM : 100 + i;
    } else {
        auto* p = reinterpret_cast<uint64_t*>(r);
        for (size_t k = 0; k < LEN / 8; k++)
            if (p[k] != 0)
                g_result[i] = 200 + i; // mmap gives zeroed pages
        for (size_t k = 0; k < LEN / 8; k++)
            p[k] = uint64_t(i) << 32 | k;
        yield();
        for (size_t k = 0; k < LEN / 8; k++)
            if (p[k] != (uint64_t(i) << 32 | k))
                g_result[i] = 300 + i;
        if (munmap(p, LEN) != long(LEN / 4096))
            g_result[i] = 400 + i;
    }
    g_done[i] = 1;
    return 0;
}

} // namespace

int main(long)
{
    // Fixed address, read-only mapping: readable, zero.
    long ro = mmap(reinterpret_cast<void*>(0x2800000000l), 8192, PROT_READ);
    if (ro == -ENOMEM)
        return ENOMEM; // its page tables: memory like any other
    if (ro != 0x2800000000l)
        return 1;
    if (*reinterpret_cast<volatile uint64_t*>(ro) != 0)
        return 2;
    if (mmap(reinterpret_cast<void*>(ro), 4096, PROT_READ) != -EEXIST)
        return 3;
    if (munmap(reinterpret_cast<void*>(ro), 8192) != 2)
        return 4;
    if (munmap(reinterpret_cast<void*>(ro), 8192) != 0)
        return 5;
    // Stacks for the threads, mmap'd too.
    long stacks = mmap(nullptr, THREADS * 16384, PROT_READ | PROT_WRITE);
    if (stacks < 0)
        return stacks == -ENOMEM ? ENOMEM : 6;
    for (int i = 0; i < THREADS; i++) {
        long tid = thread_create(worker, i, reinterpret_cast<void*>(stacks + (i + 1) * 16384));
        if (tid == -ENOMEM)
            return ENOMEM; // the threads made so far end with the task
        if (tid <= 0)
            return 7;
    }
    for (int i = 0; i < THREADS; i++)
        while (!g_done[i])
            sleep_us(1000);
    for (int i = 0; i < THREADS; i++)
        if (g_result[i])
            return int(g_result[i]);
    printf("mmthreads: %d threads mapped, filled, checked and unmapped %d KiB each\n", THREADS, int(LEN >> 10));
    return 0;
}
