// In-kernel benchmarks. KBENCH(name) { ... } registers a benchmark in the
// .kbench section; bootarg bench=PATTERN (same patterns as ktest: "all", a
// name, "prefix*", a comma list) runs the matching ones after boot and powers
// off. Benchmarks print one line per figure:
//   kbench: <name> <value> <unit>
// which test/bench.py parses into docs/benchmarks.md. Values are fixed-point
// with two decimals, computed with integers (no floating point in the kernel).
//
// Counting: csr::rdinstret(). Under QEMU, instret is an exact count of retired
// instructions only with -icount (test/bench.py boots with -icount shift=0;
// without it QEMU 7.2 returns host ticks). With -icount the count is QEMU's
// global instruction counter: it includes whatever other harts execute in the
// same interval (idle harts sit in wfi and add only their timer ticks).
// Benchmarks subtract the cost of the same loop with the measured operation
// left out, and take medians where a timer tick may fall into a sample.
#pragma once

#include "kern/arch/riscv/csr.h"

#include <cstddef>
#include <cstdint>

namespace kbench {

struct Bench {
    const char* name;
    void (*fn)();
};

// "kbench: name total/n unit", two decimals. With n = 1, the plain value.
void report(const char* name, uint64_t total, uint64_t n, const char* unit);
// Same, with base subtracted from total first (clamped at 0).
void report_net(const char* name, uint64_t total, uint64_t base, uint64_t n, const char* unit);
// A free-form "kbench: info key text" line (configuration, counts).
void info(const char* key, const char* fmt, ...) __attribute__((format(printf, 2, 3)));

// Median of v[0..n) (sorts v in place).
uint64_t median(uint64_t* v, size_t n);

inline uint64_t now() { return csr::rdinstret(); }

// Run the benchmarks matching `pattern`; returns how many ran.
unsigned run(const char* pattern);
// Called from kmain when bootarg bench= is present: run, print
// "kbench: done N", power off.
[[noreturn]] void run_from_bootargs(const char* pattern);

} // namespace kbench

#define KBENCH(name)                                                                           \
    static void kbench_fn_##name();                                                            \
    [[gnu::used, gnu::section(".kbench")]] static const kbench::Bench kbench_desc_##name = {    \
        #name, kbench_fn_##name};                                                              \
    static void kbench_fn_##name()
