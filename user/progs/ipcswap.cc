// A client blocked in a call long enough for its kernel stack to be swapped
// out (test/kernel/ipc_test.cc does it), then answered: the call must come
// back intact. arg 0: the server (spawns the client with the endpoint as its
// handle 0, holds the first call for 1.5 s, answers two); arg 1: the client.
// With a swap disk that fails every read the client's stack cannot come back
// and its task is killed (test/kernel/kswap_swapper_test.cc): arg 2, the
// server holds the first call 0.3 s and answers it, so the client dies at its
// wakeup; arg 3, it holds it 4 s, past the swapper's early swap-in, so the
// client dies asleep and the answer finds no caller. Either returns 74 if
// the client ended with EXIT_STACK_LOST (-74).
#include "user/lib/zest.h"

using namespace zest;

namespace {
uint8_t g_buf[256];
}

int main(long arg)
{
    if (arg == 1) {
        for (uint64_t round = 0; round < 2; round++) {
            Msg m {{round, 2, 3, 4}, 0};
            for (unsigned i = 0; i < 200; i++)
                g_buf[i] = uint8_t(i + round);
            if (ipc_call(0, m, g_buf, 200, sizeof g_buf) != 0)
                return 1;
            if (m.w[0] != round + 100 || m.w[3] != 4 || m.len != 200)
                return 2;
            for (unsigned i = 0; i < 200; i++)
                if (g_buf[i] != uint8_t(~(i + round)))
                    return 3;
        }
        return 0;
    }
    long ep = ipc_create();
    long kid = spawn_ep("ipcswap", 1, ep);
    if (ep < 0 || kid < 0)
        return 10;
    if (arg == 2 || arg == 3) {
        Msg m {};
        long cap = ipc_receive(ep, m, g_buf, sizeof g_buf);
        if (cap <= 0)
            return 11;
        sleep_us(arg == 2 ? 300000 : 4000000);
        long answered = ipc_reply(cap, m, g_buf, m.len);
        if ((arg == 2) != (answered == 0))
            return 13; // the client was gone too early, or still there
        return int(-task_wait(kid, 0));
    }
    for (int round = 0; round < 2; round++) {
        Msg m {};
        long cap = ipc_receive(ep, m, g_buf, sizeof g_buf);
        if (cap <= 0)
            return 11;
        if (round == 0)
            sleep_us(1500000); // the client sleeps in ipc-call meanwhile
        for (unsigned i = 0; i < m.len; i++)
            g_buf[i] = uint8_t(~g_buf[i]);
        m.w[0] += 100;
        if (ipc_reply(cap, m, g_buf, m.len) != 0)
            return 12;
    }
    long code = task_wait(kid, 0);
    return int(code);
}
