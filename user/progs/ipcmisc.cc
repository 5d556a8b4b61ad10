// IPC from the inside: every error code, timeouts, and partners that leave.
//
// arg 0: the whole list (exit code = failures). arg 1: one receive with a
// 200 ms timeout (the kernel test times it). arg 2 (a child): receive one
// call on handle 0, never reply, sleep 300 ms, exit. arg 3 (a child): one
// thread calls handle 0 while the first exits the task 100 ms later. arg 4
// (a child): send 100 bytes. arg 5 (a child): three calls on handle 0, the
// second with 16 bytes, each answer checked, then a send (reply_receive).
// arg 6: a server of two threads whose first receive's copy-out fails after
// the other thread answered that call and took a new one into the same reply
// slot (the kernel test holds the copy-out back with a test hook until then).
// arg 7 (a child): one call with 8 bytes on handle 0; 0 if answered with 42.
#include "user/lib/zest.h"

using namespace zest;

namespace {

int g_fails;
uint8_t g_buf[IPC_MSG_MAX + 64];
uint8_t g_stack[16384] __attribute__((aligned(16)));
long g_ep;

void expect(const char* what, long got, long want)
{
    if (got == want)
        return;
    printf("ipcmisc: %s: got %ld, wanted %ld\n", what, got, want);
    g_fails++;
}

long raw(long nr, uint64_t tag, uint64_t buf, uint64_t timeout)
{
    Msg m {};
    return ipc_raw(nr, tag, m, reinterpret_cast<void*>(buf), timeout);
}

volatile long g_receiver_got = 1;

long blocked_receiver(long)
{
    Msg m {};
    g_receiver_got = ipc_receive(g_ep, m, g_buf, 64, 0);
    return 0;
}

long exit_later(long)
{
    sleep_us(100000);
    exit(5);
}

int the_list()
{
    long ep = ipc_create();
    expect("create", ep >= 0, 1);
    Msg m {};
    // Bad handles, tags, pointers, sizes and timeouts.
    expect("send to handle 15 (unused)", ipc_send(15, m, nullptr, 0, IPC_POLL), -EBADF);
    expect("send to handle 16", raw(SYS_IPC_SEND, IPC_TAG(16, 0, 0), 0, IPC_POLL), -EBADF);
    expect("receive on 0xffff", raw(SYS_IPC_RECEIVE, IPC_TAG(0xffff, 0, 0), 0, IPC_POLL), -EBADF);
    expect("tag with reserved bits", raw(SYS_IPC_SEND, IPC_TAG(ep, 0, 0) | (1ull << 50), 0, IPC_POLL), -EINVAL);
    expect("send 4097 bytes", ipc_send(ep, m, g_buf, IPC_MSG_MAX + 1, IPC_POLL), -EMSGSIZE);
    expect("call with cap 4097", ipc_call(ep, m, g_buf, 0, IPC_MSG_MAX + 1, IPC_POLL), -EMSGSIZE);
    expect("send from a kernel address", raw(SYS_IPC_SEND, IPC_TAG(ep, 8, 0), 0xffffffc080200000ull, IPC_POLL),
           -EFAULT);
    expect("receive into the kernel image", raw(SYS_IPC_RECEIVE, IPC_TAG(ep, 0, 8), 0x80200000ull, IPC_POLL),
           -EFAULT);
    expect("send from unmapped user memory", raw(SYS_IPC_SEND, IPC_TAG(ep, 8, 0), 0x3f00000000ull, IPC_POLL),
           -EFAULT);
    expect("timeout over the maximum", raw(SYS_IPC_RECEIVE, IPC_TAG(ep, 0, 0), 0, IPC_TIMEOUT_MAX + 1), -EINVAL);
    expect("reply cap 0", ipc_reply(0, m, nullptr, 0), -EBADF);
    expect("reply cap 17", ipc_reply(IPC_REPLY_CAPS + 1, m, nullptr, 0), -EBADF);
    expect("reply cap 1 (none held)", ipc_reply(1, m, nullptr, 0), -EBADF);
    expect("destroy handle 15", ipc_destroy(15), -EBADF);
    expect("destroy handle -1", ipc_destroy(-1), -EBADF);
    expect("spawn_ep with a bad handle", spawn_ep("exit42", 0, 12), -EBADF);
    expect("spawn_ep with handle 99", spawn_ep("exit42", 0, 99), -EBADF);
    // reply_receive: each bad argument gives what reply or receive gives.
    auto rr = [](uint64_t tag, uint64_t buf, uint64_t timeout) {
        return raw(SYS_IPC_REPLY_RECEIVE, tag, buf, timeout);
    };
    expect("reply_receive, reply cap 0", ipc_reply_receive(0, ep, m, nullptr, 0, 0, IPC_POLL), -EBADF);
    expect("reply_receive, reply cap 17", ipc_reply_receive(IPC_REPLY_CAPS + 1, ep, m, nullptr, 0, 0, IPC_POLL),
           -EBADF);
    expect("reply_receive, reply cap 1 (none held)", ipc_reply_receive(1, ep, m, nullptr, 0, 0, IPC_POLL), -EBADF);
    expect("reply_receive, reply cap 255", ipc_reply_receive(255, ep, m, nullptr, 0, 0, IPC_POLL), -EBADF);
    expect("reply_receive, reply cap 256 (reserved bits)", ipc_reply_receive(256, ep, m, nullptr, 0, 0, IPC_POLL),
           -EINVAL);
    expect("reply_receive, reply cap -1", ipc_reply_receive(-1, ep, m, nullptr, 0, 0, IPC_POLL), -EINVAL);
    expect("reply_receive on handle 15 (unused)", ipc_reply_receive(1, 15, m, nullptr, 0, 0, IPC_POLL), -EBADF);
    expect("reply_receive on handle 16", rr(IPC_TAG(16, 0, 0) | IPC_TAG_REPLY(1), 0, IPC_POLL), -EBADF);
    expect("reply_receive, 4097 bytes", ipc_reply_receive(1, ep, m, g_buf, IPC_MSG_MAX + 1, 0, IPC_POLL),
           -EMSGSIZE);
    expect("reply_receive, cap 4097", ipc_reply_receive(1, ep, m, g_buf, 0, IPC_MSG_MAX + 1, IPC_POLL), -EMSGSIZE);
    expect("reply_receive from a kernel address",
           rr(IPC_TAG(ep, 8, 0) | IPC_TAG_REPLY(1), 0xffffffc080200000ull, IPC_POLL), -EFAULT);
    expect("reply_receive into the kernel image", rr(IPC_TAG(ep, 0, 8) | IPC_TAG_REPLY(1), 0x80200000ull, IPC_POLL),
           -EFAULT);
    expect("reply_receive from unmapped user memory",
           rr(IPC_TAG(ep, 8, 0) | IPC_TAG_REPLY(1), 0x3f00000000ull, IPC_POLL), -EFAULT);
    expect("reply_receive, timeout over the maximum", rr(IPC_TAG(ep, 0, 0) | IPC_TAG_REPLY(1), 0, IPC_TIMEOUT_MAX + 1),
           -EINVAL);
    // Poll: nobody there.
    expect("receive, poll", ipc_receive(ep, m, nullptr, 0, IPC_POLL), -EAGAIN);
    expect("send, poll", ipc_send(ep, m, nullptr, 0, IPC_POLL), -EAGAIN);
    expect("receive, 20 ms", ipc_receive(ep, m, nullptr, 0, 20000), -ETIMEDOUT);
    expect("send, 20 ms", ipc_send(ep, m, nullptr, 0, 20000), -ETIMEDOUT);

    // A server that never replies: the call times out. Then one that exits
    // holding our call: EPIPE.
    long kid = spawn_ep("ipcmisc", 2, ep);
    expect("call, 100 ms, never answered", ipc_call(ep, m, g_buf, 16, 16, 100000), -ETIMEDOUT);
    expect("its exit", task_wait(kid, 0), 0);
    kid = spawn_ep("ipcmisc", 2, ep);
    expect("call, forever, the server exits", ipc_call(ep, m, g_buf, 16, 16, 0), -EPIPE);
    expect("its exit", task_wait(kid, 0), 0);

    // A client that exits mid-call: our reply finds it gone.
    kid = spawn_ep("ipcmisc", 3, ep);
    long cap = ipc_receive(ep, m, g_buf, 64, 2000000);
    expect("receive the call", cap > 0, 1);
    expect("the client's exit", task_wait(kid, 0), 5);
    if (cap > 0)
        expect("reply to a client that left", ipc_reply(cap, m, nullptr, 0), -EPIPE);
    expect("the same cap again", ipc_reply(cap, m, nullptr, 0), -EBADF);

    // The same with reply_receive, the call received with no timeout (so,
    // on one hart, it came by the fast path's hand-off): the caller's task
    // exits while it waits; the answer finds it gone and nothing is received.
    kid = spawn_ep("ipcmisc", 3, ep);
    cap = ipc_receive(ep, m, g_buf, 64, 0);
    expect("receive the call (no timeout)", cap > 0, 1);
    expect("the client's exit", task_wait(kid, 0), 5);
    if (cap > 0)
        expect("reply_receive to a client that left", ipc_reply_receive(cap, ep, m, nullptr, 0, 0, IPC_POLL), -EPIPE);
    expect("reply_receive with the same cap again", ipc_reply_receive(cap, ep, m, nullptr, 0, 0, IPC_POLL), -EBADF);

    // A server loop on reply_receive: a bad handle leaves the reply cap
    // unused; each answer goes and the next message comes in one call,
    // register words and bytes; the last message is a plain send (0).
    kid = spawn_ep("ipcmisc", 5, ep);
    cap = ipc_receive(ep, m, g_buf, 64, 0);
    expect("the first call", cap > 0 && m.w[0] == 0, 1);
    expect("reply_receive on a bad handle, the cap held", ipc_reply_receive(cap, 15, m, nullptr, 0, 0, 0), -EBADF);
    for (uint64_t i = 0; i < 3 && cap > 0; i++) {
        m.w[0] = 100 + i;
        size_t len = i == 1 ? 16 : 0; // the second call's bytes go back
        cap = ipc_reply_receive(cap, ep, m, g_buf, len, 64, 0);
        if (i < 2) {
            expect("reply_receive: the next call", cap > 0, 1);
            expect("its first word", long(m.w[0]), long(i + 1));
            expect("its length", long(m.len), i == 0 ? 16 : 0);
        } else {
            expect("reply_receive: the closing send", cap, 0);
            expect("its word", long(m.w[0]), 7);
        }
    }
    expect("the reply_receive client", task_wait(kid, 0), 0);

    // A message longer than the receiver's room is cut; a5 tells the length.
    kid = spawn_ep("ipcmisc", 4, ep);
    cap = ipc_receive(ep, m, g_buf, 10, 2000000);
    expect("a cut message", cap, 0);
    expect("its full length", long(m.len), 100);
    expect("its sender", task_wait(kid, 0), 0);

    // Destroy wakes a receiver blocked in another thread.
    g_ep = ep;
    long th = thread_create(blocked_receiver, 0, g_stack + sizeof g_stack);
    expect("thread", th > 0, 1);
    sleep_us(50000);
    expect("destroy", ipc_destroy(ep), 0);
    expect("send after destroy", ipc_send(ep, m, nullptr, 0, IPC_POLL), -EBADF);
    sleep_us(50000);
    expect("the receiver blocked in the destroyed endpoint", g_receiver_got, -EIDRM);
    if (g_fails)
        printf("ipcmisc: %d failures\n", g_fails);
    return g_fails;
}

// Mode 6's second server thread. Answers the call the first thread took
// (cap 1, once it is there), then receives the other caller's call, which
// takes the same slot; answers that once the first thread's receive failed.
volatile long g_first_reply = 1, g_second_cap = -1, g_second_reply = 1;
volatile bool g_first_failed, g_second_done;

long second_server(long)
{
    Msg m {};
    long e = -EBADF;
    for (unsigned i = 0; i < 5000 && e == -EBADF; i++) {
        m.w[0] = 42;
        e = ipc_reply(1, m, nullptr, 0);
        if (e == -EBADF)
            sleep_us(1000);
    }
    g_first_reply = e;
    g_second_cap = ipc_receive(g_ep, m, g_buf, 64, 5000000);
    for (unsigned i = 0; i < 5000 && !g_first_failed; i++)
        sleep_us(1000);
    m.w[0] = 42;
    g_second_reply = ipc_reply(g_second_cap, m, nullptr, 0);
    g_second_done = true;
    return 0;
}

int reused_slot_server()
{
    long ep = ipc_create();
    expect("create", ep >= 0, 1);
    g_ep = ep;
    long kid1 = spawn_ep("ipcmisc", 7, ep), kid2 = spawn_ep("ipcmisc", 7, ep);
    expect("spawn the callers", kid1 > 0 && kid2 > 0, 1);
    expect("thread", thread_create(second_server, 0, g_stack + sizeof g_stack) > 0, 1);
    expect("receive into unmapped user memory", raw(SYS_IPC_RECEIVE, IPC_TAG(ep, 0, 8), 0x3f00000000ull, 0),
           -EFAULT);
    g_first_failed = true;
    for (unsigned i = 0; i < 10000 && !g_second_done; i++)
        sleep_us(1000);
    expect("the second thread's reply to the first call (cap 1)", g_first_reply, 0);
    expect("the second thread's receive: the same cap", g_second_cap, 1);
    expect("its reply to the second call after the first copy-out failed", g_second_reply, 0);
    expect("the first caller", task_wait(kid1, 0), 0);
    expect("the second caller", task_wait(kid2, 0), 0);
    if (g_fails)
        printf("ipcmisc: reused reply slot: %d failures\n", g_fails);
    return g_fails;
}

} // namespace

