// IPC endpoints (kern/task/ipc.h): ping-pong between tasks, timeouts, partners
// that exit mid-call, destroyed endpoints, argument errors, a failed copy-out
// beside a reused reply slot, a client whose kernel stack is swapped out
// while it waits, and nothing leaked.
#include "boot/bootargs.h"
#include "kern/seam/cpu.h"
#include "kern/arch/riscv/hart.h"
#include "kern/task/ipc.h"
#include "test/kernel/ktest.h"
#include "kern/console/printf.h"
#include "kern/sched/sched.h"
#include "kern/task/task.h"
#include "kern/sched/thread.h"
#include "kern/arch/riscv/timer.h"
#include "kstack/kstack.h"
#include "kstack/swap.h"
#include "lib/string.h"
#include "test/kernel/user_baseline.h"
#include "user/abi.h"
#include "vm/swap.h"

#include <atomic>

using namespace kern;


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
// with up to 4 KiB), one server answering with reply_receive; SMP=4 boots
// run them on every hart. Then tasks, threads, zones, pages, endpoints and
// records are back at baseline. How often the fast path was taken is only
// reported: with four clients the server mostly finds callers queued, and
// nobody waits to be handed the hart (ipc_fast_path_round_trips checks it).
KTEST(ipc_ping_pong_checksummed)
{
    ipc::FastPathStats before = ipc::fast_path_stats();
    user_check_baseline(t, "ipcpp", 4 | (2000 << 8), 1, 0, 120000000);
    expect_no_ipc_left(t);
    ipc::FastPathStats after = ipc::fast_path_stats();
    uint64_t calls = after.calls - before.calls, replies = after.replies - before.replies;
    kprintf("ktest: ipc fast path in ipcpp: %lu call hand-offs, %lu reply_receive hand-offs (%lu to another hart), %lu "
            "fallbacks\n",
            calls, replies, after.remote - before.remote, after.fallbacks - before.fallbacks);
}

// ipcbench's loop (register words only, a server on reply_receive): on one
// hart nearly every call and answer is a hand-off. On several, client and
// server usually sit on different harts, where the fast path never hands
// off (the counts are reported; ipc_hand_off_direct_switch covers that).
KTEST(ipc_fast_path_round_trips)
{
    ipc::FastPathStats before = ipc::fast_path_stats();
    Ran r = run("ipcbench", 200);
    ipc::FastPathStats after = ipc::fast_path_stats();
    KEXPECT(r.ok);
    KEXPECT(r.code > 0); // instructions per round trip (meaningful under -icount only)
    uint64_t calls = after.calls - before.calls, replies = after.replies - before.replies;
    kprintf("ktest: ipcbench x200: exit %d; %lu call and %lu reply_receive hand-offs (%lu direct, %lu of them to "
            "another hart), %lu fallbacks\n",
            r.code, calls, replies, (after.direct_calls - before.direct_calls) + (after.direct_replies - before.direct_replies),
            after.remote - before.remote, after.fallbacks - before.fallbacks);
    if (online_count() == 1) {
        // 15 samples of 200 round trips and a warm-up of 21: all but a few,
        // and all of those by the direct path (nothing to another hart).
        KEXPECT(calls >= 3000);
        KEXPECT(replies >= 3000);
        KEXPECT(after.direct_calls - before.direct_calls >= 3000);
        KEXPECT(after.direct_replies - before.direct_replies >= 3000);
        KEXPECT_EQ(after.remote, before.remote);
    }
    expect_no_ipc_left(t);
}

