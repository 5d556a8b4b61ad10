#include "kern/arch/riscv/smp.h"

#include "kern/arch/riscv/hart.h"
#include "kern/arch/riscv/ipi.h"
#include "kern/sync/spinlock.h"

kern::HartLocal hart_locals[cpu::MAX_HARTS];

namespace kern {

unsigned online_count()
{
    unsigned n = 0;
    for (auto& h : hart_locals)
        n += h.online.load(std::memory_order_acquire);
    return n;
}

} // namespace kern

unsigned cpu::count() { return kern::online_count(); }

namespace kern::smp {
namespace {

// The posted call is the caller's FunctionRef, which lives in the caller's
// frame until the call is done (the caller waits for that).
using Call = lib::FunctionRef<void()>;
struct Mailbox {
    ksync::SpinLock lock {"smp-call"};
    std::atomic<const Call*> fn {nullptr};
    std::atomic<bool> done;
};
Mailbox g_mail[cpu::MAX_HARTS];

} // namespace

void run_posted_call()
{
    Mailbox& m = g_mail[cpu::id()];
    if (const Call* fn = m.fn.exchange(nullptr, std::memory_order_acquire)) {
        (*fn)();
        m.done.store(true, std::memory_order_release);
    }
}

void call_on(unsigned index, lib::FunctionRef<void()> fn)
{
    if (index == cpu::id()) {
        cpu::IrqGuard g;
        fn();
        return;
    }
    Mailbox& m = g_mail[index];
    ksync::SpinGuard guard(m.lock);
    m.done.store(false);
    m.fn.store(&fn, std::memory_order_release);
    ipi::send(index, ipi::Reason::Call);
    // Interrupts are off while we hold the mailbox lock. If the target is at the
    // same moment calling us, it spins with interrupts off too: serve our own
    // mailbox while waiting so two harts calling each other both finish.
    while (!m.done.load(std::memory_order_acquire))
        run_posted_call();
}

namespace {
void post(unsigned index, const Call& fn)
{
    Mailbox& m = g_mail[index];
    m.lock.lock();
    m.done.store(false);
    m.fn.store(&fn, std::memory_order_release);
    ipi::send(index, ipi::Reason::Call);
}

void wait_posted(unsigned index)
{
    Mailbox& m = g_mail[index];
    while (!m.done.load(std::memory_order_acquire))
        run_posted_call();
    m.lock.unlock();
}
} // namespace

void run_concurrently(lib::FunctionRef<void()> fn)
{
    unsigned me = cpu::id();
    for (unsigned i = 0; i < cpu::MAX_HARTS; i++)
        if (i != me && hart(i).online.load())
            post(i, fn);
    fn();
    // Locks are released in the reverse order of taking them.
    for (unsigned i = cpu::MAX_HARTS; i-- > 0;)
        if (i != me && hart(i).online.load())
            wait_posted(i);
}

void call_on_all(lib::FunctionRef<void()> fn)
{
    for (unsigned i = 0; i < cpu::MAX_HARTS; i++)
        if (hart(i).online.load() && i != cpu::id())
            call_on(i, fn);
    call_on(cpu::id(), fn);
}

} // namespace kern::smp
