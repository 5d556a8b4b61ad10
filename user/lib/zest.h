// The user library: system-call wrappers (numbers and errors in user/abi.h)
// and a few helpers for console output. Freestanding: no libc.
#pragma once

#include "user/abi.h"

#include <cstddef>
#include <cstdint>

namespace zest {

inline long syscall6(long nr, long a0 = 0, long a1 = 0, long a2 = 0, long a3 = 0, long a4 = 0, long a5 = 0)
{
    register long r0 asm("a0") = a0;
    register long r1 asm("a1") = a1;
    register long r2 asm("a2") = a2;
    register long r3 asm("a3") = a3;
    register long r4 asm("a4") = a4;
    register long r5 asm("a5") = a5;
    register long r7 asm("a7") = nr;
    asm volatile("ecall" : "+r"(r0) : "r"(r1), "r"(r2), "r"(r3), "r"(r4), "r"(r5), "r"(r7) : "memory");
    return r0;
}

[[noreturn]] inline void exit(int code)
{
    syscall6(SYS_EXIT, code);
    __builtin_unreachable();
}
[[noreturn]] inline void thread_exit(int code)
{
    syscall6(SYS_THREAD_EXIT, code);
    __builtin_unreachable();
}
inline long yield() { return syscall6(SYS_YIELD); }
inline long sleep_us(uint64_t us) { return syscall6(SYS_SLEEP, long(us)); }
inline long write(const void* buf, size_t n) { return syscall6(SYS_WRITE, long(buf), long(n)); }
inline long spawn(const char* name, long arg = 0) { return syscall6(SYS_SPAWN, long(name), arg); }
inline long task_wait(long id, uint64_t timeout_us = 0) { return syscall6(SYS_TASK_WAIT, id, long(timeout_us)); }
inline long mmap(void* addr, size_t len, int prot) { return syscall6(SYS_MMAP, long(addr), long(len), prot); }
inline long munmap(void* addr, size_t len) { return syscall6(SYS_MUNMAP, long(addr), long(len)); }
inline long getpid() { return syscall6(SYS_GETPID); }
inline long gettid() { return syscall6(SYS_GETTID); }
// A thread running fn(arg) on the stack ending at stack_top; it exits with fn's result.
long thread_create(long (*fn)(long), long arg, void* stack_top);

size_t strlen(const char* s);
void* memset(void* d, int c, size_t n);
void* memcpy(void* d, const void* s, size_t n);
int strcmp(const char* a, const char* b);
// printf to the console: %d %i %u %x %s %c %p %% with l/ll and a width (0-padded with a leading 0).
int printf(const char* fmt, ...) __attribute__((format(printf, 1, 2)));
int snprintf(char* buf, size_t size, const char* fmt, ...) __attribute__((format(printf, 3, 4)));
void puts(const char* s);

inline uint64_t rdinstret()
{
    uint64_t v;
    asm volatile("rdinstret %0" : "=r"(v));
    return v;
}

// xorshift64*: seeded, reproducible.
struct Random {
    uint64_t s;
    explicit Random(uint64_t seed) : s(seed ? seed : 0x9e3779b97f4a7c15ull) {}
    uint64_t next()
    {
        s ^= s >> 12;
        s ^= s << 25;
        s ^= s >> 27;
        return s * 0x2545f4914f6cdd1dull;
    }
    uint64_t below(uint64_t n) { return n ? next() % n : 0; }
};

} // namespace zest
