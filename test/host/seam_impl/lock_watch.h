// The host side of kern/seam/lock_watch.h: no lock checker, no watchdog.
#pragma once

#include <cstdint>

namespace ksync {
class SpinLock;
}

namespace lockwatch {

inline bool checking() { return false; }
inline void acquired(const void*, const char*, uint16_t&, uintptr_t, bool) {}
inline void released(const void*) {}

class Spinning {
public:
    explicit Spinning(const ksync::SpinLock*) {}
    void poll() {}
};
constexpr unsigned POLL_EVERY = 1024;

} // namespace lockwatch
