// The swapper thread against everything that hands it work: wakers, pagers
// and early swap-ins giving a stack back, on every hart at once, while the
// swapper keeps going to sleep and waking up.
#include "kern/task/ipc.h"
#include "test/kernel/ktest.h"
#include "kern/console/printf.h"
#include "kern/sched/sched.h"
#include "kern/task/task.h"
#include "kern/sched/thread.h"
#include "kern/arch/riscv/timer.h"
#include "kstack/kstack.h"
#include "kstack/swap.h"
#include "kstack/swap_internal.h"
#include "lib/random.h"
#include "lib/string.h"
#include "test/kernel/user_baseline.h"
#include "vm/swap.h"

#include <atomic>

namespace {

constexpr unsigned LOOPERS_PER_HART = 24;
constexpr unsigned MAX_LOOPERS = LOOPERS_PER_HART * cpu::MAX_HARTS;
constexpr uint64_t RACE_US = 1500000;
constexpr unsigned WORDS = 96; // checksummed data on each looper's stack

struct Race {
    std::atomic<bool> stop {false};
    std::atomic<unsigned> running {0};
    std::atomic<uint64_t> wakes {0}, bad {0}, requeued {0}, passes {0};
    kern::Thread* looper[MAX_LOOPERS] = {};
    unsigned n = 0;
};
Race g_race;

uint64_t word(uint64_t seed, unsigned i)
{
    uint64_t x = (seed + 1) * 0x9e3779b97f4a7c15ull ^ i;
    x ^= x >> 29;
    return x * 0xbf58476d1ce4e5b9ull;
}

// Sleeps, wakes, checks the data on its stack, sleeps again: its stack goes
// out and comes back many times.
void looper_main(void* arg)
{
    uint64_t seed = reinterpret_cast<uintptr_t>(arg);
    volatile uint64_t data[WORDS];
    for (unsigned i = 0; i < WORDS; i++)
        data[i] = word(seed, i);
    g_race.running.fetch_add(1);
    while (!g_race.stop.load(std::memory_order_acquire)) {
        kern::sched::sleep_us(60000000);
        for (unsigned i = 0; i < WORDS; i++)
            if (data[i] != word(seed, i)) {
                g_race.bad.fetch_add(1);
                break;
            }
        g_race.wakes.fetch_add(1, std::memory_order_relaxed);
    }
    g_race.running.fetch_sub(1);
}

void pager_main(void*)
{
    while (!g_race.stop.load(std::memory_order_acquire)) {
        (void)kstack::swap::swap_out(kstack::swap::scratch(2), 1u << 20, 0);
        g_race.passes.fetch_add(1, std::memory_order_relaxed);
        kern::sched::yield();
    }
}

// One per hart. Either a plain wakeup (the wake-time path or, mid-write, the
// swap-out's finish() queues it), or the swapper's early swap-in giving a
// stack back: claimed, woken meanwhile, unclaimed, so it goes on the
// swapper's queue under the thread's run-queue lock. Kicks the swapper
// between times, so it keeps finding nothing and going back to sleep.
void requeue_main(void* arg)
{
    lib::Random rng(reinterpret_cast<uintptr_t>(arg) + 17);
    while (!g_race.stop.load(std::memory_order_acquire)) {
        kern::Thread* t = g_race.looper[rng.below(g_race.n)];
        kstack::StackState st = kstack::state(t->stack);
        kstack::Stack* s;
        kstack::SwapMeta* meta;
        if (st == kstack::StackState::Swapped && rng.below(2) &&
            kstack::swap::detail::claim_swapped(t, true, s, meta)) {
            (void)kern::sched::wake(t); // ours while claimed: only marked wanted
            if (kstack::swap::detail::unclaim_swapped(t, s)) {
                kstack::swap::kick();
                g_race.requeued.fetch_add(1, std::memory_order_relaxed);
            }
        } else if (st == kstack::StackState::Swapped ||
                   (st == kstack::StackState::SwappingOut && rng.below(16) == 0)) {
            (void)kern::sched::wake(t); // mid-write: the swap-out's finish() hands it over
        }
        kstack::swap::kick();
        kern::sched::yield();
    }
}

[[nodiscard]] kern::Thread* spawn_on(const char* name, void (*fn)(void*), uint64_t arg, unsigned hart,
                                     uint32_t flags)
{
    auto r = kern::thread::spawn({.name = name, .entry = fn, .arg = reinterpret_cast<void*>(arg),
                                  .flags = kern::TF_BOUND | flags, .hart = int(hart), .joinable = true});
    return r.ok() ? r.value() : nullptr;
}

} // namespace

