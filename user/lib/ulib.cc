#include "user/lib/zest.h"

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

size_t strlen(const char* s)
{
    size_t n = 0;
    while (s[n])
        n++;
    return n;
}

int strcmp(const char* a, const char* b)
{
    while (*a && *a == *b)
        a++, b++;
    return (unsigned char)*a - (unsigned char)*b;
}

namespace {

struct Out {
    char* buf;
    size_t size, n;
    void put(char c)
    {
        if (n + 1 < size)
            buf[n] = c;
        n++;
    }
};

void put_num(Out& o, uint64_t v, unsigned base, bool neg, int width, char pad)
{
    char tmp[24];
    int i = 0;
    do {
        tmp[i++] = "0123456789abcdef"[v % base];
        v /= base;
    } while (v);
    if (neg)
        tmp[i++] = '-';
    for (int w = i; w < width; w++)
        o.put(pad);
    while (i)
        o.put(tmp[--i]);
}

int vformat(char* buf, size_t size, const char* fmt, va_list ap)
{
    Out o {buf, size, 0};
    for (; *fmt; fmt++) {
        if (*fmt != '%') {
            o.put(*fmt);
            continue;
        }
        fmt++;
        char pad = ' ';
        int width = 0;
        if (*fmt == '0')
            pad = '0', fmt++;
        while (*fmt >= '0' && *fmt <= '9')
            width = width * 10 + (*fmt++ - '0');
        int longs = 0;
        while (*fmt == 'l')
            longs++, fmt++;
        switch (*fmt) {
        case 'd':
        case 'i': {
            long v = longs ? va_arg(ap, long) : va_arg(ap, int);
            put_num(o, v < 0 ? 0 - uint64_t(v) : uint64_t(v), 10, v < 0, width, pad);
            break;
        }
        case 'u':
        case 'x': {
            uint64_t v = longs ? va_arg(ap, unsigned long) : va_arg(ap, unsigned);
            put_num(o, v, *fmt == 'x' ? 16 : 10, false, width, pad);
            break;
        }
        case 'p':
            o.put('0'), o.put('x');
            put_num(o, uint64_t(va_arg(ap, void*)), 16, false, width, pad);
            break;
        case 's': {
            const char* s = va_arg(ap, const char*);
            for (s = s ? s : "(null)"; *s; s++)
                o.put(*s);
            break;
        }
        case 'c': o.put(char(va_arg(ap, int))); break;
        case '%': o.put('%'); break;
        default: o.put('?'); break;
        }
    }
    if (size)
        buf[o.n < size ? o.n : size - 1] = '\0';
    return int(o.n);
}

} // namespace

int snprintf(char* buf, size_t size, const char* fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vformat(buf, size, fmt, ap);
    va_end(ap);
    return n;
}

int printf(const char* fmt, ...)
{
    char buf[512];
    va_list ap;
    va_start(ap, fmt);
    int n = vformat(buf, sizeof buf, fmt, ap);
    va_end(ap);
    write(buf, strlen(buf));
    return n;
}

void puts(const char* s)
{
    write(s, strlen(s));
    write("\n", 1);
}

} // namespace zest

// GCC may emit calls to these for struct copies and zeroing.
extern "C" void* memset(void* d, int c, size_t n)
{
    auto* p = static_cast<unsigned char*>(d);
    while (n--)
        *p++ = static_cast<unsigned char>(c);
    return d;
}

extern "C" void* memcpy(void* d, const void* s, size_t n)
{
    auto* a = static_cast<unsigned char*>(d);
    auto* b = static_cast<const unsigned char*>(s);
    while (n--)
        *a++ = *b++;
    return d;
}

namespace zest {
void* memset(void* d, int c, size_t n) { return ::memset(d, c, n); }
void* memcpy(void* d, const void* s, size_t n) { return ::memcpy(d, s, n); }
} // namespace zest
