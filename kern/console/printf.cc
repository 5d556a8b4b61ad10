#include "kern/console/printf.h"

#include "kern/console/console.h"
#include "lib/format.h"

int kvprintf(const char* fmt, va_list ap)
{
    console::lock();
    size_t n = lib::vformat(console::write, fmt, ap);
    console::unlock();
    return static_cast<int>(n);
}

int kprintf(const char* fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = kvprintf(fmt, ap);
    va_end(ap);
    return n;
}

int ksnprintf(char* buf, size_t size, const char* fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    size_t n = lib::vformat_buf(buf, size, fmt, ap);
    va_end(ap);
    return static_cast<int>(n);
}
