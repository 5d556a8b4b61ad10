// Corners of the limits, by arg:
// 1: a thread's task_wait that times out keeps the child's slot: while it
//    waits the other thread can spawn only 15 more children (of 16), and
//    after it the child is back without passing the limit. Exits 0 if so,
//    100 + the children spawned meanwhile otherwise.
// 2: a call with IPC_POLL that a server took but never answers ends with
//    ETIMEDOUT (after IPC_TIMEOUT_MAX) instead of waiting forever. Exits 0
//    if so, 1 otherwise.
#include "user/lib/zest.h"

using namespace zest;

namespace {

alignas(16) char g_stack[8192];
volatile long g_result;
volatile int g_done;

long waiter(long child)
{
    g_result = task_wait(child, 200000);
    __atomic_store_n(&g_done, 1, __ATOMIC_RELEASE);
    return 0;
}

long server(long h)
{
    Msg m {};
    ipc_receive(h, m, nullptr, 0); // takes the call and never replies
    for (;;)
        ipc_receive(h, m, nullptr, 0);
}

int wait_keeps_the_slot()
{
    long c0 = spawn("sleeper", 600000);
    if (c0 <= 0)
        return 2;
    if (thread_create(waiter, c0, g_stack + sizeof g_stack) <= 0)
        return 3;
    sleep_us(50000); // the waiter has taken c0 off the list
    int n = 0;
    while (spawn("sleeper", 600000) > 0)
        n++;
    while (!__atomic_load_n(&g_done, __ATOMIC_ACQUIRE))
        sleep_us(10000);
    bool full = spawn("sleeper", 600000) == -EAGAIN; // c0 is back, 16 in all
    return g_result == -ETIMEDOUT && n == 15 && full ? 0 : 100 + n;
}

int polled_call_is_bounded()
{
    long h = ipc_create();
    if (h < 0)
        return 2;
    if (thread_create(server, h, g_stack + sizeof g_stack) <= 0)
        return 3;
    sleep_us(50000); // the server waits in receive
    Msg m {};
    return ipc_call(h, m, nullptr, 0, 0, IPC_POLL) == -ETIMEDOUT ? 0 : 1;
}

} // namespace

int main(long arg)
{
    if (arg == 1)
        return wait_keeps_the_slot();
    if (arg == 2)
        return polled_call_is_bounded();
    return 4;
}
