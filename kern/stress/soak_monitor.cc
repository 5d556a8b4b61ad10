// The soak's monitor (kern/stress/soak_internal.h): it keeps one slot per kernel
// worker filled (a worker that ends is joined and replaced until the time is
// up), runs the user side itself (spawning, reaping and killing tasks),
// prints progress, and at the end winds everything down.
#include "kern/stress/soak_internal.h"

#include "kern/seam/cpu.h"
#include "kern/arch/riscv/timer.h"
#include "kern/sched/sched.h"
#include "kern/task/task.h"
#include "kstack/kstack.h"
#include "kstack/swap.h"
#include "lib/random.h"
#include "lib/string.h"
#include "user/abi.h"
#include "vm/kmem.h"

#include <new>

namespace kern::soak::detail {
namespace {

constexpr unsigned MAX_SLEEPERS = 64;
constexpr unsigned MAX_GROWERS = 8;
constexpr unsigned MAX_TASKS = 48;        // user tasks alive at once
constexpr unsigned IPC_GROUPS = 2, IPC_CLIENTS = 6, IPC_CALLS = 4;
constexpr unsigned FUZZERS = 2;
constexpr uint64_t FUZZ_KCALLS = 20;      // thousands of calls per fuzzer
constexpr uint64_t IPC_CLIENT_BIT = 1ull << 40; // user/progs/ipcsoak.cc
// The end: how long the tasks and threads may take to go.
constexpr uint64_t DRAIN_US = 30000000;

// ---- User tasks ----------------------------------------------------------

enum class TaskKind : uint8_t { Fuzz, IpcServer, IpcClient, Spin, Threads };

struct TaskSlot {
    Task* t = nullptr;
    TaskKind kind;
    unsigned group;  // IPC group
    bool killed;     // our kill decided its end: EXIT_KILLED
};

struct Group {
    bool active;
    bool server_gone_early; // killed or lost before its clients were done
    unsigned clients_left;
    Task* server;           // not a reference: its slot holds that
};

// ---- The monitor ---------------------------------------------------------

struct Monitor {
    const Params& p;
    Shared& sh;
    Result& res;
    lib::Random r;
    kstack::swap::Stats sw0;
    uint64_t start_us, end_us, next_progress_us, next_kill_us = 0, next_mmthreads_us = 0, next_look_us = 0;

    Monitor(const Params& p_, Shared& sh_, Result& res_)
        : p(p_), sh(sh_), res(res_), r(p_.seed), sw0(kstack::swap::stats()), start_us(timer::now_us()),
          end_us(start_us + p_.seconds * 1000000), next_progress_us(start_us + p_.progress_us)
    {
    }
    Worker workers[MAX_SLEEPERS + MAX_GROWERS + 2];
    unsigned nworkers = 0;
    TaskSlot tasks[MAX_TASKS];
    Group groups[IPC_GROUPS] = {};

    bool on(Part part) const { return p.parts & part; }

    // ---- kernel workers
    void add_worker(Kind k, unsigned count)
    {
        for (unsigned i = 0; i < count && nworkers < sizeof workers / sizeof workers[0]; i++) {
            Worker& w = workers[nworkers];
            w.sh = &sh;
            w.kind = k;
            w.id = nworkers++;
        }
    }

    void start_worker(Worker& w)
    {
        static void (*const entries[])(void*) = {sleeper_main, grower_main, churn_main, hog_main};
        static const char* const names[] = {"soak-sleeper", "soak-grow", "soak-churn", "soak-hog"};
        unsigned k = unsigned(w.kind);
        uint32_t flags = w.kind == Kind::Hog ? uint32_t(TF_NO_SWAP) : 0u;
        auto t = thread::spawn({.name = names[k], .entry = entries[k], .arg = &w, .flags = flags,
                                .hart = int(w.id % cpu::count()), .joinable = true});
        if (t.ok()) {
            w.thread = t.value();
            sh.threads.fetch_add(1, std::memory_order_relaxed);
        }
    }

