// IPC endpoints (kern/ipc.h): ping-pong between tasks, timeouts, partners
// that exit mid-call, destroyed endpoints, argument errors, a client whose
// kernel stack is swapped out while it waits, and nothing leaked.
#include "kern/ipc.h"
#include "kern/ktest.h"
#include "kern/printf.h"
#include "kern/sched.h"
#include "kern/task.h"
#include "kern/thread.h"
#include "kern/timer.h"
#include "kstack/kstack.h"
#include "kstack/swap.h"
#include "lib/string.h"
#include "user/abi.h"
#include "vm/swap.h"

using namespace kern;

// test/kernel/user_test.cc: run a program, check everything is back after.
void user_check_baseline(ktest::Context& t, const char* program, uint64_t arg, unsigned rounds, int want_code,
                         uint64_t timeout_us, unsigned parallel = 1);

namespace {

struct Ran {
    bool ok;
    int code;
    uint64_t us;
};

Ran run(const char* program, uint64_t arg, uint64_t timeout_us = 60000000)
{
    uint64_t t0 = timer::now_us();
    lib::Result<Task*> r = task::spawn(program, arg);
    if (!r.ok())
        return {false, 0, 0};
    Task* tk = r.value();
    bool ok = task::wait(tk, timeout_us).ok();
    if (!ok) {
        task::kill(tk, EXIT_KILLED, "ktest timeout");
        (void)task::wait(tk);
    }
    Ran out {ok, tk->exit_code, timer::now_us() - t0};
    task::put(tk);
    return out;
}

void expect_no_ipc_left(ktest::Context& t)
{
    uint64_t deadline = timer::now_us() + 2000000;
    while ((ipc::endpoints() || ipc::records()) && timer::now_us() < deadline)
        sched::sleep_us(5000);
    if (ipc::endpoints() || ipc::records())
        t.failf("%lu endpoints and %lu records left", ipc::endpoints(), ipc::records());
}

} // namespace

// Four clients x 2,000 checksummed calls (a third register-only, the rest
// with up to 4 KiB), one server; SMP=4 boots run them on every hart. Then
// tasks, threads, zones, pages, endpoints and records are back at baseline.
KTEST(ipc_ping_pong_checksummed)
{
    user_check_baseline(t, "ipcpp", 4 | (2000 << 8), 1, 0, 120000000);
    expect_no_ipc_left(t);
}

// Timeouts, poll, a server that never replies, servers and clients that exit
// mid-call, a destroyed endpoint, and every argument error, checked from
// inside (user/progs/ipcmisc.cc); then the same leak checks.
KTEST(ipc_errors_timeouts_and_exits)
{
    user_check_baseline(t, "ipcmisc", 0, 2, 0, 60000000);
    expect_no_ipc_left(t);
}

// A receive with nobody sending times out after about its timeout.
KTEST(ipc_receive_timeout_takes_about_the_timeout)
{
    Ran r = run("ipcmisc", 1); // mode 1: one receive with a 200 ms timeout
    KEXPECT(r.ok);
    KEXPECT_EQ(r.code, 0);
    kprintf("ktest: ipc receive with a 200 ms timeout: the task took %lu us\n", r.us);
    if (r.us < 200000 || r.us > 600000)
        t.failf("took %lu us", r.us);
}

namespace {
struct Blocked {
    Thread* th = nullptr;
    uint32_t holds = 0;
};
} // namespace

// The reason IPC keeps messages in records: a client blocked in a call holds
// no stack hold, so its kernel stack can be swapped out (here by the test, as
// the pagedaemon would) and the call still completes once answered.
KTEST(ipc_client_stack_swapped_while_blocked)
{
    if (!vm::swap::enabled()) {
        kprintf("ktest: ipc_client_stack_swapped_while_blocked: no swap device in this boot; skipped\n");
        return;
    }
    lib::Result<Task*> r = task::spawn("ipcswap", 0);
    KEXPECT(r.ok());
    Task* server = r.value();
    Blocked b;
    uint64_t deadline = timer::now_us() + 1000000;
    while (!b.th && timer::now_us() < deadline) {
        sched::sleep_us(10000);
        thread::for_each(
            [](Thread& th, void* ctx) {
                auto* out = static_cast<Blocked*>(ctx);
                if (th.task && strcmp(th.task->name, "ipcswap") == 0 && th.state == ThreadState::Sleeping &&
                    th.wait_reason && strcmp(th.wait_reason, "ipc-call") == 0) {
                    out->th = &th;
                    out->holds = th.stack_holds.count();
                }
            },
            &b);
    }
    bool found = b.th != nullptr;
    bool out = false;
    unsigned stacks = 0;
    if (found) {
        kstack::swap::OutResult o = kstack::swap::swap_out(kstack::swap::scratch(2), 1u << 20, 0);
        stacks = o.stacks;
        kstack::StackState s = kstack::state(b.th->stack);
        out = s == kstack::StackState::Swapped || s == kstack::StackState::SwappingOut;
    }
    bool done = task::wait(server, 10000000).ok();
    if (!done) {
        task::kill(server, EXIT_KILLED, "ktest timeout");
        (void)task::wait(server);
    }
    int code = server->exit_code;
    task::put(server);
    KEXPECT(found);
    KEXPECT_EQ(b.holds, 0u);
    KEXPECT(out);
    KEXPECT(done);
    KEXPECT_EQ(code, 0);
    if (found)
        kprintf("ktest: ipc_client_stack_swapped_while_blocked: thread %lu in ipc-call with %u stack holds; its "
                "stack swapped out (%u stacks this pass); the call completed: exit %d\n",
                b.th->id, b.holds, stacks, code);
}
