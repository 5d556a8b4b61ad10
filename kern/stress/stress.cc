// The memory-pressure stress workload (kern/stress/stress.h): sleepers with deep,
// checksummed stacks, a memory hog and progress lines (the shell's `stress`
// command is in kern/shell/stress_commands.cc).
#include "kern/stress/stress.h"
#include "kern/stress/samples.h"

#include "kern/seam/cpu.h"
#include "kern/console/printf.h"
#include "kern/sched/sched.h"
#include "kern/sched/thread.h"
#include "kern/arch/riscv/timer.h"
#include "kstack/swap.h"
#include "vm/kmem.h"
#include "vm/page_chain.h"
#include "vm/swap.h"
#include "zalloc/kmalloc.h"

#include <atomic>
#include <new>

namespace kern::stress {

bool Result::ok() const
{
    return threads_started > 0 && threads_failed == 0 && mismatches == 0 && wakes_verified == wakes_expected;
}

namespace {

ZALLOC_MALLOC_DEFINE(g_stress_type, "stress", 0);

// Data words per frame; one more holds their checksum. With the saved
// registers a frame is some 280 bytes, so 8 KiB is about 30 levels.
constexpr unsigned FRAME_WORDS = 30;
constexpr uint64_t POLL_US = 10000;
// How long the hog waits for every sleeper to be asleep before it starts
// anyway (one that is slow to come back from swap must not stall the rest).
constexpr uint64_t BARRIER_SLACK_US = 10000000;

// splitmix64's finalizer: every input bit changes about half the output bits.
uint64_t mix(uint64_t x)
{
    x += 0x9e3779b97f4a7c15ull;
    x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
    x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
    return x ^ (x >> 31);
}

// A frame's block: word i is mix(key + i), then a checksum over the words.
uint64_t block_key(uint64_t seed, unsigned thread, unsigned round, unsigned level)
{
    return mix(mix(mix(mix(seed) ^ thread) ^ round) ^ level);
}
uint64_t word_of(uint64_t key, unsigned i) { return mix(key + i); }
uint64_t checksum_step(uint64_t sum, uint64_t word) { return mix(sum ^ word); }

struct Shared;

struct Sleeper {
    Shared* sh;
    unsigned index;
    Thread* thread;
    std::atomic<unsigned> sleeps {0}; // sleeps entered: the hog waits for everyone's
    std::atomic<bool> done {false};
};

struct Shared {
    const Params* p;
    std::atomic<unsigned> asleep {0}, finished {0}, verified {0}, mismatches {0};
    // Test hook: sleeper 0's deepest block in round 0, published before it sleeps.
    std::atomic<volatile uint64_t*> victim_block {nullptr};
    std::atomic<bool> corrupted {false}; // the hook has flipped its byte
};

// Check one frame's block after the wake; count and report a wrong one.
[[gnu::noinline]] void check(Walk& w, unsigned level, uint64_t key, const volatile uint64_t* block)
{
    uint64_t sum = key;
    for (unsigned i = 0; i <= FRAME_WORDS; i++) {
        uint64_t want = i < FRAME_WORDS ? word_of(key, i) : sum;
        uint64_t got = block[i];
        if (got != want) {
            w.mismatches++;
            char what[16];
            if (i < FRAME_WORDS)
                ksnprintf(what, sizeof what, "word %u", i);
            else
                ksnprintf(what, sizeof what, "checksum");
            kprintf("%s: MISMATCH thread %u round %u level %u %s at %p: expected %#018lx, found %#018lx\n", w.who,
                    w.id, w.round, level, what, static_cast<const volatile void*>(&block[i]), want, got);
            return; // one report and one count per frame
        }
        if (i < FRAME_WORDS)
            sum = checksum_step(sum, want);
    }
}

// One level: fill this frame's block, go deeper until depth_bytes of stack
// are in use, then check the block on the way back up. noinline and the
// volatile block keep every frame real; the check after the call keeps the
// recursion from becoming a loop.
[[gnu::noinline]] void descend(Walk& w, unsigned level)
{
    uint64_t key = block_key(w.seed, w.id, w.round, level);
    volatile uint64_t block[FRAME_WORDS + 1];
    uint64_t sum = key;
    for (unsigned i = 0; i < FRAME_WORDS; i++) {
        block[i] = word_of(key, i);
        sum = checksum_step(sum, word_of(key, i));
    }
    block[FRAME_WORDS] = sum;
    asm volatile("" : : "r"(block) : "memory");

    uintptr_t here = reinterpret_cast<uintptr_t>(__builtin_frame_address(0));
    if (w.top - here < w.depth_bytes)
        descend(w, level + 1);
    else
        w.at_bottom(w, block);
    asm volatile("" : : "r"(block) : "memory");
    check(w, level, key, block);
}

// The bottom of a sleeper's walk. sched::sleep_us links the Thread on the
// timeout list and nothing of this stack anywhere: no stack hold, so the
// pagedaemon may swap the stack out while we sleep. (A WaitQueue, sleep_on
// or CondVar would link a Waiter here and pin the stack.)
void sleep_at_bottom(Walk& w, volatile uint64_t* deepest)
{
    auto* s = static_cast<Sleeper*>(w.ctx);
    Shared* sh = s->sh;
    if (sh->p->corrupt_for_test && s->index == 0 && w.round == 0)
        sh->victim_block.store(deepest, std::memory_order_release);
    sh->asleep.fetch_add(1, std::memory_order_relaxed);
    s->sleeps.fetch_add(1, std::memory_order_release);
    {
        samples::SleepProbe probe(deepest, sh->p->sleep_us);
        sched::sleep_us(sh->p->sleep_us);
    }
    // The test hook's victim sleeps on until its frame has been hit (the
    // monitor may be slow to run on a loaded machine), 10 s at most.
    if (sh->p->corrupt_for_test && s->index == 0 && w.round == 0)
        for (unsigned i = 0; i < 1000 && !sh->corrupted.load(std::memory_order_acquire); i++)
            sched::sleep_us(POLL_US);
    sh->asleep.fetch_sub(1, std::memory_order_relaxed);
}

void sleeper_main(void* arg)
{
    auto* s = static_cast<Sleeper*>(arg);
    Shared* sh = s->sh;
    for (unsigned r = 0; r < sh->p->rounds; r++) {
        Walk w {.who = "stress", .seed = sh->p->seed, .id = s->index, .round = r,
                .depth_bytes = sh->p->depth_bytes, .at_bottom = sleep_at_bottom, .ctx = s};
        if (walk(w))
            sh->verified.fetch_add(1, std::memory_order_relaxed);
        else
            sh->mismatches.fetch_add(w.mismatches, std::memory_order_relaxed);
    }
    s->done.store(true, std::memory_order_release);
    sh->finished.fetch_add(1, std::memory_order_release);
}

} // namespace

bool walk(Walk& w)
{
    w.top = reinterpret_cast<uintptr_t>(__builtin_frame_address(0));
    w.mismatches = 0;
    descend(w, 0);
    return w.mismatches == 0;
}

namespace {

using vm::PageChain;


// The caller's side: runs the hog, watches free memory, prints progress and
// plays the corrupting thread for the test hook.
struct Monitor {
    const Params& p;
    Shared& sh;
    Sleeper* sleepers;
    unsigned started;
    Result& res;
    uint64_t start_us;
    uint64_t next_print_us;
    PageChain hog;

