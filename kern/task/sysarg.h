// System-call argument checks that need no hardware: ranges, alignment,
// limits and flag values, each returning 0 or a negative user/abi.h error.
// The syscalls (kern/task/syscall.cc) call them before touching anything; the host
// test test/host/sysarg_test.cc covers every rule.
#pragma once

#include "lib/result.h"
#include "user/abi.h"
#include "vm/layout.h"

#include <cstdint>

namespace kern::sysarg {


// A kernel Error as a syscall result.
constexpr long to_errno(lib::Error e)
{
    switch (e) {
    case lib::Error::None: return 0;
    case lib::Error::NoMemory:
    case lib::Error::NoSpace: return -ENOMEM;
    case lib::Error::Fault: return -EFAULT;
    case lib::Error::NotFound: return -ENOENT;
    case lib::Error::Exists: return -EEXIST;
    case lib::Error::TimedOut: return -ETIMEDOUT;
    case lib::Error::Busy:
    case lib::Error::WouldBlock: return -EAGAIN;
    default: return -EINVAL;
    }
}

// A user buffer of len bytes at addr (len 0 is fine anywhere in user space).
constexpr long check_user_buffer(uint64_t addr, uint64_t len)
{
    return vm::layout::is_user_range(addr, len) ? 0 : -EFAULT;
}

constexpr long check_write(uint64_t buf, uint64_t len)
{
    if (len > WRITE_MAX)
        return -EINVAL;
    return check_user_buffer(buf, len);
}

constexpr long check_sleep(uint64_t us) { return us > SLEEP_MAX_US ? -EINVAL : 0; }

constexpr long check_prot(uint64_t prot)
{
    if (prot & ~uint64_t(PROT_READ | PROT_WRITE | PROT_EXEC))
        return -EINVAL;
    if (!prot)
        return -EINVAL;
    if ((prot & PROT_WRITE) && (prot & PROT_EXEC))
        return -EINVAL; // never writable and executable at once
    return 0;
}

// mmap(addr, len, prot): addr 0 lets the kernel choose; else page aligned,
// the whole range in user space.
constexpr long check_mmap(uint64_t addr, uint64_t len, uint64_t prot)
{
    if (!len || len % PAGE_SIZE || len > MMAP_MAX)
        return -EINVAL;
    if (long e = check_prot(prot))
        return e;
    if (addr % PAGE_SIZE)
        return -EINVAL;
    if (addr && !vm::layout::is_user_range(addr, len))
        return -EFAULT;
    return 0;
}

constexpr long check_munmap(uint64_t addr, uint64_t len)
{
    if (!len || len % PAGE_SIZE || addr % PAGE_SIZE || len > MMAP_MAX)
        return -EINVAL;
    return vm::layout::is_user_range(addr, len) ? 0 : -EFAULT;
}

// thread_create(entry, stack_top, arg): entry in user space and 2-byte
// aligned (compressed instructions), the stack top in user space and 16-byte
// aligned (the calling convention).
constexpr long check_thread_create(uint64_t entry, uint64_t stack_top)
{
    if (!vm::layout::is_user_range(entry, 2) || !vm::layout::is_user_range(stack_top - 16, 16))
        return -EFAULT;
    if (entry % 2 || stack_top % 16)
        return -EINVAL;
    return 0;
}

} // namespace kern::sysarg
