// OwnerCounter: a statistic written by one hart only and read by anyone.
//
// The per-hart counters on allocation fast paths must cost a plain load and
// store. std::atomic with relaxed order would be the portable spelling, but GCC
// 12 for RISC-V compiles a relaxed atomic store into an amoswap, an atomic
// read-modify-write the fast path must not pay. So in the kernel the counter is
// a volatile aligned word (rv64 aligned loads and stores are single-copy atomic,
// so a reader on another hart sees an old or a new value, never a torn one: the
// kernel's READ_ONCE/WRITE_ONCE idiom). On the host, where ThreadSanitizer
// checks the tests, it is a relaxed std::atomic.
// Writers must be the owning hart with interrupts off, so no increment is lost.
#pragma once

#include <atomic>
#include <type_traits>

namespace zalloc {

template <typename T>
class OwnerCounter {
    static_assert(std::is_integral_v<T> && sizeof(T) <= 8);

public:
    constexpr OwnerCounter() = default;
    OwnerCounter(const OwnerCounter&) = delete;
    OwnerCounter& operator=(const OwnerCounter&) = delete;

#ifdef ZEST_HOST
    [[nodiscard]] T get() const { return v_.load(std::memory_order_relaxed); }
    void set(T x) { v_.store(x, std::memory_order_relaxed); }
#else
    [[nodiscard]] T get() const { return v_; }
    void set(T x) { v_ = x; }
#endif
    void add(T d) { set(static_cast<T>(get() + d)); }

private:
#ifdef ZEST_HOST
    std::atomic<T> v_ {0};
#else
    volatile T v_ = 0;
#endif
};

} // namespace zalloc

namespace zalloc {

// HartCounter: a per-hart statistic that code running anywhere may add to.
// The fast paths run with interrupts on and may be moved to another hart
// between finding their hart's slot and counting in it (hart_cache.h), so an
// add is one atomic add (amoadd on RISC-V: one instruction, on a line the hart
// normally owns), which loses no update to a racing hart or interrupt. Reads
// are plain loads.
template <typename T>
class HartCounter {
    static_assert(std::is_integral_v<T> && sizeof(T) <= 8);

public:
    constexpr HartCounter() = default;
    HartCounter(const HartCounter&) = delete;
    HartCounter& operator=(const HartCounter&) = delete;

    [[nodiscard]] T get() const { return v_.load(std::memory_order_relaxed); }
    void add(T d) { v_.fetch_add(d, std::memory_order_relaxed); }

private:
    std::atomic<T> v_ {0};
};

} // namespace zalloc
