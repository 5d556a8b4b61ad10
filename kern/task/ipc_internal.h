// What the IPC files share and no one else sees: the endpoint, the one ipc
// lock, the stale reply cap, the counters and the test hooks. ipc.cc is the
// general path, ipc_fast.cc the fast path (kern/task/ipc.h).
#pragma once

#include "kern/task/ipc.h"
#include "kern/sync/spinlock.h"

#include <atomic>

namespace kern::ipc {

struct Endpoint {
    lib::List<Record, &Record::ep_node> senders, receivers;
    unsigned refs = 1; // handles (any task's) and spawn_ep in flight
    bool dead = false; // destroyed: every operation fails with EIDRM
};

namespace detail {

extern ksync::SpinLock g_lock;
// The general path's hand-offs (sched::sleep_handing_off) by a call and by a
// reply_receive, and the times it tried one but had to wake the partner
// instead.
extern std::atomic<uint64_t> g_fast_calls, g_fast_replies, g_fast_fallbacks;
// ipc_fast.cc's hand-offs (one counter each, not two: fast_path_stats() adds
// them to the general path's).
extern std::atomic<uint64_t> g_direct_calls, g_direct_replies;
extern std::atomic<uint64_t> g_remote; // of those: to a partner on another hart
extern std::atomic<CopyOutHook> g_copy_out_hook;
extern std::atomic<bool> g_direct_off; // set_fast_path(false)
inline Record* const STALE = reinterpret_cast<Record*>(1);

} // namespace detail
} // namespace kern::ipc
