// Memory over time: while `stress` or `soak` runs with the argument `samples`
// (or the bootarg `samples`), a thread prints one machine-readable line every
// 100 ms; tools/stress-plot.py draws them (make stress-plot, docs/debugging.md
// has the format):
//
//   sample t=MS free=PAGES fail=N,S,I swapped=K out=K in=K given=PAGES
//          passes=K wakes=K p50=US p90=US p99=US
//
// t is ms since sampling started; the other figures are totals since then,
// except free and swapped (now) and the wake percentiles (over the wakes of
// this 100 ms, 0 when there were none).
#pragma once

#include <cstdint>

namespace kern::stress::samples {

constexpr uint64_t PERIOD_US = 100000;

// RAII: sampling runs from construction until destruction (when `on`).
class Sampler {
public:
    explicit Sampler(bool on);
    ~Sampler();
    Sampler(const Sampler&) = delete;
    Sampler& operator=(const Sampler&) = delete;

private:
    bool on_;
};

// Whether the bootarg asks for samples on every stress and soak run.
[[nodiscard]] bool wanted_by_bootargs();

// A sleeper of the workloads around its timed sleep: it notes where one page
// of its stack is before the sleep, and after it, whether the stack was
// swapped out meanwhile (the page came back at another physical address: a
// swap-in maps fresh pages) and how late it ran. Only such wakes feed the
// percentiles; a stack that came back to the very page it left is missed.
class SleepProbe {
public:
    SleepProbe(const volatile void* on_stack, uint64_t sleep_us);
    ~SleepProbe();
    SleepProbe(const SleepProbe&) = delete;
    SleepProbe& operator=(const SleepProbe&) = delete;

private:
    const volatile void* va_;
    uint64_t pa_, deadline_us_;
};

} // namespace kern::stress::samples
