// The soak's kernel workers (kern/stress/soak_internal.h): sleepers, growers,
// churn bursts and the memory hog. The monitor (soak_monitor.cc) starts,
// joins and replaces them.
#include "kern/stress/soak_internal.h"

#include "kern/seam/cpu.h"
#include "kern/arch/riscv/timer.h"
#include "kern/sched/sched.h"
#include "kern/stress/samples.h"
#include "kern/stress/stress.h"
#include "kstack/swap.h"
#include "lib/random.h"
#include "user/abi.h"
#include "vm/kmem.h"
#include "vm/page_chain.h"

namespace kern::soak::detail {
namespace {

constexpr unsigned CHURN_BURST = 4;

uint64_t random_seed(const Shared& sh, uint64_t salt)
{
    return sh.p->seed * 0x9e3779b97f4a7c15ull ^ salt * 0xbf58476d1ce4e5b9ull ^ timer::now_us();
}

void sleep_at_bottom(stress::Walk& w, volatile uint64_t* deepest)
{
    uint64_t us = static_cast<Worker*>(w.ctx)->sleep_us;
    stress::samples::SleepProbe probe(deepest, us);
    sched::sleep_us(us);
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

} // namespace

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

} // namespace kern::soak::detail
