// The allocator fast paths are restartable sequences (kern/seam/hart_list.h,
// kern/arch/riscv/restart.h): they run with interrupts on, and an interrupt
// before a sequence's head store sends it back to its start. Here one hart
// runs alloc/free pairs on a kmalloc_obj zone, a zalloc zone and kmalloc(64)
// while another hart sends it inter-processor calls whose handler allocates and
// frees from the same zones, on the same hart's lists, at random points of
// those sequences. Every object carries a tag of its holder: an object handed
// to two holders at once (the result of a sequence that went on with a list
// the handler had changed) is seen by the second one. Afterwards every
// counter must be exact: zone requests, zone objects in use, the malloc
// type's in-use count and requests.
#include "kern/arch/riscv/restart.h"
#include "kern/arch/riscv/smp.h"
#include "kern/console/printf.h"
#include "kern/sched/thread.h"
#include "test/kernel/ktest.h"
#include "kern/arch/riscv/timer.h"
#include "vm/kmem.h"
#include "zalloc/kmalloc.h"
#include "zalloc/kmalloc_obj.h"
#include "zalloc/stats.h"
#include "zalloc/zone.h"

#include <atomic>

namespace {

ZALLOC_MALLOC_DEFINE(M_KTEST_RESTART, "ktest-restart", 0);

// Word 0 is the free list's link; the tag sits after it.
struct Obj {
    void* link;
    uint64_t tag;
};
constexpr uint64_t LOOP_TAG = 0x4c4f4f50'4c4f4f50; // held by the loop
constexpr uint64_t IRQ_TAG = 0x49525121'49525121;  // held by the handler
constexpr uint64_t FREE_TAG = 0x46524545'46524545;
constexpr int KINDS = 3;  // kmalloc_obj, zalloc, kmalloc
constexpr int HELD = 4;   // objects the loop holds of each kind at a time
// The hammer runs at least MIN_US, until MIN_RESTARTS sequences were sent back
// (how many interrupts land inside one depends on the host), at most MAX_US.
constexpr uint64_t MIN_US = 400000;
constexpr uint64_t MAX_US = 3000000;
constexpr uint64_t MIN_RESTARTS = 200;

zalloc::ObjZone g_obj;
zalloc::Zone g_zone;

struct Shared {
    std::atomic<bool> stop {false};
    std::atomic<uint64_t> allocs[KINDS] {};
    std::atomic<uint64_t> doubles {0};
    std::atomic<uint64_t> failed {0};
    std::atomic<uint64_t> calls {0};
    unsigned target = 0;
    Obj* irq_held[KINDS] = {};
};
Shared g;

Obj* take(int kind)
{
    void* p = kind == 0 ? g_obj.alloc(zalloc::M_NOWAIT)
            : kind == 1 ? g_zone.alloc(zalloc::M_NOWAIT)
                        : zalloc::kmalloc(sizeof(Obj), M_KTEST_RESTART, zalloc::M_NOWAIT);
    if (!p) {
        g.failed.fetch_add(1, std::memory_order_relaxed);
        return nullptr;
    }
    g.allocs[kind].fetch_add(1, std::memory_order_relaxed);
    return static_cast<Obj*>(p);
}

void give(int kind, Obj* o)
{
    o->tag = FREE_TAG;
    if (kind == 0)
        g_obj.free(o);
    else if (kind == 1)
        g_zone.free(o);
    else
        zalloc::kfree(o, M_KTEST_RESTART);
}

// Claim an object for `who`: it must not be held already.
void claim(Obj* o, uint64_t who)
{
    if (o->tag == LOOP_TAG || o->tag == IRQ_TAG)
        g.doubles.fetch_add(1, std::memory_order_relaxed);
    o->tag = who;
}

// In the target hart's software-interrupt handler: a new object first, then
// the one it held back, so each call changes the list's head (a free and then
// an allocation would hand back the same object and leave the list as it was).
void handler()
{
    for (int k = 0; k < KINDS; k++) {
        Obj* old = g.irq_held[k];
        g.irq_held[k] = take(k);
        if (g.irq_held[k])
            claim(g.irq_held[k], IRQ_TAG);
        if (old)
            give(k, old);
    }
}

// Bound to the target hart: pairs with interrupts on until told to stop.
void loop(void*)
{
    Obj* held[KINDS][HELD] = {};
    while (!g.stop.load(std::memory_order_relaxed)) {
        for (int k = 0; k < KINDS; k++)
            for (int i = 0; i < HELD; i++)
                if ((held[k][i] = take(k)))
                    claim(held[k][i], LOOP_TAG);
        for (int k = 0; k < KINDS; k++)
            for (int i = 0; i < HELD; i++)
                if (held[k][i])
                    give(k, held[k][i]);
    }
}

// Bound to another hart: calls into the target until the time is up.
void hammer(void*)
{
    uint64_t start = kern::timer::now_us();
    uint64_t restarts0 = kern::restart::restarts();
    for (;;) {
        uint64_t t = kern::timer::now_us() - start;
        if (t >= MAX_US || (t >= MIN_US && kern::restart::restarts() - restarts0 >= MIN_RESTARTS))
            break;
        kern::smp::call_on(g.target, handler);
        g.calls.fetch_add(1, std::memory_order_relaxed);
    }
    g.stop.store(true);
}

uint64_t zone_requests(const char* name, size_t* used)
{
    zalloc::ZoneStats st[64];
    size_t n = zalloc::snapshot_zones(st, 64);
    for (size_t i = 0; i < n && i < 64; i++)
        if (__builtin_strcmp(st[i].name, name) == 0) {
            *used = st[i].used;
            return st[i].requests;
        }
    *used = ~size_t(0);
    return 0;
}

} // namespace

