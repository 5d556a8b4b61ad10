// Benchmark: IPC call+reply round trip in instructions (rdinstret, exact
// under QEMU -icount), measured from user mode like nullsys.cc. The client
// (this task) calls a server task (spawned with the endpoint as its handle 0)
// that receives and replies with register words only; one sample is n
// round trips: the client's call, the switch to the server, its return from
// receive, its reply and next receive, the switch back. The same loop with a
// nop for the ecall is the baseline; the exit code is the median net
// instructions per round trip. arg: round trips per sample (default 1000);
// arg 1 << 40: the server.
#include "user/lib/zest.h"

using namespace zest;

namespace {

constexpr int SAMPLES = 15;
constexpr uint64_t QUIT = 0x9017;

template <bool Call>
__attribute__((noinline)) uint64_t loop(uint64_t n)
{
    uint64_t t0 = rdinstret();
    for (uint64_t i = 0; i < n; i++) {
        register long a0 asm("a0") = long(IPC_TAG(0, 0, 0));
        register uint64_t a1 asm("a1") = i, a2 asm("a2") = 2, a3 asm("a3") = 3, a4 asm("a4") = 4;
        register uint64_t a5 asm("a5") = 0, a6 asm("a6") = 0;
        register long a7 asm("a7") = SYS_IPC_CALL;
        if constexpr (Call)
            asm volatile("ecall" : "+r"(a0), "+r"(a1), "+r"(a2), "+r"(a3), "+r"(a4), "+r"(a5) : "r"(a6), "r"(a7)
                         : "memory");
        else
            asm volatile("nop" : "+r"(a0), "+r"(a1), "+r"(a2), "+r"(a3), "+r"(a4), "+r"(a5) : "r"(a6), "r"(a7)
                         : "memory");
    }
    return rdinstret() - t0;
}

// Receive, then answer each call and wait for the next in one system call
// (reply_receive: the fast path's second half); the last answer is a plain
// reply.
int server()
{
    Msg m {};
    long cap = ipc_receive(0, m, nullptr, 0);
    for (;;) {
        if (cap <= 0)
            return 1;
        bool quit = m.w[0] == QUIT;
        m.w[0]++;
        if (quit)
            return ipc_reply(cap, m, nullptr, 0) == 0 ? 0 : 2;
        cap = ipc_reply_receive(cap, 0, m, nullptr, 0, 0);
    }
}

} // namespace

int main(long arg)
{
    if (uint64_t(arg) >> 40)
        return server();
    uint64_t n = uint64_t(arg) & 0xffffffff;
    if (!n)
        n = 1000;
    long ep = ipc_create();
    if (ep != 0)
        return -1; // the loop calls handle 0: ours must be it
    long kid = spawn_ep("ipcbench", long(1ull << 40), ep);
    if (kid < 0)
        return -2;
    uint64_t call[SAMPLES], base[SAMPLES];
    (void)loop<true>(n / 10 + 1); // warm up: the server's record, caches
    for (int k = 0; k < SAMPLES; k++) {
        call[k] = loop<true>(n);
        base[k] = loop<false>(n);
    }
    Msg q {{QUIT, 0, 0, 0}, 0};
    if (ipc_call(ep, q, nullptr, 0, 0) != 0 || task_wait(kid, 0) != 0)
        return -3;
    uint64_t c = median(call, SAMPLES), b = median(base, SAMPLES);
    return int(c > b ? (c - b) / n : 0);
}
