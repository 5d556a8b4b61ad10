// IPC ping-pong: a server and several client tasks exchanging checksummed
// messages, small (register words only) and large (up to IPC_MSG_MAX bytes).
//
// arg: clients (bits 0..7, default 3), round trips per client (bits 8..31,
// default 1000). As the server (no bit 32): make an endpoint, spawn the
// clients with it as their handle 0, answer every call (words changed, bytes
// each plus one, the checksum of what came), count the clients' goodbyes (a
// plain send), then wait for each. As a client (bit 32, id in bits 40..47):
// call, check the answer, send goodbye. Exit 0 when everything matched.
#include "user/lib/zest.h"

using namespace zest;

namespace {

constexpr uint64_t BYE = 0xb7e, ECHO = 0xec0;
constexpr uint64_t CLIENT = 1ull << 32;

uint8_t g_buf[IPC_MSG_MAX];

int client(uint64_t arg)
{
    unsigned id = unsigned(arg >> 40) & 0xff, rounds = unsigned(arg >> 8) & 0xffffff;
    Random r(id * 7919 + 1);
    for (unsigned i = 0; i < rounds; i++) {
        size_t len = r.below(3) == 0 ? 0 : r.below(IPC_MSG_MAX + 1); // a third small
        for (size_t k = 0; k < len; k++)
            g_buf[k] = uint8_t(r.next());
        Msg m {{ECHO, checksum(g_buf, len), i, id}, 0};
        uint64_t want = checksum(g_buf, len);
        long e = ipc_call(0, m, g_buf, len, IPC_MSG_MAX);
        if (e != 0) {
            printf("ipcpp client %u: call %u failed: %ld\n", id, i, e);
            return 2;
        }
        for (size_t k = 0; k < len; k++)
            g_buf[k] = uint8_t(g_buf[k] - 1);
        if (m.w[0] != ECHO + 1 || m.w[1] != want || m.w[2] != i + 1 || m.w[3] != id || m.len != len ||
            checksum(g_buf, len) != want) {
            printf("ipcpp client %u: round %u: bad reply (%lx %lx %lu %lu, len %lu of %lu)\n", id, i, m.w[0],
                   m.w[1], m.w[2], m.w[3], m.len, len);
            return 3;
        }
    }
    Msg bye {{BYE, id, 0, 0}, 0};
    return ipc_send(0, bye, nullptr, 0) == 0 ? 0 : 4;
}

int server(uint64_t arg)
{
    unsigned n = unsigned(arg) & 0xff, rounds = unsigned(arg >> 8) & 0xffffff;
    if (!n)
        n = 3;
    if (!rounds)
        rounds = 1000;
    long ep = ipc_create();
    if (ep < 0)
        return 10;
    long kids[16];
    for (unsigned c = 0; c < n && c < 16; c++) {
        kids[c] = spawn_ep("ipcpp", long(CLIENT | (uint64_t(c) << 40) | (uint64_t(rounds) << 8)), ep);
        if (kids[c] < 0) {
            printf("ipcpp: spawn failed: %ld\n", kids[c]);
            return 11;
        }
    }
    unsigned byes = 0, bad = 0;
    uint64_t served = 0;
    Msg m {};
    long cap = ipc_receive(ep, m, g_buf, sizeof g_buf);
    for (;;) {
        if (cap < 0) {
            printf("ipcpp: receive failed: %ld\n", cap);
            return 12;
        }
        if (cap == 0) {
            byes += m.w[0] == BYE;
            if (byes == n)
                break;
            cap = ipc_receive(ep, m, g_buf, sizeof g_buf);
            continue;
        }
        if (m.w[0] != ECHO || checksum(g_buf, m.len) != m.w[1])
            bad++;
        for (size_t k = 0; k < m.len; k++)
            g_buf[k] = uint8_t(g_buf[k] + 1);
        // w1: the checksum as it came, which the client compares with what it
        // sent. The answer and the wait for the next message in one call
        // (register-only answers can take the fast path). EBADF or EPIPE:
        // the answer did not go, and nothing was received either.
        m = {{m.w[0] + 1, m.w[1], m.w[2] + 1, m.w[3]}, m.len};
        cap = ipc_reply_receive(cap, ep, m, g_buf, m.len, sizeof g_buf);
        if (cap == -EBADF || cap == -EPIPE) {
            bad++;
            cap = ipc_receive(ep, m, g_buf, sizeof g_buf);
        }
        served++;
    }
    int fails = 0;
    for (unsigned c = 0; c < n; c++) {
        long code = task_wait(kids[c], 0);
        if (code != 0) {
            printf("ipcpp: client %u exited with %ld\n", c, code);
            fails++;
        }
    }
    printf("ipcpp: %u clients, %lu round trips served, %u bad\n", n, served, bad);
    (void)ipc_destroy(ep);
    return fails || bad ? 1 : 0;
}

} // namespace

int main(long arg)
{
    return uint64_t(arg) & CLIENT ? client(uint64_t(arg)) : server(uint64_t(arg));
}