    void tick()
    {
        uint64_t f = vm::kmem::free_pages();
        if (f < res.min_free_pages)
            res.min_free_pages = f;
        if (p.corrupt_for_test && !sh.corrupted.load(std::memory_order_relaxed))
            maybe_corrupt();
        uint64_t now = timer::now_us();
        if (p.progress && now >= next_print_us) {
            next_print_us += 1000000;
            unsigned asleep = sh.asleep.load(std::memory_order_relaxed);
            unsigned finished = sh.finished.load(std::memory_order_relaxed);
            unsigned awake = asleep + finished < started ? started - asleep - finished : 0; // racy counts
            uint64_t ms = (now - start_us) / 1000;
            kprintf("stress: %lu.%lu s: %u asleep, %u awake, %u done; %u/%u wakes verified; free %lu pages, "
                    "hog %lu pages\n",
                    ms / 1000, ms % 1000 / 100, asleep, awake, finished,
                    sh.verified.load(std::memory_order_relaxed), started * p.rounds, f, hog.count);
        }
    }

    void wait_us(uint64_t us)
    {
        uint64_t end = timer::now_us() + us;
        for (uint64_t now; (now = timer::now_us()) < end;) {
            tick();
            sched::sleep_us(end - now < POLL_US ? end - now : POLL_US);
        }
        tick();
    }