    void reap_worker(Worker& w)
    {
        int code = thread::join(w.thread);
        w.thread = nullptr;
        if (code == EXIT_STACK_LOST) {
            res.stacks_lost++;
            // Its round never came back to be checked.
            if (w.in_walk.exchange(0))
                sh.wakes_started.fetch_sub(1, std::memory_order_relaxed);
        } else if (code != 0) {
            sh.failf("a kernel worker ended with %d", code);
        }
    }

    void tend_workers(bool restart)
    {
        for (unsigned i = 0; i < nworkers; i++) {
            Worker& w = workers[i];
            if (w.thread && w.thread->exited.load(std::memory_order_acquire))
                reap_worker(w);
            if (!w.thread && restart)
                start_worker(w);
        }
    }

    // ---- user tasks
    TaskSlot* spawn_task(TaskKind k, const char* program, uint64_t arg, unsigned group = 0,
                         ipc::Endpoint* ep = nullptr)
    {
        TaskSlot* s = nullptr;
        for (TaskSlot& t : tasks)
            if (!t.t) {
                s = &t;
                break;
            }
        if (!s) {
            if (ep)
                ipc::drop(ep);
            return nullptr;
        }
        lib::Result<Task*> t = task::spawn(program, arg, nullptr, ep);
        if (!t.ok())
            return nullptr; // out of memory for the moment: tried again next tick
        *s = {t.value(), k, group, false};
        res.tasks++;
        return s;
    }

    unsigned live(TaskKind k) const
    {
        unsigned n = 0;
        for (const TaskSlot& t : tasks)
            n += t.t && t.kind == k;
        return n;
    }

    void start_ipc_group(unsigned g)
    {
        uint64_t hold_ms = kstack::swap::idle_us() / 1000 / 4;
        TaskSlot* srv = spawn_task(TaskKind::IpcServer, "ipcsoak", hold_ms < 50 ? 50 : hold_ms, g);
        if (!srv)
            return;
        // The server makes its endpoint first thing (handle 0).
        ipc::Endpoint* ep = nullptr;
        for (uint64_t until = timer::now_us() + 2000000; !ep && timer::now_us() < until && !srv->t->done.load();) {
            ep = ipc::take_ref(srv->t, 0);
            if (!ep)
                sched::sleep_us(1000);
        }
        groups[g] = {true, false, 0, srv->t};
        if (!ep)
            return; // killed meanwhile, or memory short: it times out and is reaped
        for (unsigned c = 0; c < IPC_CLIENTS; c++) {
            ipc::Endpoint* mine = ipc::take_ref(srv->t, 0);
            if (!mine)
                break;
            if (spawn_task(TaskKind::IpcClient, "ipcsoak", IPC_CLIENT_BIT | uint64_t(IPC_CALLS) << 8 | c, g, mine))
                groups[g].clients_left++;
        }
        ipc::drop(ep);
    }

    void spawn_tasks()
    {
        if (on(FUZZ))
            while (live(TaskKind::Fuzz) < FUZZERS &&
                   spawn_task(TaskKind::Fuzz, "fuzz", FUZZ_KCALLS << 32 | ((p.seed * 131 + res.tasks) & 0xffffffff)))
                ;
        if (on(IPC))
            for (unsigned g = 0; g < IPC_GROUPS; g++)
                if (!groups[g].active)
                    start_ipc_group(g);
        if (on(KILL) && live(TaskKind::Spin) == 0)
            (void)spawn_task(TaskKind::Spin, "spin", 0);
        // One at a time, one a second at most (each prints a line).
        if (on(THREADS) && live(TaskKind::Threads) == 0 && timer::now_us() >= next_mmthreads_us) {
            next_mmthreads_us = timer::now_us() + 1000000;
            (void)spawn_task(TaskKind::Threads, "mmthreads", 0);
        }
    }

    bool kill_slot(TaskSlot& s, const char* why)
    {
        if (s.killed || s.t->done.load())
            return false;
        s.killed = task::kill(s.t, EXIT_KILLED, why);
        if (s.killed && s.kind == TaskKind::IpcServer && groups[s.group].clients_left)
            groups[s.group].server_gone_early = true;
        return s.killed;
    }

