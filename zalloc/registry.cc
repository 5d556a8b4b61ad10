#include "zalloc/registry.h"

#include "kern/sync/spinlock.h"
#include "zalloc/backend.h"
#include "zalloc/kmalloc.h"

namespace zalloc {

namespace {
constinit ksync::SpinLock g_lock("zalloc-registry");
constinit lib::List<ZoneBase, &ZoneBase::registry_node> g_zones;
} // namespace

void ZoneBase::snapshot(ZoneStats& out) { out.name = name_; }
bool ZoneBase::replenish() { return true; }
void ZoneBase::poll() {}

void ZoneBase::register_self()
{
    ksync::SpinGuard g(g_lock);
    g_zones.push_back(*this);
    registered_ = true;
}

void ZoneBase::unregister_self()
{
    ksync::SpinGuard g(g_lock);
    if (registered_)
        g_zones.remove(*this);
    registered_ = false;
}

void ZoneBase::queue_replenish()
{
    // Only the first user after a replenish wakes the thread.
    if (!replenish_queued_.exchange(1, std::memory_order_acq_rel) && backend_)
        backend_->request_replenish();
}

bool replenish_all()
{
    ksync::SpinGuard g(g_lock);
    bool all = true;
    for (ZoneBase& z : g_zones) {
        if (!z.replenish_queued_.exchange(0, std::memory_order_acq_rel))
            continue;
        if (!z.replenish()) {
            z.replenish_queued_.store(1, std::memory_order_release);
            all = false;
        }
    }
    return all;
}

void poll_all()
{
    {
        ksync::SpinGuard g(g_lock);
        for (ZoneBase& z : g_zones)
            z.poll();
    }
    malloc_types_poll();
    replenish_all();
}

size_t zone_count()
{
    ksync::SpinGuard g(g_lock);
    return g_zones.size();
}

size_t snapshot_zones(ZoneStats* out, size_t max)
{
    ksync::SpinGuard g(g_lock);
    size_t i = 0;
    for (ZoneBase& z : g_zones) {
        if (i < max) {
            out[i] = ZoneStats {};
            z.snapshot(out[i]);
        }
        i++;
    }
    return i;
}

} // namespace zalloc
