// The soak (kern/stress/soak.h): every part's workers, the monitor that keeps them
// going, kills tasks and prints progress, and the final accounting.
//
// Threads: the caller starts the monitor (no-swap: it holds the books, and a
// read error on its stack would lose them) and joins it. The monitor runs the
// user side itself (spawning, reaping and killing tasks) and keeps one slot
// per kernel worker filled: a worker that ends is joined and replaced until
// the time is up. The hog is a worker too, no-swap for the same reason (the
// chain of pages it holds lives in its frames).
#include "kern/stress/soak.h"

#include "kern/arch/riscv/cpu.h"
#include "kern/sync/lockcheck.h"
#include "kern/console/printf.h"
#include "kern/sched/sched.h"
#include "kern/shell/shell.h"
#include "kern/stress/stress.h"
#include "kern/task/task.h"
#include "kern/sched/thread.h"
#include "kern/arch/riscv/timer.h"
#include "kstack/grow.h"
#include "kstack/kstack.h"
#include "kstack/swap.h"
#include "lib/random.h"
#include "lib/string.h"
#include "user/abi.h"
#include "vm/kmem.h"
#include "vm/page_chain.h"
#include "vm/swap.h"
#include "vm/uspace.h"
#include "zalloc/registry.h"
#include "zalloc/stats.h"

#include <atomic>
#include <new>

namespace kern::soak {
namespace {

constexpr const char* PART_NAMES[] = {"sleepers", "ipc", "fuzz", "kill", "threads", "grow", "hog"};
static_assert(sizeof PART_NAMES / sizeof PART_NAMES[0] == 7 && ALL_PARTS == (1u << 7) - 1);

constexpr uint64_t TICK_US = 10000;
constexpr unsigned MAX_SLEEPERS = 64;
constexpr unsigned MAX_GROWERS = 8;
constexpr unsigned CHURN_BURST = 4;
constexpr unsigned MAX_TASKS = 48;        // user tasks alive at once
constexpr unsigned IPC_GROUPS = 2, IPC_CLIENTS = 6, IPC_CALLS = 4;
constexpr unsigned FUZZERS = 2;
constexpr uint64_t FUZZ_KCALLS = 20;      // thousands of calls per fuzzer
constexpr uint64_t IPC_CLIENT_BIT = 1ull << 40; // user/progs/ipcsoak.cc
// The end: how long the tasks and threads may take to go, and swapped
// stacks to come back (the swapper's early swap-in looks every 200 ms, after
// a second without swap-out).
constexpr uint64_t DRAIN_US = 30000000, SWAP_SETTLE_US = 10000000;
// Free pages against the start, once every cache is counted: stack-region
// page tables built for stack slots the soak's extra threads needed are kept
// for good (one page per 2 MiB of slots, a few in all), and the allocator's
// per-hart page lists may hold a few more or fewer than at the start. The
// same bounds as the user tests' baseline check (test/kernel/user_test.cc).
constexpr int64_t UNACCOUNTED_MIN = -8, UNACCOUNTED_MAX = 16;

// Everything the workers and the monitor share.
struct Shared {
    const Params* p;
    std::atomic<bool> stop {false};
    std::atomic<uint64_t> wakes_started {0}, wakes_verified {0}, walks_verified {0}, mismatches {0};
    std::atomic<uint64_t> threads {0};
    std::atomic<uint64_t> lost {0}; // burst threads whose stack could not be read back
    std::atomic<uint64_t> hog_pages {0}, hog_waves {0};
    char fail[160] = {};
    std::atomic<unsigned> failed {0}; // word-sized: exchange() on a byte needs libatomic

