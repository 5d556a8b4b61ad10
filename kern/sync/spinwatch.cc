#include "kern/sync/spinwatch.h"

#include "kern/console/backtrace.h"
#include "kern/arch/riscv/hart.h"
#include "kern/sync/lockcheck.h"
#include "kern/console/panic.h"
#include "kern/console/printf.h"
#include "kern/sync/spinlock.h"
#include "kern/sched/thread.h"
#include "kern/arch/riscv/timer.h"

namespace kern {
bool panicking(); // kern/console/panic.cc
}

namespace ksync::spinwatch {

using namespace kern;

namespace {

std::atomic<unsigned> g_fired {0};

// HartLocal::backtrace_request: asked by a reporter, answered by the hart.
constexpr uint32_t ASKED = 1, ANSWERED = 2;

void print_thread(const HartLocal& h)
{
    if (h.current)
        kprintf("thread %lu (%s)", h.current->id, h.current->name);
    else
        kprintf("no thread");
}

void answer_backtrace(HartLocal& h)
{
    const auto* l = static_cast<const ksync::SpinLock*>(h.spinning_on);
    kprintf("spinwatch: hart %u, ", h.index);
    print_thread(h);
    kprintf(", spinning on \"%s\" (%p), held by hart %u:\n", l->name(), l, l->owner());
    backtrace_here();
    h.backtrace_request.store(ANSWERED, std::memory_order_release);
}

[[noreturn]] void report(const ksync::SpinLock* l, uint64_t since)
{
    FatalReport r;
    HartLocal& h = this_hart();
    h.lockcheck_busy++;
    unsigned owner = l->owner();
    uint64_t ms = (timer::now_ticks() - since) * 1000 / timer::timebase_hz();
    kprintf("\nspinwatch: hart %u has spun on spinlock \"%s\" (%p) for %lu ms with interrupts off; "
            "its holder is hart %u\n",
            h.index, l->name(), l, ms, owner);
    kprintf("spinwatch: hart %u (spinning), ", h.index);
    print_thread(h);
    kprintf(":\n");
    backtrace_here();
    if (owner < cpu::MAX_HARTS && owner != h.index) {
        HartLocal& o = hart(owner);
        kprintf("spinwatch: hart %u (holder), ", owner);
        print_thread(o);
        kprintf(", holds:\n");
        lockcheck::print_hart_held(o);
        o.backtrace_request.store(ASKED, std::memory_order_release);
        uint64_t give_up = timer::now_ticks() + timer::timebase_hz() / 2;
        while (o.backtrace_request.load(std::memory_order_acquire) != ANSWERED && timer::now_ticks() < give_up) {
        }
        if (o.backtrace_request.load() != ANSWERED)
            kprintf("spinwatch: hart %u did not answer: it runs with interrupts off outside a spin loop "
                    "(its locks above say where it took them)\n",
                    owner);
    }
    panic("spinwatch: hart %u stuck on spinlock \"%s\" held by hart %u", h.index, l->name(), owner);
}

} // namespace

Spinning::Spinning(const ksync::SpinLock* lock) : lock_(lock), deadline_(0)
{
    HartLocal& h = this_hart();
    uint64_t hz = timer::timebase_hz();
    h.spin_since = hz ? timer::now_ticks() : 0;
    if (hz)
        deadline_ = h.spin_since + LIMIT_MS * hz / 1000;
    h.spinning_on = lock;
}

Spinning::~Spinning() { this_hart().spinning_on = nullptr; }

void Spinning::poll()
{
    HartLocal& h = this_hart();
    // Another hart's panic sends a stop IPI, which a hart spinning with
    // interrupts off never takes: stop here instead.
    if (panicking())
        halt_this_hart();
    if (h.backtrace_request.load(std::memory_order_acquire) == ASKED)
        answer_backtrace(h);
    if (!deadline_ || timer::now_ticks() < deadline_)
        return;
    unsigned first = 0;
    if (g_fired.compare_exchange_strong(first, 1))
        report(lock_, h.spin_since);
    // Another hart is reporting: keep answering it until its panic stops us.
    deadline_ = ~0ull;
}

} // namespace ksync::spinwatch
