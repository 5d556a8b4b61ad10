// Host stand-ins for the seam's out-of-line functions (kern/seam/): the hart
// count, kprintf (stdout) and panic (throws HostPanic). The inline ones (the
// current hart, interrupt sections) are in test/host/seam_impl/.
#include "kern/seam/cpu.h"
#include "kern/seam/panic.h"
#include "kern/seam/printf.h"
#include "test/host/host_kernel.h"

#include <atomic>
#include <cstdio>

namespace {
std::atomic<unsigned> g_count {1};
} // namespace

namespace cpu {
unsigned count() { return g_count.load(); }
void host_set_count(unsigned n) { g_count.store(n); }
} // namespace cpu

void panic(const char* fmt, ...)
{
    char buf[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    throw HostPanic {buf};
}

int kvprintf(const char* fmt, va_list ap) { return vprintf(fmt, ap); }

int kprintf(const char* fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vprintf(fmt, ap);
    va_end(ap);
    return n;
}

int ksnprintf(char* buf, size_t size, const char* fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(buf, size, fmt, ap);
    va_end(ap);
    return n;
}
