#include "test/kernel/kbench.h"

#include "kern/arch/riscv/power.h"
#include "kern/console/printf.h"
#include "lib/format.h"
#include "lib/name_pattern.h"

#include <cstdarg>

extern "C" const kbench::Bench _kbench_start[], _kbench_end[];

namespace kbench {

void report(const char* name, uint64_t total, uint64_t n, const char* unit)
{
    if (n == 0)
        n = 1;
    // Two decimals, rounded: (total * 100 + n / 2) / n, without overflow for
    // totals below 2^57.
    uint64_t x = (total * 100 + n / 2) / n;
    kprintf("kbench: %s %lu.%02lu %s\n", name, x / 100, x % 100, unit);
}

void report_net(const char* name, uint64_t total, uint64_t base, uint64_t n, const char* unit)
{
    report(name, total > base ? total - base : 0, n, unit);
}

void info(const char* key, const char* fmt, ...)
{
    char buf[160];
    va_list ap;
    va_start(ap, fmt);
    lib::vformat_buf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    kprintf("kbench: info %s %s\n", key, buf);
}

uint64_t median(uint64_t* v, size_t n)
{
    if (n == 0)
        return 0;
    // Insertion sort: samples are few (hundreds to a few thousand).
    for (size_t i = 1; i < n; i++) {
        uint64_t x = v[i];
        size_t j = i;
        for (; j > 0 && v[j - 1] > x; j--)
            v[j] = v[j - 1];
        v[j] = x;
    }
    return v[n / 2];
}

unsigned run(const char* pattern)
{
    unsigned ran = 0;
    for (const Bench* b = _kbench_start; b < _kbench_end; b++) {
        if (!lib::name_matches(b->name, pattern))
            continue;
        kprintf("kbench: begin %s\n", b->name);
        b->fn();
        kprintf("kbench: end %s\n", b->name);
        ran++;
    }
    return ran;
}

void run_from_bootargs(const char* pattern)
{
    unsigned ran = run(pattern);
    if (ran == 0)
        kprintf("kbench: no benchmark matches '%s'\n", pattern);
    kprintf("kbench: done %u\n", ran);
    if (ran)
        kern::power::poweroff_or_halt();
    kern::power::poweroff_failure(1);
}

} // namespace kbench
