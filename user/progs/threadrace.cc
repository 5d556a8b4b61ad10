// After arg microseconds, races thread creations at the task's thread limit: the main thread and
// CREATORS-1 more each try ATTEMPTS creations at once (each new thread sleeps
// until the task ends), retrying a creation refused for memory (ENOMEM) so
// that every attempt ends in a thread or EAGAIN. Exits 0 if exactly the limit
// was reached (TASK_MAX_THREADS threads in all, one more refused), 1000 +
// the number created otherwise, 2 if memory never came.
#include "user/lib/zest.h"

using namespace zest;

namespace {

constexpr int CREATORS = 4;
constexpr int ATTEMPTS = 50; // 200 in all
constexpr size_t STACK = 4096;
constexpr long MEMORY_RETRIES = 100000;

// A stack for every attempt and every creator: an attempt's thread runs on
// its own at once, whatever the others do.
alignas(16) char g_stacks[CREATORS * ATTEMPTS + CREATORS][STACK];
volatile int g_go;
volatile int g_done;
volatile int g_created;
volatile int g_no_memory;

long sleeper(long)
{
    for (;;)
        sleep_us(SLEEP_MAX_US);
}

void attempts(int creator)
{
    while (!g_go)
        yield();
    for (int i = 0; i < ATTEMPTS; i++) {
        char* top = g_stacks[creator * ATTEMPTS + i] + STACK;
        long r = -ENOMEM;
        for (long k = 0; r == -ENOMEM && k < MEMORY_RETRIES; k++)
            r = thread_create(sleeper, 0, top);
        if (r > 0)
            __atomic_fetch_add(&g_created, 1, __ATOMIC_RELAXED);
        else if (r == -ENOMEM)
            g_no_memory = 1;
    }
}

long creator(long i)
{
    attempts(int(i));
    __atomic_fetch_add(&g_done, 1, __ATOMIC_RELEASE);
    for (;;)
        sleep_us(SLEEP_MAX_US);
}

} // namespace

int main(long delay_us)
{
    if (delay_us)
        sleep_us(uint64_t(delay_us));
    for (int i = 1; i < CREATORS; i++)
        if (thread_create(creator, i, g_stacks[CREATORS * ATTEMPTS + i] + STACK) <= 0)
            return 3;
    g_go = 1;
    attempts(0);
    while (__atomic_load_n(&g_done, __ATOMIC_ACQUIRE) != CREATORS - 1)
        sleep_us(1000);
    if (g_no_memory)
        return 2;
    int created = g_created;
    bool one_more_refused = thread_create(sleeper, 0, g_stacks[0] + STACK) == -EAGAIN;
    if (created == TASK_MAX_THREADS - CREATORS && one_more_refused)
        return 0;
    return 1000 + created;
}
