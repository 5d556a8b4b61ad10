// The soak's IPC load (kern/stress/soak.cc): a server that answers slowly, so that
// its callers sit blocked in ipc-call long enough for their kernel stacks to
// be swapped out, and clients that check every answer.
//
// Server (bit 40 clear): bits 0..15 how long it holds each call, in ms;
// makes an endpoint (handle 0; the soak spawns the clients with it) and
// answers calls on it until none has come for 10 s (the kernel
// kills it at the end of the soak). Exit 0, or 2 if a message came in wrong.
// Client (bit 40 set): id in bits 0..7, calls in bits 8..23: each call sends
// a random buffer with its checksum and checks the answer (every byte
// inverted, the words changed). Exit 0; 3 for a wrong answer (never allowed);
// 5 if the call failed (the server went, killed) or 6 if it timed out.
#include "user/lib/zest.h"

using namespace zest;

namespace {

constexpr uint64_t CLIENT = 1ull << 40, MAGIC = 0x50a4;
constexpr size_t MAX_LEN = 1024;
constexpr uint64_t CALL_TIMEOUT_US = IPC_TIMEOUT_MAX;

uint8_t g_buf[MAX_LEN];

int client(uint64_t arg)
{
    unsigned id = unsigned(arg) & 0xff, calls = unsigned(arg >> 8) & 0xffff;
    Random r(arg * 2654435761u + 1);
    for (unsigned i = 0; i < calls; i++) {
        size_t len = r.below(MAX_LEN + 1);
        for (size_t k = 0; k < len; k++)
            g_buf[k] = uint8_t(r.next());
        uint64_t sum = checksum(g_buf, len);
        Msg m {{MAGIC, sum, i, id}, 0};
        long e = ipc_call(0, m, g_buf, len, MAX_LEN, CALL_TIMEOUT_US);
        if (e == -ETIMEDOUT)
            return 6;
        if (e == -ENOMEM)
            return ENOMEM; // its first call found no memory for its IPC record in time
        if (e != 0) {
            printf("ipcsoak client %u: call %u failed: error %ld\n", id, i, -e);
            return 5;
        }
        for (size_t k = 0; k < len; k++)
            g_buf[k] = uint8_t(~g_buf[k]);
        if (m.w[0] != MAGIC + 1 || m.w[1] != sum || m.w[2] != i + 1 || m.w[3] != id || m.len != len ||
            checksum(g_buf, len) != sum) {
            printf("ipcsoak client %u: call %u: wrong answer\n", id, i);
            return 3;
        }
    }
    return 0;
}

int server(uint64_t arg)
{
    uint64_t hold_us = (arg & 0xffff) * 1000;
    long ep = ipc_create(); // handle 0: the kernel gives it to the clients
    if (ep == -ENOMEM)
        return ENOMEM;
    if (ep != 0)
        return 10;
    int bad = 0;
    for (;;) {
        Msg m {};
        long cap = ipc_receive(0, m, g_buf, sizeof g_buf, IPC_TIMEOUT_MAX);
        if (cap == -ETIMEDOUT)
            return bad;
        if (cap <= 0)
            continue; // a plain send, or a caller that left
        if (m.w[0] != MAGIC || checksum(g_buf, m.len) != m.w[1])
            bad = 2;
        if (hold_us)
            sleep_us(hold_us);
        for (size_t k = 0; k < m.len; k++)
            g_buf[k] = uint8_t(~g_buf[k]);
        m = {{m.w[0] + 1, m.w[1], m.w[2] + 1, m.w[3]}, m.len};
        (void)ipc_reply(cap, m, g_buf, m.len); // EPIPE: the caller was killed meanwhile
    }
}

} // namespace

int main(long arg)
{
    return uint64_t(arg) & CLIENT ? client(uint64_t(arg)) : server(uint64_t(arg));
}