    void random_kill()
    {
        uint64_t now = timer::now_us();
        if (now < next_kill_us)
            return;
        next_kill_us = now + 300000 + r.below(1200000);
        unsigned n = 0;
        for (TaskSlot& t : tasks)
            n += t.t && !t.killed;
        if (!n)
            return;
        unsigned pick = unsigned(r.below(n));
        for (TaskSlot& t : tasks)
            if (t.t && !t.killed && pick-- == 0) {
                res.kills += kill_slot(t, "killed by the soak");
                return;
            }
    }

    bool exit_ok(const TaskSlot& s, int code, bool& lost, bool& refused) const
    {
        lost = refused = false;
        if (s.killed)
            return code == EXIT_KILLED;
        if (code == EXIT_STACK_LOST) {
            lost = true;
            return true;
        }
        // A program the kernel refused memory (a bounded wait for pages that
        // ran out while the hog held them: docs/user.md) exits with ENOMEM.
        if (code == ENOMEM && s.kind != TaskKind::Spin) {
            refused = true;
            return true;
        }
        switch (s.kind) {
        case TaskKind::IpcClient:
            // 5 or 6: the call failed or timed out because its server went.
            return code == 0 || ((code == 5 || code == 6) && groups[s.group].server_gone_early);
        case TaskKind::Spin:
            return false; // ends only when killed
        default:
            return code == 0;
        }
    }

    void reap_tasks()
    {
        for (TaskSlot& s : tasks) {
            if (!s.t || !s.t->done.load(std::memory_order_acquire))
                continue;
            int code = s.t->exit_code;
            bool lost, refused;
            if (!exit_ok(s, code, lost, refused)) {
                sh.failf("task %lu (%s) exited with %d", s.t->id, s.t->name, code);
                kprintf("soak: task %lu (%s) ended wrongly: %s\n", s.t->id, s.t->name, s.t->why);
            }
            res.stacks_lost += lost;
            res.refused_memory += refused;
            Group& g = groups[s.group];
            if (s.kind == TaskKind::IpcClient) {
                if (code == 0)
                    res.ipc_calls += IPC_CALLS;
                g.clients_left--;
            }
            if (s.kind == TaskKind::IpcServer) {
                if (g.clients_left && !s.killed)
                    g.server_gone_early = true; // lost, or it timed out (counted wrong above)
                g.server = nullptr;
            }
            task::put(s.t);
            s.t = nullptr;
            if ((s.kind == TaskKind::IpcServer || s.kind == TaskKind::IpcClient) && !g.server && !g.clients_left)
                g.active = false;
        }
        // A group whose clients are all done: retire its server.
        for (unsigned gi = 0; gi < IPC_GROUPS; gi++)
            if (groups[gi].active && groups[gi].server && !groups[gi].clients_left)
                for (TaskSlot& s : tasks)
                    if (s.t == groups[gi].server)
                        (void)kill_slot(s, "retired by the soak");
    }

    unsigned tasks_left() const
    {
        unsigned n = 0;
        for (const TaskSlot& t : tasks)
            n += t.t != nullptr;
        return n;
    }

    void progress(uint64_t now)
    {
        if (!p.progress_us || now < next_progress_us)
            return;
        next_progress_us += p.progress_us;
        kstack::swap::Stats sw = kstack::swap::stats();
        uint64_t s = (now - start_us) / 1000000;
        kprintf("soak: %lu/%lu s: %lu/%lu wakes verified, %lu walks; swap %lu out %lu in (%lu now); %lu kills, "
                "%lu tasks (%u live), %lu threads; free %lu pages (min %lu), hog %lu; errors w%lu r%lu, %lu lost\n",
                s, p.seconds, sh.wakes_verified.load(), sh.wakes_started.load(), sh.walks_verified.load(),
                sw.swap_outs - sw0.swap_outs, sw.swap_ins - sw0.swap_ins, sw.stacks_swapped, res.kills, res.tasks,
                tasks_left(), sh.threads.load(), vm::kmem::free_pages(), res.min_free_pages,
                sh.hog_pages.load(), sw.write_errors - sw0.write_errors, sw.read_errors - sw0.read_errors,
                res.stacks_lost + sh.lost.load());
    }

