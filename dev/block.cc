#include "dev/block.h"

#include "kern/sync/spinlock.h"
#include "kern/sched/thread.h"
#include "kern/sync/wait.h"
#include "lib/string.h"

namespace dev {
namespace {

constexpr unsigned MAX_DEVICES = 16;
BlockDevice* g_devices[MAX_DEVICES];
unsigned g_count;
ksync::SpinLock g_lock {"block-devices"};

// A synchronous request waits here: completion (interrupt context) sets done
// and wakes the channel.
struct SyncWait {
    ksync::SpinLock lock {"block-sync"};
    bool done = false;
    lib::Status status;
};

void sync_done(BlockRequest*, lib::Status st, void* ctx)
{
    auto* w = static_cast<SyncWait*>(ctx);
    ksync::SpinGuard g(w->lock);
    w->status = st;
    w->done = true;
    ksync::wakeup(w);
}

lib::Status run_sync(BlockDevice& d, BlockOp op, uint64_t sector, void* buf, uint32_t n,
                     const BlockSegment* segs = nullptr, uint32_t nsegs = 0)
{
    // The request and its wait record live on this stack and are visible to the
    // driver and its interrupt handler until completion: hold the stack.
    kstack::Hold hold(kern::thread::current()->stack_holds);
    SyncWait w;
    BlockRequest req;
    req.op = op;
    req.sector = sector;
    req.nsectors = n;
    req.buf = buf;
    req.segs = segs;
    req.nsegs = nsegs;
    req.done = sync_done;
    req.ctx = &w;
    TRY(d.submit(req));
    w.lock.lock();
    while (!w.done)
        (void)ksync::sleep_on(&w, &w.lock, 0, "block I/O");
    lib::Status result = w.status;
    w.lock.unlock();
    return result;
}

} // namespace

lib::Status BlockDevice::read(uint64_t sector, void* buf, uint32_t n) { return run_sync(*this, BlockOp::Read, sector, buf, n); }

lib::Status BlockDevice::write(uint64_t sector, const void* buf, uint32_t n)
{
    return run_sync(*this, BlockOp::Write, sector, const_cast<void*>(buf), n);
}

lib::Status BlockDevice::transfer(BlockOp op, uint64_t sector, const BlockSegment* segs, uint32_t nsegs)
{
    if (!segs || nsegs == 0)
        return lib::Error::Invalid;
    uint64_t total = 0;
    for (uint32_t i = 0; i < nsegs; i++)
        total += segs[i].bytes;
    // A total nsectors cannot carry is refused here; the driver checks the rest.
    if (total % SECTOR_SIZE || total / SECTOR_SIZE > UINT32_MAX)
        return lib::Error::Invalid;
    return run_sync(*this, op, sector, nullptr, uint32_t(total / SECTOR_SIZE), segs, nsegs);
}

void register_block_device(BlockDevice* d)
{
    ksync::SpinGuard g(g_lock);
    if (g_count < MAX_DEVICES)
        g_devices[g_count++] = d;
}

BlockDevice* block_device(unsigned i)
{
    ksync::SpinGuard g(g_lock);
    return i < g_count ? g_devices[i] : nullptr;
}

BlockDevice* find_block_device(const char* name)
{
    ksync::SpinGuard g(g_lock);
    for (unsigned i = 0; i < g_count; i++)
        if (strcmp(g_devices[i]->name(), name) == 0)
            return g_devices[i];
    return nullptr;
}

unsigned block_device_count()
{
    ksync::SpinGuard g(g_lock);
    return g_count;
}

} // namespace dev