// The direct fast path (kern/task/ipc_fast.cc) against the general path:
// user/progs/ipcrand.cc plays the same seeded sequence of calls, answers on
// both paths, timeouts, held calls whose callers time out or are killed,
// and servers killed while they wait, once with the fast path and once with
// it switched off; every return code and answer word (who answered, after
// how many calls) goes into its exit code, which must be the same. The seed
// comes from the clock (ipcrand_seed=N repeats one) and is printed.
KTEST(ipc_fast_and_general_paths_agree)
{
    uint64_t seed = timer::now_ticks() & 0xffffffff;
    (void)bootargs::get_number("ipcrand_seed", seed);
    seed &= 0xffffffff;
    kprintf("ktest: ipc_fast_and_general_paths_agree: seed %lu\n", seed);
    ipc::FastPathStats a = ipc::fast_path_stats();
    Ran fast = run("ipcrand", seed);
    ipc::FastPathStats b = ipc::fast_path_stats();
    ipc::set_fast_path(false);
    Ran slow = run("ipcrand", seed);
    ipc::set_fast_path(true);
    ipc::FastPathStats c = ipc::fast_path_stats();
    KEXPECT(fast.ok);
    KEXPECT(slow.ok);
    KEXPECT(fast.code > 0);
    KEXPECT_EQ(fast.code, slow.code);
    uint64_t direct = (b.direct_calls - a.direct_calls) + (b.direct_replies - a.direct_replies);
    kprintf("ktest: ipcrand seed %lu: exit %d fast, %d general; %lu direct hand-offs (%lu calls, %lu to another "
            "hart), %lu with the fast path off\n",
            seed, fast.code, slow.code, direct, b.direct_calls - a.direct_calls, b.remote - a.remote,
            (c.direct_calls - b.direct_calls) + (c.direct_replies - b.direct_replies));
    KEXPECT_EQ(c.direct_calls, b.direct_calls);
    KEXPECT_EQ(c.direct_replies, b.direct_replies);
    if (online_count() == 1)
        KEXPECT(direct >= 200); // most of the 240 or so echoes, both halves
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

namespace {

// The copy-out hook for ipc_failed_copy_out_spares_a_reused_reply_slot: the
// first receive in ipcmisc to reach it waits there (up to 5 s) until a second
// receive has passed it, so the other server thread answers the first call
// and takes a new one into the slot before the first copy-out runs.
std::atomic<unsigned> g_hook_calls {0};
std::atomic<unsigned> g_hook_slots[2];
std::atomic<bool> g_hook_waited {false};

void hold_first_copy_out(Task* t, unsigned slot)
{
    if (strcmp(t->name, "ipcmisc") != 0)
        return;
    unsigned n = g_hook_calls.fetch_add(1);
    if (n < 2)
        g_hook_slots[n].store(slot);
    if (n != 0)
        return;
    uint64_t deadline = timer::now_us() + 5000000;
    while (g_hook_calls.load() < 2 && timer::now_us() < deadline)
        sched::sleep_us(1000);
    g_hook_waited.store(g_hook_calls.load() >= 2);
}

} // namespace

// A server of two threads: the first receives a call, and before its
// copy-out (into unmapped memory) runs, the second answers that call through
// the same cap and receives a second call, which takes the same reply slot.
// The failed copy-out must then leave the slot alone: the second caller gets
// its answer, not EPIPE, and the second thread's reply finds its cap
// (user/progs/ipcmisc.cc mode 6 checks each step from inside).
KTEST(ipc_failed_copy_out_spares_a_reused_reply_slot)
{
    g_hook_calls.store(0);
    g_hook_waited.store(false);
    ipc::set_copy_out_test_hook(hold_first_copy_out);
    user_check_baseline(t, "ipcmisc", 6, 1, 0, 30000000);
    ipc::set_copy_out_test_hook(nullptr);
    KEXPECT(g_hook_waited.load());
    KEXPECT_EQ(g_hook_calls.load(), 2u);
    KEXPECT_EQ(g_hook_slots[0].load(), g_hook_slots[1].load());
    kprintf("ktest: reused reply slot: %u receives through the hook, both into slot %u\n", g_hook_calls.load(),
            g_hook_slots[0].load());
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
        thread::for_each([&b](Thread& th) {
            if (th.task && strcmp(th.task->name, "ipcswap") == 0 && th.state == ThreadState::Sleeping &&
                th.wait_reason && strcmp(th.wait_reason, "ipc-call") == 0) {
                b.th = &th;
                b.holds = th.stack_holds.count();
            }
        });
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

// ---- The fast path's direct switch (sched::sleep_handing_off) -----------
//
// Kernel threads bound to harts, so every case is deterministic on any
// number of harts: a tester hands its hart to a sleeping partner, which runs,
// records where, and wakes the tester again.

namespace {

struct Partner {
    Thread* th = nullptr;
    Thread* tester = nullptr;
    bool timed = false;              // sleep with a (far) deadline: no hand-off
    std::atomic<uint64_t> seq {0};   // its current sleep
    uint64_t tester_seq = 0;         // written before the partner is run or woken
    std::atomic<bool> asleep {false};
    std::atomic<bool> stop {false};
    std::atomic<unsigned> runs {0};
    std::atomic<unsigned> ran_on {~0u};
};

void partner_entry(void* arg)
{
    auto* p = static_cast<Partner*>(arg);
    while (!p->stop.load()) {
        {
            cpu::IrqGuard irqs; // asleep is set before anyone can switch to us
            uint64_t deadline = p->timed ? timer::now_ticks() + 10 * timer::timebase_hz() : 0;
            p->seq.store(sched::prepare_sleep(p, "handoff-test", deadline));
            p->asleep.store(true);
            sched::block();
        }
        p->asleep.store(false);
        p->ran_on.store(cpu::id());
        p->runs.fetch_add(1);
        (void)sched::wake(p->tester, p->tester_seq); // back to the tester
    }
}

void wait_asleep(Partner& p)
{
    while (!p.asleep.load() || p.th->state != ThreadState::Sleeping || p.th->on_cpu.load())
        sched::sleep_us(500);
}

ksync::SpinLock g_handoff_lock {"handoff-test"}; // stands in for the ipc lock

// Sleep handing the hart to p as kern/task/ipc.cc does, or wake it and sleep the
// usual way; returns once p has run and woken us. Whether the hand-off took.
// stale_seq: name a sleep p is not in.
bool hand_to(Partner& p, bool stale_seq = false)
{
    wait_asleep(p);
    unsigned before = p.runs.load();
    bool handed;
    {
        cpu::IrqGuard irqs; // the contract: off since before the lock
        g_handoff_lock.lock();
        uint64_t seq = p.seq.load() + (stale_seq ? 1 : 0);
        handed = sched::sleep_handing_off(&p, "handoff-tester", p.th, seq, p.tester_seq, g_handoff_lock);
        if (!handed) {
            p.tester_seq = sched::prepare_sleep(&p, "handoff-tester", 0);
            g_handoff_lock.unlock();
            (void)sched::wake(p.th, p.seq.load());
            sched::block();
        }
    }
    while (p.runs.load() == before)
        sched::sleep_us(500);
    return handed;
}

struct HandOffResults {
    unsigned hart = 0, handed = 0, rounds = 0, ran_here = 0;
    bool swap_tried = false, swapped = false, swapped_refused = false;
    bool stale_refused = false, timed_refused = false, other_refused = false;
    unsigned other_ran_on = ~0u;
    bool spawned = true;
};

Thread* start_partner(Partner& p, unsigned hart, bool timed, bool swappable = false)
{
    p.tester = thread::current();
    p.timed = timed;
    uint32_t flags = swappable ? uint32_t(TF_BOUND) : uint32_t(TF_BOUND | TF_NO_SWAP);
    auto r = thread::spawn({.name = "handoff-partner", .entry = partner_entry, .arg = &p, .priority = PRIO_HIGHEST,
                            .flags = flags, .hart = int(hart), .joinable = true});
    p.th = r.ok() ? r.value() : nullptr;
    return p.th;
}

void stop_partner(Partner& p)
{
    wait_asleep(p);
    p.stop.store(true);
    (void)sched::wake(p.th, p.seq.load());
    (void)thread::join(p.th);
}

void hand_off_tester(void* arg)
{
    auto& res = *static_cast<HandOffResults*>(arg);
    res.hart = cpu::id();
    Partner same;
    if (!start_partner(same, res.hart, false)) {
        res.spawned = false;
        return;
    }
    for (; res.rounds < 200; res.rounds++) {
        res.handed += hand_to(same);
        res.ran_here += same.ran_on.load() == res.hart;
    }
    res.stale_refused = !hand_to(same, true);
    stop_partner(same);

    Partner timed;
    if (start_partner(timed, res.hart, true)) {
        res.timed_refused = !hand_to(timed);
        stop_partner(timed);
    } else {
        res.spawned = false;
    }

    // A partner whose stack went out to swap while it slept: the swapper
    // must bring it back first, so no hand-off (the wake queues it for that).
    if (vm::swap::enabled()) {
        Partner out;
        if (start_partner(out, res.hart, false, true)) {
            res.swap_tried = true;
            wait_asleep(out);
            (void)kstack::swap::swap_out(kstack::swap::scratch(2), 1u << 20, 0);
            kstack::StackState s = kstack::state(out.th->stack);
            res.swapped = s == kstack::StackState::Swapped || s == kstack::StackState::SwappingOut;
            res.swapped_refused = !hand_to(out);
            stop_partner(out);
        } else {
            res.spawned = false;
        }
    }

    if (online_count() > 1) {
        Partner other;
        if (start_partner(other, (res.hart + 1) % online_count(), false)) {
            res.other_refused = !hand_to(other);
            res.other_ran_on = other.ran_on.load();
            stop_partner(other);
        } else {
            res.spawned = false;
        }
    }
}

} // namespace

// A sleeping partner on the same hart gets the hart directly, every time;
// a stale sleep, a partner with a timeout, one whose stack is on swap (boots
// with a swap disk) and one on another hart are refused (the caller's wake and sleep take over, and the
// partner still runs, on its own hart).
KTEST(ipc_hand_off_direct_switch)
{
    HandOffResults res;
    auto r = thread::spawn({.name = "handoff-tester", .entry = hand_off_tester, .arg = &res,
                            .priority = PRIO_HIGHEST, .flags = TF_BOUND, .hart = 0, .joinable = true});
    KEXPECT(r.ok());
    if (!r.ok())
        return;
    (void)thread::join(r.value());
    KEXPECT(res.spawned);
    KEXPECT_EQ(res.handed, res.rounds);
    KEXPECT_EQ(res.ran_here, res.rounds);
    KEXPECT(res.stale_refused);
    KEXPECT(res.timed_refused);
    if (res.swap_tried) {
        KEXPECT(res.swapped);
        KEXPECT(res.swapped_refused);
    }
    if (online_count() > 1) {
        KEXPECT(res.other_refused);
        KEXPECT_EQ(res.other_ran_on, (res.hart + 1) % online_count());
    }
    kprintf("ktest: sleep_handing_off: %u of %u direct switches on hart %u; stale, timed%s%s refused\n", res.handed,
            res.rounds, res.hart, res.swap_tried ? ", swapped-out" : "", online_count() > 1 ? ", other-hart" : "");
}
