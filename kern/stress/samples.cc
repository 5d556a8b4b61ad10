#include "kern/stress/samples.h"

#include "boot/bootargs.h"
#include "kern/arch/riscv/timer.h"
#include "kern/console/printf.h"
#include "kern/sched/sched.h"
#include "kern/sched/thread.h"
#include "kstack/kstack.h"
#include "kstack/swap.h"
#include "vm/kmem.h"
#include "vm/pageout.h"

#include <atomic>

namespace kern::stress::samples {
namespace {

// Wake latencies of this period: a fixed ring the sleepers add to and the
// sampler drains (no allocation; a period with more wakes than fit keeps the
// first ones).
constexpr unsigned RING = 512;
std::atomic<uint32_t> g_lat[RING];
std::atomic<unsigned> g_nlat;
std::atomic<unsigned> g_users;   // Samplers alive (nested runs share one thread)
std::atomic<bool> g_stop;
std::atomic<bool> g_running;
Thread* g_thread;

void sort(uint32_t* v, unsigned n)
{
    for (unsigned i = 1; i < n; i++) // insertion sort: a few hundred at most
        for (unsigned j = i; j > 0 && v[j - 1] > v[j]; j--) {
            uint32_t t = v[j];
            v[j] = v[j - 1];
            v[j - 1] = t;
        }
}

uint32_t pct(const uint32_t* v, unsigned n, unsigned p) { return n ? v[(n - 1) * p / 100] : 0; }

void sampler_main(void*)
{
    vm::PhysAllocator::Stats p0 = vm::kmem::phys().stats();
    kstack::swap::Stats s0 = kstack::swap::stats();
    vm::pageout::Stats o0 = vm::pageout::stats();
    uint64_t start = timer::now_us(), next = start;
    static uint32_t lat[RING]; // only this thread uses it
    uint64_t wakes = 0;
    while (!g_stop.load(std::memory_order_acquire)) {
        vm::PhysAllocator::Stats p = vm::kmem::phys().stats();
        kstack::swap::Stats s = kstack::swap::stats();
        vm::pageout::Stats o = vm::pageout::stats();
        unsigned n = g_nlat.exchange(0, std::memory_order_acq_rel);
        n = n < RING ? n : RING;
        for (unsigned i = 0; i < n; i++)
            lat[i] = g_lat[i].load(std::memory_order_relaxed);
        sort(lat, n);
        wakes += n;
        kprintf("sample t=%lu free=%lu fail=%lu,%lu,%lu swapped=%lu out=%lu in=%lu given=%lu passes=%lu wakes=%lu "
                "p50=%u p90=%u p99=%u\n",
                (timer::now_us() - start) / 1000, p.free, p.failures[0] - p0.failures[0],
                p.failures[1] - p0.failures[1], p.failures[2] - p0.failures[2], s.stacks_swapped,
                s.swap_outs - s0.swap_outs, s.swap_ins - s0.swap_ins, o.stack_pages_given_back - o0.stack_pages_given_back,
                (o.swap_passes - o0.swap_passes) + (o.emergency_passes - o0.emergency_passes), wakes,
                pct(lat, n, 50), pct(lat, n, 90), pct(lat, n, 99));
        next += PERIOD_US;
        uint64_t now = timer::now_us();
        if (next > now)
            sched::sleep_us(next - now);
        else
            next = now; // fell behind (a loaded host): no burst of lines to catch up
    }
    g_running.store(false, std::memory_order_release);
}

} // namespace

bool wanted_by_bootargs() { return bootargs::has("samples"); }

Sampler::Sampler(bool on) : on_(on)
{
    if (!on_ || g_users.fetch_add(1) != 0)
        return;
    g_stop.store(false);
    g_nlat.store(0);
    g_running.store(true);
    // The sampler must keep printing while memory is at zero: a system
    // thread with a full stack, never swapped (kern/sched/thread.h).
    auto t = thread::spawn({.name = "sampler", .entry = sampler_main, .priority = PRIO_SYSTEM,
                            .flags = TF_SYSTEM | TF_NO_SWAP | TF_FULL_STACK, .joinable = true});
    if (!t.ok()) {
        kprintf("samples: no sampler thread (%s)\n", lib::error_name(t.error()));
        g_running.store(false);
        g_users.fetch_sub(1);
        on_ = false;
        return;
    }
    g_thread = t.value();
}

Sampler::~Sampler()
{
    if (!on_ || g_users.fetch_sub(1) != 1)
        return;
    g_stop.store(true, std::memory_order_release);
    (void)thread::join(g_thread);
    g_thread = nullptr;
}

SleepProbe::SleepProbe(const volatile void* on_stack, uint64_t sleep_us)
    : va_(on_stack), pa_(0), deadline_us_(timer::now_us() + sleep_us)
{
    if (g_running.load(std::memory_order_relaxed))
        pa_ = vm::kmem::virt_to_phys(const_cast<const void*>(va_));
}

SleepProbe::~SleepProbe()
{
    if (!pa_ || !g_running.load(std::memory_order_relaxed))
        return;
    if (vm::kmem::virt_to_phys(const_cast<const void*>(va_)) == pa_)
        return; // its stack stayed (or came back to the same page)
    uint64_t now = timer::now_us();
    uint64_t late = now > deadline_us_ ? now - deadline_us_ : 0;
    unsigned i = g_nlat.fetch_add(1, std::memory_order_acq_rel);
    if (i < RING)
        g_lat[i].store(late > 0xffffffffu ? 0xffffffffu : uint32_t(late), std::memory_order_relaxed);
}

} // namespace kern::stress::samples