KTEST(zalloc_fast_paths_restart_under_interrupts)
{
    using namespace kern;
    if (cpu::count() < 2) {
        kprintf("ktest: zalloc_fast_paths_restart_under_interrupts needs two harts: not run on one\n");
        return;
    }
    KEXPECT(restart::sequences() > 0);
    g_obj.init(zalloc::ObjZoneSpec {"ktest-restart-obj", sizeof(Obj), {}}, vm::kmem::backend());
    g_zone.init("ktest-restart-zone", sizeof(Obj), vm::kmem::backend());
    g.target = (cpu::id() + 1) % cpu::count();
    unsigned other = (g.target + 1) % cpu::count();
    size_t obj_used0, zone_used0;
    uint64_t obj_req0 = zone_requests("ktest-restart-obj", &obj_used0);
    uint64_t zone_req0 = zone_requests("ktest-restart-zone", &zone_used0);
    zalloc::MallocType::Totals type0 = M_KTEST_RESTART.totals();
    uint64_t restarts0 = restart::restarts();

    auto l = thread::spawn({.name = "restart-loop", .entry = loop, .flags = TF_BOUND,
                            .hart = static_cast<int>(g.target), .joinable = true});
    KEXPECT(l.ok());
    auto h = thread::spawn({.name = "restart-hammer", .entry = hammer, .flags = TF_BOUND,
                            .hart = static_cast<int>(other), .joinable = true});
    KEXPECT(h.ok());
    KEXPECT_EQ(thread::join(h.value()), 0);
    KEXPECT_EQ(thread::join(l.value()), 0);
    // The handler's last objects go back from the target hart's handler.
    smp::call_on(g.target, [] {
        for (int k = 0; k < KINDS; k++)
            if (Obj* o = g.irq_held[k]) {
                give(k, o);
                g.irq_held[k] = nullptr;
            }
    });
    uint64_t restarted = restart::restarts() - restarts0;

    size_t obj_used, zone_used;
    uint64_t obj_req = zone_requests("ktest-restart-obj", &obj_used) - obj_req0;
    uint64_t zone_req = zone_requests("ktest-restart-zone", &zone_used) - zone_req0;
    zalloc::MallocType::Totals type = M_KTEST_RESTART.totals();
    kprintf("ktest: %lu calls into hart %u, %lu restarted sequences; allocations %lu, %lu, %lu; %lu held twice, "
            "%lu failed\n",
            g.calls.load(), g.target, restarted, g.allocs[0].load(), g.allocs[1].load(), g.allocs[2].load(),
            g.doubles.load(), g.failed.load());
    KEXPECT_EQ(g.doubles.load(), 0u);
    KEXPECT_EQ(g.failed.load(), 0u);
    KEXPECT(restarted > 0); // the interrupts did land inside sequences
    KEXPECT_EQ(obj_req, g.allocs[0].load());
    KEXPECT_EQ(zone_req, g.allocs[1].load());
    KEXPECT_EQ(obj_used, obj_used0);
    KEXPECT_EQ(zone_used, zone_used0);
    KEXPECT_EQ(type.in_use, type0.in_use);
    KEXPECT_EQ((type.allocs_low - type0.allocs_low) & zalloc::MallocType::OBJS_MASK,
               g.allocs[2].load() & zalloc::MallocType::OBJS_MASK);
    // Type-stable zones stay (the kernel never destroys them); they are empty.
}