int main(long arg)
{
    Msg m {};
    switch (arg) {
    case 0: return the_list();
    case 1: {
        long ep = ipc_create();
        return ipc_receive(ep, m, nullptr, 0, 200000) == -ETIMEDOUT ? 0 : 1;
    }
    case 2: {
        long cap = ipc_receive(0, m, g_buf, 64, 0);
        sleep_us(300000);
        return cap > 0 ? 0 : 1;
    }
    case 3: {
        static uint8_t stack[8192] __attribute__((aligned(16)));
        thread_create(exit_later, 0, stack + sizeof stack);
        long e = ipc_call(0, m, g_buf, 8, 8, 0);
        return e == -EINTR ? 6 : 7; // never reached: the task exits with 5 first
    }
    case 4: return int(ipc_send(0, m, g_buf, 100, 0));
    case 5:
        for (uint64_t i = 0; i < 3; i++) {
            m = {{i, 0, 0, 0}, 0};
            size_t len = i == 1 ? 16 : 0;
            for (size_t k = 0; k < len; k++)
                g_buf[k] = uint8_t(k * 3);
            if (ipc_call(0, m, g_buf, len, 64, 0) != 0 || m.w[0] != 100 + i || m.len != len)
                return 1 + int(i);
            for (size_t k = 0; k < len; k++)
                if (g_buf[k] != uint8_t(k * 3))
                    return 10;
        }
        m = {{7, 0, 0, 0}, 0};
        return int(ipc_send(0, m, nullptr, 0, 0));
    case 6: return reused_slot_server();
    case 7: {
        long e = ipc_call(0, m, g_buf, 8, 8, 5000000);
        return e < 0 ? int(-e) : m.w[0] == 42 ? 0 : 99;
    }
    }
    return 99;
}
