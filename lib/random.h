// A small seeded pseudo-random generator (xorshift64*) for tests, stress runs
// and benchmarks: the same seed gives the same sequence on every run and
// every hart count, so a failing seed can be replayed.
#pragma once

#include <cstdint>

namespace lib {

class Random {
public:
    explicit constexpr Random(uint64_t seed) : s_(seed ? seed : 0x9e3779b97f4a7c15ull) {}

    constexpr uint64_t next()
    {
        s_ ^= s_ >> 12;
        s_ ^= s_ << 25;
        s_ ^= s_ >> 27;
        return s_ * 0x2545f4914f6cdd1dull;
    }
    // Uniform enough in [0, n) for test purposes (n > 0).
    constexpr uint64_t below(uint64_t n) { return n ? next() % n : 0; }

private:
    uint64_t s_;
};

} // namespace lib
