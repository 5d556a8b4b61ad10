// The kernel side of kern/seam/lock_watch.h: the lock checker when it is on,
// and the spin watchdog.
#pragma once

#include "kern/sync/lockcheck.h"
#include "kern/sync/spinwatch.h"

namespace lockwatch {

inline bool checking() { return ksync::lockcheck::enabled(); }

inline void acquired(const void* lock, const char* name, uint16_t& cls, uintptr_t where, bool trylock)
{
    ksync::lockcheck::spin_acquire(lock, name, cls, where, trylock);
}

inline void released(const void* lock) { ksync::lockcheck::spin_release(lock); }

using Spinning = ksync::spinwatch::Spinning;
constexpr unsigned POLL_EVERY = ksync::spinwatch::POLL_EVERY;

} // namespace lockwatch