// Wakers, a pager and stacks handed back to the swapper from every hart
// while the swapper sleeps and wakes: the swapper's sleep once held its
// queue's lock while taking its run-queue lock, and handing it a thread takes
// them the other way round (the thread's run-queue lock, then the queue's),
// so two harts spun on each other forever. Bounded in time; every looper's
// stack data must survive its trips.
KTEST(kswap_swapper_sleep_races_requeue_from_every_hart)
{
    if (!vm::swap::enabled()) {
        kprintf("ktest: kswap_swapper_sleep_races_requeue_from_every_hart: no swap device, nothing to check\n");
        return;
    }
    kstack::swap::Stats s0 = kstack::swap::stats();
    Race& r = g_race;
    r.stop.store(false);
    r.running.store(0);
    r.wakes.store(0);
    r.bad.store(0);
    r.requeued.store(0);
    r.passes.store(0);
    r.n = 0;
    unsigned harts = cpu::count();
    for (unsigned i = 0; i < LOOPERS_PER_HART * harts; i++) {
        kern::Thread* t = spawn_on("looper", looper_main, i, i % harts, 0);
        if (!t)
            break;
        r.looper[r.n++] = t;
    }
    while (r.running.load() < r.n)
        kern::sched::sleep_us(1000);
    kern::Thread* pager = spawn_on("race-pager", pager_main, 0, 0, kern::TF_NO_SWAP);
    kern::Thread* wakers[cpu::MAX_HARTS] = {};
    for (unsigned h = 0; h < harts; h++)
        wakers[h] = spawn_on("requeuer", requeue_main, h, h, kern::TF_NO_SWAP);
    bool started = pager != nullptr && r.n == LOOPERS_PER_HART * harts;
    for (unsigned h = 0; h < harts; h++)
        started = started && wakers[h] != nullptr;
    kern::sched::sleep_us(RACE_US);
    r.stop.store(true, std::memory_order_release);
    if (pager)
        kern::thread::join(pager);
    for (unsigned h = 0; h < harts; h++)
        if (wakers[h])
            kern::thread::join(wakers[h]);
    // Every looper sees stop at its next wakeup.
    uint64_t end = kern::timer::now_us() + 20000000;
    while (r.running.load() != 0 && kern::timer::now_us() < end) {
        for (unsigned i = 0; i < r.n; i++)
            (void)kern::sched::wake(r.looper[i]);
        kern::sched::sleep_us(2000);
    }
    bool all_ended = r.running.load() == 0;
    for (unsigned i = 0; all_ended && i < r.n; i++)
        kern::thread::join(r.looper[i]);
    kstack::swap::Stats s1 = kstack::swap::stats();
    kprintf("ktest: kswap_swapper_sleep_races_requeue_from_every_hart: %u harts, %lu wakes verified, %lu handed "
            "back to the swapper, %lu swap-outs, %lu swap-ins, %lu pager passes\n",
            harts, r.wakes.load(), r.requeued.load(), s1.swap_outs - s0.swap_outs, s1.swap_ins - s0.swap_ins,
            r.passes.load());
    KEXPECT(started);
    KEXPECT(all_ended);
    KEXPECT_EQ(r.bad.load(), uint64_t(0));
    KEXPECT(r.wakes.load() > 0);
    KEXPECT(s1.swap_outs > s0.swap_outs);
    KEXPECT_EQ(s1.killed, s0.killed);
    KEXPECT_EQ(s1.checksum_errors, s0.checksum_errors);
    KEXPECT_EQ(s1.stacks_swapped, s0.stacks_swapped);
}

// ---- explicit boots: a swap disk that fails every read ----------------------

