// The user library's own code: thread start, the median, and console printf
// over lib/format, with doubles from format_float.cc (lib/string.cc and lib/format.cc are linked in as they are:
// the Makefile builds them for user mode too).
#include "user/lib/zest.h"

#include "lib/format.h"
#include "user/lib/format_float.h"

#include <cstdarg>

extern "C" void __thread_start();

namespace zest {

long thread_create(long (*fn)(long), long arg, void* stack_top)
{
    // The thread starts at __thread_start (crt0.S) with a0 = arg, a1 = fn.
    return syscall6(SYS_THREAD_CREATE, long(&__thread_start), long(stack_top), arg, long(fn));
}

uint64_t median(uint64_t* v, int n)
{
    for (int i = 1; i < n; i++)
        for (int j = i; j > 0 && v[j - 1] > v[j]; j--) {
            uint64_t t = v[j];
            v[j] = v[j - 1];
            v[j - 1] = t;
        }
    return v[n / 2];
}

int snprintf(char* buf, size_t size, const char* fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    size_t n = lib::vformat_buf(buf, size, fmt, ap, format_double);
    va_end(ap);
    return int(n);
}

int printf(const char* fmt, ...)
{
    char buf[512];
    va_list ap;
    va_start(ap, fmt);
    size_t n = lib::vformat_buf(buf, sizeof buf, fmt, ap, format_double);
    va_end(ap);
    write(buf, strlen(buf));
    return int(n);
}

void puts(const char* s)
{
    write(s, strlen(s));
    write("\n", 1);
}

} // namespace zest
