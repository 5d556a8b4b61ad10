// A seeded random sequence of IPC calls, answers, timeouts and kills whose
// every outcome is fixed by the seed, whichever path the kernel takes: the
// exit code is a hash of every return code and every word that came back
// (the answers name the server and how many calls it had served: who ran,
// in what order). ipc_fast_and_general_paths_agree (test/kernel/ipc_test.cc)
// runs it with the fast path on and off and compares.
//
// arg: the seed in bits 0..31; bits 40..47 the role (0 the driver, 1 the
// main server, 2 a server killed while it waits, 3 a client killed while its
// call is held).
#include "user/lib/zest.h"

using namespace zest;

namespace {

enum Op : uint64_t {
    ECHO = 1,  // answered with reply_receive (words only: the fast path)
    BYTES,     // sent with 8 bytes (general path), answered the same way
    SPLIT,     // answered with reply, then a separate receive
    HOLD,      // received and not answered; the next receive is a plain one
    ANSWER,    // answer the held call first (its result in w1), then this
    QUERY,     // w1: 1 if a call is held
    QUIT,
};

constexpr uint64_t ROLE_SHIFT = 40;
constexpr uint64_t HOLD_TIMEOUT_US = 100000;

struct Rng {
    uint64_t s;
    uint64_t next()
    {
        s ^= s << 13;
        s ^= s >> 7;
        s ^= s << 17;
        return s;
    }
};

struct Hash {
    uint64_t h = 1469598103934665603ull;
    void add(uint64_t v)
    {
        for (int i = 0; i < 8; i++) {
            h ^= (v >> (8 * i)) & 0xff;
            h *= 1099511628211ull;
        }
    }
    void add(long r, const Msg& m)
    {
        add(uint64_t(r));
        if (r >= 0)
            for (uint64_t w : m.w)
                add(w);
    }
};

// A server on handle 0: role 1 or 2 (named in its answers).
int server(uint64_t role)
{
    Msg m {};
    uint64_t served = 0;
    long held = 0;
    long cap = ipc_receive(0, m, nullptr, 0);
    for (;;) {
        if (cap <= 0)
            return 10;
        uint64_t op = m.w[0];
        if (op != QUERY) // the driver's polls for a held call depend on timing
            served++;
        if (op == HOLD) {
            held = cap;
            cap = ipc_receive(0, m, nullptr, 0);
            continue;
        }
        long answered = 0;
        if (op == ANSWER) {
            Msg a {{ANSWER, 0, 0, 0}, 0};
            answered = held ? ipc_reply(held, a, nullptr, 0) : -9999;
            held = 0;
        }
        Msg r {{op + 1, m.w[1] ^ served, m.len, role * 1000 + served}, 0};
        if (op == ANSWER)
            r.w[1] = uint64_t(answered);
        if (op == QUERY)
            r.w[1] = held != 0;
        if (op == QUIT)
            return ipc_reply(cap, r, nullptr, 0) == 0 ? 0 : 11;
        if (op == SPLIT) {
            if (ipc_reply(cap, r, nullptr, 0) != 0)
                return 12;
            cap = ipc_receive(0, m, nullptr, 0);
        } else {
            m = r;
            cap = ipc_reply_receive(cap, 0, m, nullptr, 0, 0);
        }
    }
}

// Role 3: a call the server holds until this task is killed.
int held_client()
{
    Msg m {{HOLD, 0, 0, 0}, 0};
    (void)ipc_call(0, m, nullptr, 0, 0);
    return 20; // only if the call came back: the kill should end it first
}

// Call with a random word; hash what comes back.
long call(long h, Hash& hs, Rng& rng, uint64_t op, uint64_t timeout = 0)
{
    Msg m {{op, rng.next(), rng.next(), rng.next()}, 0};
    long r = ipc_call(h, m, nullptr, 0, 0, timeout);
    hs.add(r, m);
    return r;
}

// Wait until the server holds a call (the number of tries is not hashed:
// it depends on timing).
void wait_held(Rng& rng)
{
    for (int i = 0; i < 5000; i++) {
        Msg m {{QUERY, rng.s, 0, 0}, 0};
        if (ipc_call(0, m, nullptr, 0, 0) == 0 && m.w[1] == 1)
            return;
        sleep_us(1000);
    }
}

int driver(uint64_t seed)
{
    Rng rng {seed * 2654435761u + 1};
    Hash hs;
    long ep = ipc_create(), idle = ipc_create();
    if (ep != 0 || idle != 1)
        return -1;
    long srv = spawn_ep("ipcrand", long(1ull << ROLE_SHIFT | seed), ep);
    if (srv < 0)
        return -2;
    unsigned holds = 0, kills = 0;
    for (int i = 0; i < 400; i++) {
        uint64_t pick = rng.next() % 100;
        if (pick < 60) {
            call(ep, hs, rng, ECHO);
        } else if (pick < 70) {
            uint64_t bytes = rng.next();
            Msg m {{BYTES, rng.next(), 0, 0}, 0};
            long r = ipc_call(ep, m, &bytes, 8, 0);
            hs.add(r, m);
        } else if (pick < 80) {
            call(ep, hs, rng, SPLIT);
        } else if (pick < 88) {
            // Nobody serves `idle`: the call and the receive time out, a poll fails.
            call(idle, hs, rng, ECHO, 1000);
            Msg m {};
            hs.add(ipc_receive(idle, m, nullptr, 0, 1000), m);
            call(idle, hs, rng, ECHO, IPC_POLL);
        } else if (pick < 92 && holds < 6) {
            // Received and never answered in time: ETIMEDOUT; the late answer
            // finds the caller gone (EPIPE).
            holds++;
            call(ep, hs, rng, HOLD, HOLD_TIMEOUT_US);
            call(ep, hs, rng, ANSWER);
        } else if (pick < 96 && kills < 6) {
            // A client killed while the server holds its call.
            kills++;
            long c = spawn_ep("ipcrand", long(3ull << ROLE_SHIFT | seed), ep);
            if (c < 0)
                return -3;
            wait_held(rng);
            hs.add(uint64_t(task_kill(c)));
            hs.add(uint64_t(task_wait(c, 0)));
            call(ep, hs, rng, ANSWER);
        } else if (kills < 6) {
            // A second server, killed while it waits for the next call.
            kills++;
            long e2 = ipc_create();
            long s2 = spawn_ep("ipcrand", long(2ull << ROLE_SHIFT | seed), e2);
            if (e2 < 0 || s2 < 0)
                return -4;
            for (uint64_t n = rng.next() % 5 + 1; n; n--)
                call(e2, hs, rng, ECHO);
            sleep_us(2000); // it is back in reply_receive, asleep
            hs.add(uint64_t(task_kill(s2)));
            hs.add(uint64_t(task_wait(s2, 0)));
            call(e2, hs, rng, ECHO, IPC_POLL);
            hs.add(uint64_t(ipc_destroy(e2)));
        } else {
            call(ep, hs, rng, ECHO);
        }
    }
    call(ep, hs, rng, QUIT);
    hs.add(uint64_t(task_wait(srv, 0)));
    return int((hs.h ^ (hs.h >> 32)) & 0x3fffffff) | 1;
}

} // namespace

int main(long arg)
{
    uint64_t role = (uint64_t(arg) >> ROLE_SHIFT) & 0xff, seed = uint64_t(arg) & 0xffffffff;
    if (role == 1 || role == 2)
        return server(role);
    if (role == 3)
        return held_client();
    return driver(seed);
}
