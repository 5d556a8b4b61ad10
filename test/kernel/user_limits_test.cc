// User tasks against the kernel's resources: waits for memory from a system
// call are bounded and end on a kill; the thread limit holds under races;
// a kill ends every thread however they wait (docs/user.md, "Limits").
#include "kern/ktest.h"
#include "kern/printf.h"
#include "kern/sched.h"
#include "kern/task.h"
#include "kern/thread.h"
#include "kern/timer.h"
#include "lib/string.h"
#include "user/abi.h"
#include "vm/kmem.h"

using namespace kern;

namespace {

constexpr uint64_t MEMHOG_HOLD = 1ul << 32; // user/progs/memhog.cc

// Pages enough to spawn a task (its objects, root table, text and stack).
constexpr size_t SPAWN_PAGES = 256;

// Every Normal page there is, linked through the pages themselves. take()
// tops it up (the pagedaemon frees some by swapping stacks out meanwhile).
struct Hoard {
    uint64_t head = 0;
    size_t n = 0;
    void take()
    {
        for (;;) {
            lib::Result<uint64_t> pa = vm::kmem::alloc_page(vm::kmem::Class::Normal, false);
            if (!pa.ok())
                return;
            *static_cast<uint64_t*>(vm::kmem::phys_to_virt(pa.value())) = head;
            head = pa.value();
            n++;
        }
    }
    // Give back n pages (enough to spawn a task), keep the rest.
    void release(size_t keep_free)
    {
        for (; head && keep_free; keep_free--) {
            uint64_t next = *static_cast<uint64_t*>(vm::kmem::phys_to_virt(head));
            vm::kmem::free_page(head);
            head = next;
            n--;
        }
    }
    void release()
    {
        while (head) {
            uint64_t next = *static_cast<uint64_t*>(vm::kmem::phys_to_virt(head));
            vm::kmem::free_page(head);
            head = next;
            n--;
        }
    }
    ~Hoard() { release(); }
};

// Wait up to timeout_us for tk to end, keeping the hoard full. Whether it ended.
bool wait_hoarding(Task* tk, Hoard& h, uint64_t timeout_us)
{
    uint64_t t0 = timer::now_us();
    while (timer::now_us() - t0 < timeout_us) {
        h.take();
        if (task::wait(tk, 5000).ok())
            return true;
    }
    return false;
}

// Whether a thread of tk sleeps waiting for pages (vm/kmem.cc's queue).
bool in_memory_wait(Task* tk)
{
    ksync::SpinGuard g(tk->lock);
    for (Thread& th : tk->threads)
        if (th.state == ThreadState::Sleeping && th.wait_reason && strcmp(th.wait_reason, "memwait") == 0)
            return true;
    return false;
}

// Ends tk whatever state it is in (memory given back first) and drops it.
void finish(Task* tk, Hoard& h)
{
    h.release();
    task::kill(tk, EXIT_KILLED, "ktest cleanup");
    (void)task::wait(tk);
    task::put(tk);
}

// Take every page but what it takes to start memhog, which then maps the rest.
Task* start_memhog(ktest::Context& t, Hoard& h, uint64_t arg = 0)
{
    h.take();
    h.release(SPAWN_PAGES);
    lib::Result<Task*> r = task::spawn("memhog", arg);
    if (!r.ok()) {
        t.failf("memhog: spawn failed: %s", lib::error_name(r.error()));
        return nullptr;
    }
    return r.value();
}

} // namespace

// With no page to be had, an mmap gives up within the bound (memwait_ms,
// one second by default) with ENOMEM instead of waiting forever.
KTEST(user_limits_mmap_wait_is_bounded)
{
    Hoard h;
    Task* tk = start_memhog(t, h);
    if (!tk)
        return;
    uint64_t fails0 = vm::kmem::memory_wait_failures();
    uint64_t t0 = timer::now_us();
    bool ended = wait_hoarding(tk, h, 3 * vm::kmem::memwait_us());
    uint64_t took = timer::now_us() - t0;
    int code = tk->exit_code;
    kprintf("ktest: memhog with %zu pages hoarded: %s after %lu ms, code %d\n", h.n,
            ended ? "ended" : "still waiting", took / 1000, code);
    finish(tk, h);
    KEXPECT(ended);
    KEXPECT_EQ(code, ENOMEM);
    KEXPECT(vm::kmem::memory_wait_failures() > fails0);
}

// A kill ends a thread's wait for memory at once, well before the bound.
KTEST(user_limits_kill_ends_memory_wait)
{
    Hoard h;
    Task* tk = start_memhog(t, h);
    if (!tk)
        return;
    bool waiting = false;
    for (uint64_t t0 = timer::now_us(); !waiting && timer::now_us() - t0 < 2000000;) {
        h.take();
        sched::sleep_us(1000);
        waiting = in_memory_wait(tk);
    }
    uint64_t t0 = timer::now_us();
    task::kill(tk, EXIT_KILLED, "killed by ktest");
    bool ended = wait_hoarding(tk, h, 2000000);
    uint64_t took = timer::now_us() - t0;
    kprintf("ktest: memhog waiting for pages ended %lu ms after the kill\n", took / 1000);
    finish(tk, h);
    KEXPECT(waiting);
    KEXPECT(ended);
    if (ended && took > 300000)
        t.failf("the kill took %lu us to end the wait", took);
}