    // Flip one byte of sleeper 0's deepest block while it sleeps in round 0.
    // Sleeper 0 runs with TF_NO_SWAP for this, so the byte is resident.
    void maybe_corrupt()
    {
        volatile uint64_t* b = sh.victim_block.load(std::memory_order_acquire);
        Sleeper& v = sleepers[0];
        if (!b || v.sleeps.load(std::memory_order_acquire) != 1)
            return;
        auto state = __atomic_load_n(reinterpret_cast<const uint8_t*>(&v.thread->state), __ATOMIC_RELAXED);
        if (state != static_cast<uint8_t>(ThreadState::Sleeping))
            return;
        volatile uint8_t* byte = reinterpret_cast<volatile uint8_t*>(&b[FRAME_WORDS / 2]) + 3;
        *byte = static_cast<uint8_t>(*byte ^ 0x10);
        sh.corrupted.store(true, std::memory_order_release);
        kprintf("stress: test hook: flipped a bit at %p in sleeper 0's deepest frame while it sleeps\n",
                static_cast<volatile void*>(byte));
    }

    bool all_asleep_in(unsigned round) const
    {
        for (unsigned i = 0; i < started; i++)
            if (!sleepers[i].done.load(std::memory_order_acquire) &&
                sleepers[i].sleeps.load(std::memory_order_acquire) <= round)
                return false;
        return true;
    }

