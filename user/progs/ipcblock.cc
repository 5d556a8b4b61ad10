// Every thread it may have blocks for good on an endpoint nobody serves:
// threads are created until the limit (EAGAIN), each then waits in
// ipc_receive with no timeout, and so does the main thread. Only a kill
// ends it. Exits 1 if the endpoint cannot be made.
#include "user/lib/zest.h"

using namespace zest;

namespace {

constexpr size_t STACK = 4096;
constexpr int MAX = 256; // more than any limit a test sets
alignas(16) char g_stacks[MAX][STACK];
long g_ep;

long receiver(long)
{
    Msg m {};
    for (;;)
        ipc_receive(g_ep, m, nullptr, 0);
}

} // namespace

int main(long delay_us)
{
    if (delay_us)
        sleep_us(uint64_t(delay_us));
    g_ep = ipc_create();
    if (g_ep < 0)
        return 1;
    for (int i = 0; i < MAX; i++) {
        long r = thread_create(receiver, 0, g_stacks[i] + STACK);
        if (r == -EAGAIN)
            break;
        if (r == -ENOMEM)
            i--;
    }
    receiver(0);
    return 0;
}