namespace {

struct LostClient {
    bool found, swapped, ended, unlinked;
    unsigned stacks;
    int code;
    char why[sizeof(kern::Task::why)];
};
LostClient g_lost;

// ipcswap's client, blocked in its call, has its stack swapped out (the only
// stack that can go: the server sleeps holding its own); then its task's end
// is awaited and looked at.
void swap_out_the_blocked_client(ktest::Context&, kern::Task* server)
{
    g_lost = {};
    struct Find {
        kern::Task* server;
        kern::Thread* th;
        uint64_t task_id;
    } f {server, nullptr, 0};
    uint64_t deadline = kern::timer::now_us() + 1000000;
    while (!f.th && kern::timer::now_us() < deadline) {
        kern::sched::sleep_us(10000);
        kern::thread::for_each([&f](kern::Thread& th) {
            if (th.task && th.task != f.server && th.state == kern::ThreadState::Sleeping && !th.on_cpu.load() &&
                th.wait_reason && !strcmp(th.wait_reason, "ipc-call")) {
                f.th = &th;
                f.task_id = th.task->id;
            }
        });
    }
    kern::Task* client = f.th ? kern::task::find(f.task_id) : nullptr;
    g_lost.found = client != nullptr;
    if (!client)
        return;
    kstack::swap::OutResult o = kstack::swap::swap_out(kstack::swap::scratch(2), 1u << 20, 0);
    g_lost.stacks = o.stacks;
    g_lost.swapped = kstack::state(f.th->stack) == kstack::StackState::Swapped;
    g_lost.ended = kern::task::wait(client, 10000000).ok();
    {
        ksync::SpinGuard g(client->lock);
        g_lost.unlinked = client->threads.empty() && client->nthreads == 0;
    }
    g_lost.code = client->exit_code;
    memcpy(g_lost.why, client->why, sizeof g_lost.why);
    kern::task::put(client);
}

// ipcswap with `arg` (2: the client dies at its wakeup, 3: asleep, through
// the early swap-in): the client's task is killed, ends, and everything it
// had comes back, its IPC record too; the server sees it end with
// EXIT_STACK_LOST (its exit code 74).
void lost_client_case(ktest::Context& t, uint64_t arg, const char* test)
{
    KEXPECT(vm::swap::enabled());
    kstack::swap::Stats s0 = kstack::swap::stats();
    uint64_t records0 = kern::ipc::records(), endpoints0 = kern::ipc::endpoints();
    user_check_baseline(t, "ipcswap", arg, 1, 74, 20000000, 1, swap_out_the_blocked_client);
    kstack::swap::Stats s1 = kstack::swap::stats();
    kprintf("ktest: %s: client found %d, %u stack(s) out, swapped %d; its task ended %d (code %d: %s), threads "
            "unlinked %d; %lu killed, %lu early swap-ins\n",
            test, g_lost.found, g_lost.stacks, g_lost.swapped, g_lost.ended, g_lost.code, g_lost.why,
            g_lost.unlinked, s1.killed - s0.killed, s1.early_swap_ins - s0.early_swap_ins);
    KEXPECT(g_lost.found);
    KEXPECT_EQ(g_lost.stacks, 1u);
    KEXPECT(g_lost.swapped);
    KEXPECT(g_lost.ended);
    KEXPECT(g_lost.unlinked);
    KEXPECT_EQ(g_lost.code, kern::EXIT_STACK_LOST);
    KEXPECT(!strcmp(g_lost.why, "its kernel stack could not be read back from swap"));
    KEXPECT_EQ(s1.killed - s0.killed, uint64_t(1));
    KEXPECT_EQ(kern::ipc::records(), records0);
    KEXPECT_EQ(kern::ipc::endpoints(), endpoints0);
    KEXPECT_EQ(s1.stacks_swapped, s0.stacks_swapped);
    KEXPECT_EQ(vm::swap::stats().used, uint64_t(0));
}

} // namespace

// The client's stack is lost when the server's answer wakes it.
KTEST_EXPLICIT(kswap_fault_read_kill_user_task_at_wakeup)
{
    lost_client_case(t, 2, "kswap_fault_read_kill_user_task_at_wakeup");
}

// Nobody wakes the client; memory is plentiful, so the swapper brings its
// stack back early, and that read fails: it dies still asleep in its call,
// and the server's answer finds the call given up.
KTEST_EXPLICIT(kswap_fault_read_kill_user_task_asleep)
{
    lost_client_case(t, 3, "kswap_fault_read_kill_user_task_asleep");
}