    // One hog round: once every sleeper sleeps, wait so that the hold ends
    // about when they wake (they are idle longest then), take every Normal
    // page there is, hold them, give them back.
    void hog_round(unsigned round)
    {
        uint64_t deadline = timer::now_us() + p.sleep_us + BARRIER_SLACK_US;
        while (!all_asleep_in(round) && timer::now_us() < deadline)
            wait_us(POLL_US);
        if (p.sleep_us > p.hog_hold_us)
            wait_us(p.sleep_us - p.hog_hold_us);
        // Everything an ordinary caller may have, then (to_zero) the reserves
        // too, down to the last page: the paging path must cope with nothing.
        for (vm::kmem::Class c : {vm::kmem::Class::Normal, vm::kmem::Class::Interrupt}) {
            if (c == vm::kmem::Class::Interrupt && !p.hog_to_zero)
                break;
            for (;;) {
                auto pa = vm::kmem::alloc_page(c, false);
                if (!pa.ok())
                    break;
                hog.push(pa.value());
                if (hog.count % 4096 == 0)
                    tick();
            }
        }
        tick(); // free memory is at the floor right now
        if (hog.count > res.hog_pages_max)
            res.hog_pages_max = hog.count;
        wait_us(p.hog_hold_us);
        hog.free_all();
    }
};

} // namespace

lib::Result<Result> run(const Params& p)
{
    if (p.threads == 0 || p.threads > MAX_THREADS || p.rounds == 0 || p.depth_bytes > MAX_DEPTH_BYTES)
        return lib::Error::Invalid;
    samples::Sampler sampler(p.samples || samples::wanted_by_bootargs());

    auto* sleepers = static_cast<Sleeper*>(
        zalloc::kmalloc(p.threads * sizeof(Sleeper), g_stress_type, zalloc::M_WAITOK | zalloc::M_NULLOK));
    if (!sleepers)
        return lib::Error::NoMemory;
    Shared sh;
    sh.p = &p;

    Result res {};
    const kstack::swap::Stats sw0 = kstack::swap::stats();
    uint64_t start = timer::now_us();
    res.min_free_pages = vm::kmem::free_pages();
    if (p.progress)
        kprintf("stress: %u sleepers, %u bytes deep, %u rounds of %lu ms; hog %s (holds %lu ms); free %lu pages, "
                "Normal floor %lu\n",
                p.threads, p.depth_bytes, p.rounds, p.sleep_us / 1000, p.hog ? "on" : "off", p.hog_hold_us / 1000,
                res.min_free_pages, vm::kmem::phys().watermarks().free_reserved);

    // Sleepers spread over the harts. The test hook's victim must stay
    // resident: another thread writes into its stack.
    lib::Error spawn_error = lib::Error::None;
    unsigned started = 0;
    for (unsigned i = 0; i < p.threads; i++) {
        Sleeper* s = new (&sleepers[started]) Sleeper();
        s->sh = &sh;
        s->index = started;
        uint32_t flags = p.corrupt_for_test && started == 0 ? uint32_t(TF_NO_SWAP) : 0u;
        auto t = thread::spawn({.name = "stress", .entry = sleeper_main, .arg = s, .flags = flags,
                                .hart = int(i % cpu::count()), .joinable = true});
        if (!t.ok()) {
            if (spawn_error == lib::Error::None)
                kprintf("stress: could not create sleeper %u: %s\n", i, lib::error_name(t.error()));
            spawn_error = t.error();
            res.threads_failed++;
            s->~Sleeper();
            continue;
        }
        s->thread = t.value();
        started++;
    }
    res.threads_started = started;
    res.wakes_expected = started * p.rounds;
    if (res.threads_failed)
        kprintf("stress: %u of %u sleepers could not be created\n", res.threads_failed, p.threads);
    if (started == 0) {
        zalloc::kfree(sleepers, g_stress_type);
        return spawn_error;
    }

    Monitor m {p, sh, sleepers, started, res, start, start + 1000000, {}};
    for (unsigned r = 0; p.hog && r < p.rounds; r++)
        m.hog_round(r);
    while (sh.finished.load(std::memory_order_acquire) < started)
        m.wait_us(POLL_US);
    for (unsigned i = 0; i < started; i++) {
        (void)thread::join(sleepers[i].thread);
        sleepers[i].~Sleeper();
    }
    zalloc::kfree(sleepers, g_stress_type);

    res.wakes_verified = sh.verified.load();
    res.mismatches = sh.mismatches.load();
    res.elapsed_us = timer::now_us() - start;
    uint64_t ms = res.elapsed_us / 1000;
    kprintf("stress: %s: %u sleepers (%u failed), %u/%u wakes verified, %u mismatches; hog max %lu pages, "
            "min free %lu pages (Normal floor %lu); %lu.%03lu s\n",
            res.ok() ? "PASS" : "FAIL", res.threads_started, res.threads_failed, res.wakes_verified,
            res.wakes_expected, res.mismatches, res.hog_pages_max, res.min_free_pages,
            vm::kmem::phys().watermarks().free_reserved, ms / 1000, ms % 1000);
    kstack::swap::Stats sw = kstack::swap::stats();
    res.swap_outs = sw.swap_outs - sw0.swap_outs;
    res.swap_ins = sw.swap_ins - sw0.swap_ins;
    if (vm::swap::enabled())
        kprintf("stress: paging: %lu stacks swapped out, %lu in (%lu before their wakeup); woken threads waited "
                "%lu ms in all for their stacks; %lu still out\n",
                res.swap_outs, res.swap_ins, sw.early_swap_ins - sw0.early_swap_ins,
                (sw.swapin_wait_us - sw0.swapin_wait_us) / 1000, sw.stacks_swapped);
    else
        kprintf("stress: no swap device: stacks stayed resident (make run attaches one)\n");
    return res;
}

} // namespace kern::stress