    // The first failure's reason wins (fmt: a literal, checked at the call).
    template <typename... A>
    void failf(const char* fmt, A... a)
    {
        if (failed.exchange(1))
            return;
        ksnprintf(fail, sizeof fail, fmt, a...);
    }
    std::atomic<uint64_t> min_free {~0ull};
    void note_free(uint64_t f)
    {
        for (uint64_t m = min_free.load(std::memory_order_relaxed);
             f < m && !min_free.compare_exchange_weak(m, f, std::memory_order_relaxed);)
            ;
    }
    bool stopping() const { return stop.load(std::memory_order_relaxed); }
};

uint64_t random_seed(const Shared& sh, uint64_t salt)
{
    return sh.p->seed * 0x9e3779b97f4a7c15ull ^ salt * 0xbf58476d1ce4e5b9ull ^ timer::now_us();
}

// ---- Kernel workers ------------------------------------------------------

enum class Kind : uint8_t { Sleeper, Grower, Churn, Hog };

struct Worker {
    Shared* sh;
    Kind kind;
    unsigned id;
    Thread* thread = nullptr;
    uint64_t sleep_us = 0;          // this round's sleep at the bottom (sleepers, growers)
    std::atomic<unsigned> in_walk {0}; // a sleeper's round started and not checked yet
};

void sleep_at_bottom(stress::Walk& w, volatile uint64_t*)
{
    sched::sleep_us(static_cast<Worker*>(w.ctx)->sleep_us);
}

bool one_walk(Worker& wk, lib::Random& r, unsigned round, unsigned min_depth, uint64_t sleep_us)
{
    wk.sleep_us = sleep_us;
    stress::Walk w {.who = "soak", .seed = wk.sh->p->seed, .id = wk.id, .round = round,
                    .depth_bytes = min_depth + unsigned(r.below(stress::MAX_DEPTH_BYTES - min_depth + 1)),
                    .at_bottom = sleep_at_bottom, .ctx = &wk};
    bool ok = stress::walk(w);
    wk.sh->mismatches.fetch_add(w.mismatches, std::memory_order_relaxed);
    return ok;
}

// A few rounds, each a walk with a sleep at the bottom that the pagedaemon
// may swap out (half the idle threshold to two seconds past it), then exit:
// the monitor joins and replaces it.
void sleeper_main(void* arg)
{
    auto& wk = *static_cast<Worker*>(arg);
    Shared& sh = *wk.sh;
    lib::Random r(random_seed(sh, wk.id));
    uint64_t idle = kstack::swap::idle_us();
    unsigned rounds = 1 + unsigned(r.below(3));
    for (unsigned i = 0; i < rounds && !sh.stopping(); i++) {
        sh.wakes_started.fetch_add(1, std::memory_order_relaxed);
        wk.in_walk.store(1, std::memory_order_relaxed);
        bool ok = one_walk(wk, r, i, 1024, idle / 2 + r.below(idle / 2 + 2000000));
        wk.in_walk.store(0, std::memory_order_relaxed);
        if (ok)
            sh.wakes_verified.fetch_add(1, std::memory_order_relaxed);
    }
}

// Stack growth and give-back: mostly short sleeps at random depths, now and
// then a sleep past the idle threshold at a shallow depth (the pagedaemon
// takes the pages below sp back; the next deep walk grows into them again).
void grower_main(void* arg)
{
    auto& wk = *static_cast<Worker*>(arg);
    Shared& sh = *wk.sh;
    lib::Random r(random_seed(sh, 1000 + wk.id));
    for (unsigned i = 0; !sh.stopping(); i++) {
        bool shallow_and_long = r.below(16) == 0;
        uint64_t us = shallow_and_long ? kstack::swap::idle_us() + 500000 : r.below(30000);
        if (shallow_and_long) {
            wk.sleep_us = us;
            stress::Walk w {.who = "soak", .seed = sh.p->seed, .id = wk.id, .round = i, .depth_bytes = 512,
                            .at_bottom = sleep_at_bottom, .ctx = &wk};
            if (stress::walk(w))
                sh.walks_verified.fetch_add(1, std::memory_order_relaxed);
            sh.mismatches.fetch_add(w.mismatches, std::memory_order_relaxed);
        } else if (one_walk(wk, r, i, 512, us)) {
            sh.walks_verified.fetch_add(1, std::memory_order_relaxed);
        }
    }
}

// A short thread of a churn burst: one walk, its index as the exit code.
struct Burst {
    Worker w; // for one_walk's bookkeeping
    int code;
};

void burst_main(void* arg)
{
    auto& b = *static_cast<Burst*>(arg);
    lib::Random r(random_seed(*b.w.sh, 5000 + b.w.id));
    if (one_walk(b.w, r, 0, 256, r.below(5000)))
        b.w.sh->walks_verified.fetch_add(1, std::memory_order_relaxed);
    thread::exit(b.code);
}

// Bursts of one to four threads on random harts, joined; each must return
// its own exit code.
void churn_main(void* arg)
{
    auto& wk = *static_cast<Worker*>(arg);
    Shared& sh = *wk.sh;
    lib::Random r(random_seed(sh, 2000 + wk.id));
    for (unsigned round = 0; !sh.stopping(); round++) {
        Burst b[CHURN_BURST] = {};
        Thread* th[CHURN_BURST] = {};
        unsigned n = 1 + unsigned(r.below(CHURN_BURST));
        for (unsigned i = 0; i < n; i++) {
            b[i].w.sh = &sh;
            b[i].w.kind = Kind::Churn;
            b[i].w.id = 10000 + round * CHURN_BURST + i;
            b[i].code = int(round * CHURN_BURST + i) & 0xffff;
            auto t = thread::spawn({.name = "soak-burst", .entry = burst_main, .arg = &b[i],
                                    .hart = int(r.below(cpu::count())), .joinable = true});
            if (t.ok()) {
                th[i] = t.value();
                sh.threads.fetch_add(1, std::memory_order_relaxed);
            }
        }
        for (unsigned i = 0; i < n; i++) {
            if (!th[i])
                continue;
            int code = thread::join(th[i]);
            if (code == EXIT_STACK_LOST)
                sh.lost.fetch_add(1, std::memory_order_relaxed);
            else if (code != b[i].code)
                sh.failf("churn thread ended with %d, not %d", code, b[i].code);
        }
        sched::sleep_us(r.below(20000));
    }
}

// Waves: take every Normal page (and on every other wave the reserves too,
// down to zero), hold them for half the idle threshold to a second past it,
// give them back, rest.
void hog_main(void* arg)
{
    auto& wk = *static_cast<Worker*>(arg);
    Shared& sh = *wk.sh;
    lib::Random r(random_seed(sh, 3000));
    uint64_t idle = kstack::swap::idle_us();
    vm::PageChain chain;
    for (unsigned wave = 0; !sh.stopping(); wave++) {
        uint64_t rest_end = timer::now_us() + 500000 + r.below(1500000);
        while (!sh.stopping() && timer::now_us() < rest_end)
            sched::sleep_us(TICK_US);
        if (sh.stopping())
            break;
        chain.take_until_failure(vm::kmem::Class::Normal);
        if (wave % 2)
            chain.take_until_failure(vm::kmem::Class::Interrupt);
        sh.note_free(vm::kmem::free_pages()); // the floor, right now
        sh.hog_pages.store(chain.count, std::memory_order_relaxed);
        sh.hog_waves.fetch_add(1, std::memory_order_relaxed);
        uint64_t hold_end = timer::now_us() + idle / 2 + r.below(idle / 2 + 1000000);
        while (!sh.stopping() && timer::now_us() < hold_end)
            sched::sleep_us(TICK_US);
        chain.free_all();
        sh.hog_pages.store(0, std::memory_order_relaxed);
    }
}

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

// ---- The memory balance --------------------------------------------------

zalloc::ZoneStats g_zs[64];

constexpr size_t MAX_ZONES = sizeof g_zs / sizeof g_zs[0];

struct Books {
    struct Zone {
        const char* name; // the zone's own, static
        size_t used;
    } zones[MAX_ZONES];
    size_t nzones;
    uint64_t free_pages, zone_pages, stack_pages, cached_stacks, grow_cache, pool;
    uint64_t tasks, threads, user_pages, swap_used, stacks_swapped;
};

void settle()
{
    sched::sleep_us(20000);
    for (int i = 0; i < 4; i++)
        zalloc::poll_all();
}

// Into b (static: with every zone's count it is a KiB or so).
void take_books(Books& b)
{
    b = {};
    size_t n = zalloc::snapshot_zones(g_zs, MAX_ZONES);
    b.nzones = n < MAX_ZONES ? n : MAX_ZONES;
    for (size_t i = 0; i < b.nzones; i++) {
        b.zone_pages += g_zs[i].pages;
        b.zones[i] = {g_zs[i].name, g_zs[i].used};
    }
    kstack::Stats ks = kstack::stats();
    b.stack_pages = ks.object_pages;
    b.cached_stacks = ks.cached_hart + ks.cached_global;
    b.grow_cache = kstack::grow_cache_pages();
    b.pool = kstack::swap::swapin_pool_pages();
    b.tasks = task::count();
    b.threads = thread::count();
    b.user_pages = vm::uspace::total_pages();
    b.swap_used = vm::swap::enabled() ? vm::swap::stats().used : 0;
    b.stacks_swapped = kstack::swap::stats().stacks_swapped;
    b.free_pages = vm::kmem::free_pages();
}

size_t used_at_start(const Books& b0, const char* name)
{
    for (size_t i = 0; i < b0.nzones; i++)
        if (strcmp(b0.zones[i].name, name) == 0)
            return b0.zones[i].used;
    return 0;
}

// The first zone with more items in use than at the start (a leak), or null.
// A cached stack keeps its metadata item (kstack/kstack.cc's "kstack" zone):
// the stack cache's growth is a cache, as its pages are.
const Books::Zone* zone_grown(const Books& b0, const Books& b1)
{
    for (size_t i = 0; i < b1.nzones; i++) {
        size_t allowed = used_at_start(b0, b1.zones[i].name);
        if (strcmp(b1.zones[i].name, "kstack") == 0 && b1.cached_stacks > b0.cached_stacks)
            allowed += b1.cached_stacks - b0.cached_stacks;
        if (b1.zones[i].used > allowed)
            return &b1.zones[i];
    }
    return nullptr;
}

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

// One soak at a time, in static storage: the workers point into it (and a
// monitor's books are a few KiB, better not on a kernel stack).
struct State {
    Params p;
    Shared sh;
    Result res;
    Books b0, b1; // at the start and at the end
    alignas(Monitor) unsigned char monitor[sizeof(Monitor)];
};
State g_state;
std::atomic<unsigned> g_running {0};

// The monitor's thread: it owns the books from start to finish.
void monitor_main(void*)
{
    State& st = g_state;
    Monitor* m = new (st.monitor) Monitor(st.p, st.sh, st.res);
    if (m->run()) {
        m->~Monitor();
        return;
    }
    // Workers or tasks left behind still point into the state: say so and
    // never return (the shell's prompt stays stuck, visibly; g_running too).
    kprintf("soak: FAIL %s\n", st.sh.fail);
    for (;;)
        sched::sleep_us(1000000);
}

} // namespace

uint32_t part_named(const char* name)
{
    for (unsigned i = 0; i < sizeof PART_NAMES / sizeof PART_NAMES[0]; i++)
        if (strcmp(PART_NAMES[i], name) == 0)
            return 1u << i;
    return 0;
}

const char* part_name(unsigned bit) { return bit < 7 ? PART_NAMES[bit] : "?"; }

lib::Result<Result> run(const Params& params)
{
    if (!(params.parts & ALL_PARTS) || params.seconds == 0)
        return lib::Error::Invalid;
    if (g_running.exchange(1))
        return lib::Error::Busy;
    State& st = g_state;
    st.p = params;
    const Params& p = st.p;
    Shared& sh = *new (&st.sh) Shared();
    sh.p = &p;
    Result& res = st.res;
    res = {};
    settle();
    Books& b0 = st.b0;
    take_books(b0);
    const kstack::swap::Stats sw0 = kstack::swap::stats();
    sh.note_free(b0.free_pages);
    char parts[64] = {};
    size_t len = 0;
    for (unsigned i = 0; i < 7; i++)
        if (p.parts & (1u << i))
            len += size_t(ksnprintf(parts + len, sizeof parts - len, "%s%s", len ? "," : "", PART_NAMES[i]));
    kprintf("soak: %lu s, seed %lu, parts %s; %u harts, free %lu pages, swap %s, idle threshold %lu ms\n",
            p.seconds, p.seed, parts, cpu::count(), b0.free_pages,
            vm::swap::enabled() ? "on" : "off (no stack goes out)", kstack::swap::idle_us() / 1000);

    auto mt = thread::spawn({.name = "soak", .entry = monitor_main, .flags = TF_NO_SWAP, .joinable = true});
    if (!mt.ok()) {
        g_running.store(0);
        return mt.error();
    }
    (void)thread::join(mt.value()); // never returns if workers were stranded

    kstack::swap::Stats sw = kstack::swap::stats();
    res.wakes_verified = sh.wakes_verified.load();
    res.walks_verified = sh.walks_verified.load();
    res.mismatches = sh.mismatches.load();
    res.threads = sh.threads.load();
    res.stacks_lost += sh.lost.load();
    res.swap_outs = sw.swap_outs - sw0.swap_outs;
    res.swap_ins = sw.swap_ins - sw0.swap_ins;
    res.write_errors = sw.write_errors - sw0.write_errors;
    res.read_errors = sw.read_errors - sw0.read_errors + sw.checksum_errors - sw0.checksum_errors;
    if (res.mismatches)
        sh.failf("%lu stack frames came back wrong", res.mismatches);
    if (res.wakes_verified + res.mismatches < sh.wakes_started.load())
        sh.failf("%lu sleeper rounds never checked out", sh.wakes_started.load() - res.wakes_verified);
    if (res.stacks_lost && sw.killed == sw0.killed)
        sh.failf("%lu threads or tasks lost their stacks with no stack read failing", res.stacks_lost);

    // Swapped stacks of other threads come back once memory has recovered.
    for (uint64_t until = timer::now_us() + SWAP_SETTLE_US; timer::now_us() < until;) {
        if (kstack::swap::stats().stacks_swapped <= b0.stacks_swapped &&
            (!vm::swap::enabled() || vm::swap::stats().used <= b0.swap_used) && thread::count() <= b0.threads &&
            task::count() <= b0.tasks)
            break;
        sched::sleep_us(TICK_US);
    }
    settle();
    Books& b1 = st.b1;
    take_books(b1);
    int64_t caches = int64_t(b1.stack_pages - b0.stack_pages) + int64_t(b1.grow_cache - b0.grow_cache) +
                     int64_t(b1.pool - b0.pool) + int64_t(b1.zone_pages - b0.zone_pages);
    res.unaccounted_pages = int64_t(b0.free_pages) - int64_t(b1.free_pages) - caches;
    if (b1.tasks != b0.tasks)
        sh.failf("%lu tasks at the start, %lu now", b0.tasks, b1.tasks);
    else if (b1.threads != b0.threads)
        sh.failf("%lu threads at the start, %lu now", b0.threads, b1.threads);
    else if (const Books::Zone* z = zone_grown(b0, b1))
        sh.failf("zone %s: %zu items in use, %zu at the start", z->name, z->used, used_at_start(b0, z->name));
    else if (b1.user_pages != b0.user_pages)
        sh.failf("%lu user pages at the start, %lu now", b0.user_pages, b1.user_pages);
    else if (b1.swap_used > b0.swap_used)
        sh.failf("%lu swap blocks in use at the start, %lu now", b0.swap_used, b1.swap_used);
    else if (res.unaccounted_pages < UNACCOUNTED_MIN || res.unaccounted_pages > UNACCOUNTED_MAX)
        sh.failf("free pages not back: %ld pages unaccounted for", long(res.unaccounted_pages));
    memcpy(res.fail, sh.fail, sizeof res.fail);
    kprintf("soak: balance: free %lu pages (start %lu), caches %+ld (stacks %+ld, grow %+ld, swap-in pool %+ld, "
            "zones %+ld), %ld unaccounted (allowed %ld..%ld); tasks %lu, threads %lu, swap used %lu (start %lu)\n",
            b1.free_pages, b0.free_pages, long(caches), long(b1.stack_pages - b0.stack_pages),
            long(b1.grow_cache - b0.grow_cache), long(b1.pool - b0.pool), long(b1.zone_pages - b0.zone_pages),
            long(res.unaccounted_pages), long(UNACCOUNTED_MIN), long(UNACCOUNTED_MAX), b1.tasks, b1.threads,
            b1.swap_used, b0.swap_used);
    Result out = res;
    g_running.store(0);
    return out;
}

} // namespace kern::soak