    // Once a second: IPC clients blocked in a call whose stack is out (or
    // on its way), the case the slow servers are there to make.
    void look_for_swapped_clients(uint64_t now)
    {
        if (!on(IPC) || now < next_look_us)
            return;
        next_look_us = now + 1000000;
        unsigned n = 0;
        thread::for_each([&n](Thread& th) {
            if (!th.task || !th.stack || th.state != ThreadState::Sleeping || !th.wait_reason ||
                strcmp(th.wait_reason, "ipc-call") != 0 || strcmp(th.task->name, "ipcsoak") != 0)
                return;
            kstack::StackState st = kstack::state(th.stack);
            if (st == kstack::StackState::Swapped || st == kstack::StackState::SwappingOut)
                n++;
        });
        res.ipc_clients_seen_swapped += n;
    }

    void tick()
    {
        sh.note_free(vm::kmem::free_pages());
        res.min_free_pages = sh.min_free.load(std::memory_order_relaxed);
        uint64_t now = timer::now_us();
        look_for_swapped_clients(now);
        progress(now);
    }

    // False if tasks or threads were still there at the end: they point
    // into this object, so it must then never go away.
    [[nodiscard]] bool run()
    {
        unsigned harts = cpu::count();
        if (on(SLEEPERS)) {
            // Sixteen a hart, fewer on a small machine: a sleeper's stack is
            // at most 4 pages, and the hog must leave room for the rest.
            uint64_t n = 16 * harts;
            if (n > vm::kmem::free_pages() / 256)
                n = vm::kmem::free_pages() / 256;
            add_worker(Kind::Sleeper, unsigned(n < MAX_SLEEPERS ? n : MAX_SLEEPERS));
        }
        if (on(GROW))
            add_worker(Kind::Grower, harts < MAX_GROWERS ? harts : MAX_GROWERS);
        if (on(THREADS))
            add_worker(Kind::Churn, 1);
        if (on(HOG))
            add_worker(Kind::Hog, 1);
        while (!sh.failed.load() && timer::now_us() < end_us) {
            tend_workers(true);
            spawn_tasks();
            reap_tasks();
            if (on(KILL))
                random_kill();
            tick();
            sched::sleep_us(TICK_US);
        }
        // Wind down: workers finish their round, every task is ended.
        sh.stop.store(true);
        uint64_t until = timer::now_us() + DRAIN_US;
        for (;;) {
            tend_workers(false);
            for (TaskSlot& s : tasks)
                if (s.t)
                    (void)kill_slot(s, "soak over");
            reap_tasks();
            tick();
            bool busy = tasks_left() != 0;
            for (unsigned i = 0; i < nworkers; i++)
                busy |= workers[i].thread != nullptr;
            if (!busy)
                return true;
            if (timer::now_us() > until) {
                for (const TaskSlot& s : tasks)
                    if (s.t)
                        kprintf("soak: task %lu (%s) still not done: %s, %u threads\n", s.t->id, s.t->name,
                                s.t->exiting.load() ? "exiting" : "running", s.t->nthreads);
                for (unsigned i = 0; i < nworkers; i++)
                    if (workers[i].thread)
                        kprintf("soak: thread %lu (%s) still not done\n", workers[i].thread->id,
                                workers[i].thread->name);
                sh.failf("tasks or threads still not done %lu s after the end", DRAIN_US / 1000000);
                return false;
            }
            sched::sleep_us(TICK_US);
        }
    }
};

alignas(Monitor) unsigned char g_monitor[sizeof(Monitor)];

} // namespace

bool run_monitor(const Params& p, Shared& sh, Result& res)
{
    Monitor* m = new (g_monitor) Monitor(p, sh, res);
    if (!m->run())
        return false;
    m->~Monitor();
    return true;
}

} // namespace kern::soak::detail
