// The hardware seam (kern/seam/cpu.h): what a spinlock (kern/sync/spinlock.cc)
// tells the kernel's lock checker (kern/sync/lockcheck.h) and spin watchdog
// (kern/sync/spinwatch.h). Host tests have neither; their hooks do nothing.
#pragma once

#include <cstdint>

namespace ksync {
class SpinLock;
}

namespace lockwatch {

// Whether the lock checker is on; when it is not, a lock calls neither hook
// (the check is one load and a branch, and the hooks' arguments are not even
// read). `lock` is about to be taken (before any spinning, so an order that
// can deadlock is reported even on the boot where it does not), or was taken
// by a try_lock; `cls` is the lock's cached class, `where` the caller.
inline bool checking();
inline void acquired(const void* lock, const char* name, uint16_t& cls, uintptr_t where, bool trylock);
inline void released(const void* lock);

// class Spinning: lives for one contended acquisition, in the spin loop:
//     explicit Spinning(const ksync::SpinLock* lock);
//     void poll();  called once every POLL_EVERY spins (constexpr unsigned)

} // namespace lockwatch

#include "seam_impl/lock_watch.h"
