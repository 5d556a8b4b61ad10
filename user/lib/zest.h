// The user library: system-call wrappers (numbers and errors in user/abi.h)
// and a few helpers for console output. Freestanding: no libc; the string
// functions and the printf engine are the kernel's own hardware-free lib/
// (lib/string.cc, lib/format.cc), built for user mode.
#pragma once

#include "lib/string.h"
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
inline long task_kill(long id) { return syscall6(SYS_TASK_KILL, id); }
inline long mmap(void* addr, size_t len, int prot) { return syscall6(SYS_MMAP, long(addr), long(len), prot); }
inline long munmap(void* addr, size_t len) { return syscall6(SYS_MUNMAP, long(addr), long(len)); }
inline long getpid() { return syscall6(SYS_GETPID); }
inline long gettid() { return syscall6(SYS_GETTID); }

// IPC (user/abi.h, docs/user.md). A message: IPC_WORDS register words and
// up to IPC_MSG_MAX bytes through buf (len to send, cap room for a reply).
struct Msg {
    uint64_t w[IPC_WORDS];
    uint64_t len; // bytes received (set by receive and call)
};
// The raw IPC call: tag in a0, words a1..a4 in and out, buf in a5 (the
// received length comes back there), timeout in a6.
inline long ipc_raw(long nr, uint64_t tag, Msg& m, void* buf, uint64_t timeout)
{
    register long r0 asm("a0") = long(tag);
    register uint64_t r1 asm("a1") = m.w[0];
    register uint64_t r2 asm("a2") = m.w[1];
    register uint64_t r3 asm("a3") = m.w[2];
    register uint64_t r4 asm("a4") = m.w[3];
    register uint64_t r5 asm("a5") = uint64_t(buf);
    register uint64_t r6 asm("a6") = timeout;
    register long r7 asm("a7") = nr;
    asm volatile("ecall" : "+r"(r0), "+r"(r1), "+r"(r2), "+r"(r3), "+r"(r4), "+r"(r5) : "r"(r6), "r"(r7) : "memory");
    if (r0 >= 0 && nr != SYS_IPC_SEND && nr != SYS_IPC_REPLY) { // receive, call, reply_receive
        m.w[0] = r1, m.w[1] = r2, m.w[2] = r3, m.w[3] = r4;
        m.len = r5;
    }
    return r0;
}
inline long ipc_create() { return syscall6(SYS_IPC_CREATE); }
inline long ipc_destroy(long h) { return syscall6(SYS_IPC_DESTROY, h); }
inline long ipc_send(long h, Msg& m, const void* buf, size_t len, uint64_t timeout = 0)
{
    return ipc_raw(SYS_IPC_SEND, IPC_TAG(h, len, 0), m, const_cast<void*>(buf), timeout);
}
// Returns a reply cap (> 0) for a call, 0 for a send; the message in m and buf.
inline long ipc_receive(long h, Msg& m, void* buf, size_t cap, uint64_t timeout = 0)
{
    return ipc_raw(SYS_IPC_RECEIVE, IPC_TAG(h, 0, cap), m, buf, timeout);
}
// Send m (and len bytes of buf) and wait for the reply into m (and buf, up to cap).
inline long ipc_call(long h, Msg& m, void* buf, size_t len, size_t cap, uint64_t timeout = 0)
{
    return ipc_raw(SYS_IPC_CALL, IPC_TAG(h, len, cap), m, buf, timeout);
}
inline long ipc_reply(long cap, Msg& m, const void* buf, size_t len)
{
    return ipc_raw(SYS_IPC_REPLY, IPC_TAG(cap, len, 0), m, const_cast<void*>(buf), 0);
}
// Reply to `reply_cap` with m (and len bytes of buf), then receive on h as
// ipc_receive does, into m and buf (up to cap): one system call for a
// server's loop, and the fast path's other half (docs/user.md). A reply
// error (EBADF, EPIPE) comes back with nothing received.
inline long ipc_reply_receive(long reply_cap, long h, Msg& m, void* buf, size_t len, size_t cap,
                              uint64_t timeout = 0)
{
    return ipc_raw(SYS_IPC_REPLY_RECEIVE, IPC_TAG(h, len, cap) | IPC_TAG_REPLY(reply_cap), m, buf, timeout);
}
inline long spawn_ep(const char* name, long arg, long handle)
{
    return syscall6(SYS_SPAWN_EP, long(name), arg, handle);
}

// A thread running fn(arg) on the stack ending at stack_top; it exits with fn's result.
long thread_create(long (*fn)(long), long arg, void* stack_top);

using ::memcpy;
using ::memset;
using ::strcmp;
using ::strlen;
// printf to the console, lib/format's conversions (lib/format.h: C's), with %f %e %g from
// user/lib/format_float.h.
int printf(const char* fmt, ...) __attribute__((format(printf, 1, 2)));
int snprintf(char* buf, size_t size, const char* fmt, ...) __attribute__((format(printf, 3, 4)));
void puts(const char* s);

// Median of v[0..n) (sorts v in place): benchmark programs report medians.
uint64_t median(uint64_t* v, int n);

inline uint64_t rdinstret()
{
    uint64_t v;
    asm volatile("rdinstret %0" : "=r"(v));
    return v;
}

// FNV-1a over n bytes: the checksum the IPC test programs send along.
inline uint64_t checksum(const uint8_t* p, size_t n)
{
    uint64_t h = 0xcbf29ce484222325ull;
    for (size_t i = 0; i < n; i++)
        h = (h ^ p[i]) * 0x100000001b3ull;
    return h;
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
