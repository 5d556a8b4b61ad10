// The IPC demo (`spawn ipcdemo [N]` at the shell): a server and N clients
// (default 16) in their own tasks. The server answers one call every 50 ms,
// so at any moment nearly every client sits blocked in a call ("ipc-call" in
// ps), holding no kernel-stack hold: idle long enough, their kernel stacks
// are what the paging daemon swaps out (docs/swap.md). Each client makes 10
// calls and checks the answers; the server reports and exits when all are done.
#include "user/lib/zest.h"

using namespace zest;

namespace {
constexpr uint64_t CLIENT = 1ull << 40;
constexpr unsigned CALLS = 10;
} // namespace

int main(long arg)
{
    if (uint64_t(arg) & CLIENT) {
        uint64_t id = uint64_t(arg) & 0xffff;
        for (uint64_t i = 0; i < CALLS; i++) {
            Msg m {{id, i, id * i, 0}, 0};
            if (ipc_call(0, m, nullptr, 0, 0) != 0 || m.w[3] != id * i + i)
                return 1;
        }
        return 0;
    }
    unsigned n = arg > 0 && arg <= 16 ? unsigned(arg) : 16;
    long ep = ipc_create();
    long kids[16];
    for (unsigned c = 0; c < n; c++)
        kids[c] = spawn_ep("ipcdemo", long(CLIENT | c), ep);
    printf("ipcdemo: server task %ld, %u clients calling; one answer every 50 ms\n", getpid(), n);
    unsigned answered = 0;
    Msg m {};
    long cap = ipc_receive(ep, m, nullptr, 0, 5000000);
    while (cap > 0) {
        sleep_us(50000);
        m.w[3] = m.w[2] + m.w[1];
        if (answered + 1 == n * CALLS) { // the last: no next call to wait for
            answered += ipc_reply(cap, m, nullptr, 0) == 0;
            break;
        }
        // Answer and wait for the next call in one system call. EBADF or
        // EPIPE: the answer did not go, and nothing was received either.
        cap = ipc_reply_receive(cap, ep, m, nullptr, 0, 0, 5000000);
        if (cap == -EBADF || cap == -EPIPE)
            cap = ipc_receive(ep, m, nullptr, 0, 5000000);
        else
            answered++;
    }
    unsigned ok = 0;
    for (unsigned c = 0; c < n; c++)
        ok += kids[c] >= 0 && task_wait(kids[c], 0) == 0;
    printf("ipcdemo: %u calls answered; %u of %u clients checked every answer\n", answered, ok, n);
    return ok == n ? 0 : 1;
}