namespace {

constexpr uint64_t SOAK_MAX_SECONDS = 7 * 24 * 3600;

} // namespace

SHELL_COMMAND(soak, "[seconds] [-part] [seed=N]",
              "everything at once (sleepers ipc fuzz kill threads grow hog; -name turns one off), default 60 s; "
              "ends 'soak: PASS ...' or 'soak: FAIL reason'")
{
    using namespace kern::soak;
    Params p;
    for (int i = 1; i < argc; i++) {
        const char* a = argv[i];
        if (a[0] == '-') {
            uint32_t part = part_named(a + 1);
            if (!part) {
                kprintf("soak: no part '%s' (sleepers ipc fuzz kill threads grow hog)\n", a + 1);
                return 1;
            }
            p.parts &= ~part;
        } else if (strncmp(a, "seed=", 5) == 0) {
            if (!kern::shell::parse_number(a + 5, 0, ~0ull / 10, p.seed))
                return 1;
        } else if (i != 1 || !kern::shell::parse_number(a, 1, SOAK_MAX_SECONDS, p.seconds)) {
            return 1;
        }
    }
    auto r = run(p);
    if (!r.ok()) {
        kprintf("soak: FAIL %s\n", lib::error_name(r.error()));
        return 0;
    }
    const Result& s = r.value();
    if (!s.ok()) {
        kprintf("soak: FAIL %s\n", s.fail);
        return 0;
    }
    kprintf("soak: PASS %lu s: %lu wakes verified, %lu walks; %lu swap-outs, %lu swap-ins; %lu kills; %lu tasks, "
            "%lu threads, %lu IPC calls checked (clients seen swapped out in a call %lu times); errors injected and survived: %lu write, %lu read, %lu stacks lost; "
            "%lu tasks refused memory (ENOMEM); min free %lu pages\n",
            p.seconds, s.wakes_verified, s.walks_verified, s.swap_outs, s.swap_ins, s.kills, s.tasks, s.threads,
            s.ipc_calls, s.ipc_clients_seen_swapped, s.write_errors, s.read_errors, s.stacks_lost, s.refused_memory, s.min_free_pages);
    // With bootarg lockcheck, what the checker saw while everything ran at once.
    if (lockcheck::enabled())
        lockcheck::print_summary();
    return 0;
}
