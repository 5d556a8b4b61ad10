// kern/task/sysarg.h: every system-call argument rule, at and around its limits.
#include "kern/task/sysarg.h"

#include <doctest/doctest.h>

using namespace kern::sysarg;
using vm::layout::USER_BASE;
using vm::layout::USER_END;

TEST_CASE("sysarg: user buffers stay inside user space")
{
    CHECK(check_user_buffer(USER_BASE, 16) == 0);
    CHECK(check_user_buffer(USER_END - 16, 16) == 0);
    CHECK(check_user_buffer(USER_END - 16, 17) == -EFAULT);
    CHECK(check_user_buffer(USER_BASE - 1, 1) == -EFAULT);
    CHECK(check_user_buffer(0, 0) == -EFAULT);
    CHECK(check_user_buffer(0x80200000, 8) == -EFAULT);       // the kernel image
    CHECK(check_user_buffer(0xffffffc000000000ull, 8) == -EFAULT); // the direct map
    CHECK(check_user_buffer(USER_BASE, ~0ull) == -EFAULT);     // wraps
    CHECK(check_user_buffer(~0ull - 4, 8) == -EFAULT);
}

TEST_CASE("sysarg: write, sleep")
{
    CHECK(check_write(USER_BASE, WRITE_MAX) == 0);
    CHECK(check_write(USER_BASE, WRITE_MAX + 1) == -EINVAL);
    CHECK(check_write(0x1000, 4) == -EFAULT);
    CHECK(check_sleep(SLEEP_MAX_US) == 0);
    CHECK(check_sleep(SLEEP_MAX_US + 1) == -EINVAL);
    CHECK(check_sleep(~0ull) == -EINVAL);
}

TEST_CASE("sysarg: mmap and munmap")
{
    CHECK(check_mmap(0, 4096, PROT_READ | PROT_WRITE) == 0);
    CHECK(check_mmap(USER_BASE + 0x10000, 8192, PROT_READ | PROT_EXEC) == 0);
    CHECK(check_mmap(0, 0, PROT_READ) == -EINVAL);
    CHECK(check_mmap(0, 100, PROT_READ) == -EINVAL);
    CHECK(check_mmap(0, MMAP_MAX + 4096, PROT_READ) == -EINVAL);
    CHECK(check_mmap(0, 4096, 0) == -EINVAL);
    CHECK(check_mmap(0, 4096, PROT_WRITE | PROT_EXEC) == -EINVAL);
    CHECK(check_mmap(0, 4096, 8) == -EINVAL);
    CHECK(check_mmap(USER_BASE + 1, 4096, PROT_READ) == -EINVAL);
    CHECK(check_mmap(0x80000000, 4096, PROT_READ) == -EFAULT);
    CHECK(check_mmap(USER_END - 4096, 8192, PROT_READ) == -EFAULT);
    CHECK(check_munmap(USER_BASE, 4096) == 0);
    CHECK(check_munmap(USER_BASE, 0) == -EINVAL);
    CHECK(check_munmap(USER_BASE + 8, 4096) == -EINVAL);
    CHECK(check_munmap(0xffffffe800000000ull, 4096) == -EFAULT);
}

TEST_CASE("sysarg: thread_create")
{
    CHECK(check_thread_create(USER_BASE + 0x100, USER_BASE + 0x20000) == 0);
    CHECK(check_thread_create(USER_BASE + 0x101, USER_BASE + 0x20000) == -EINVAL);
    CHECK(check_thread_create(USER_BASE + 0x100, USER_BASE + 0x20008) == -EINVAL);
    CHECK(check_thread_create(0x80200000, USER_BASE + 0x20000) == -EFAULT);
    CHECK(check_thread_create(USER_BASE + 0x100, 0) == -EFAULT);
    CHECK(check_thread_create(USER_BASE + 0x100, 8) == -EFAULT);
}

TEST_CASE("sysarg: kernel errors map to user errors")
{
    CHECK(to_errno(lib::Error::None) == 0);
    CHECK(to_errno(lib::Error::NoMemory) == -ENOMEM);
    CHECK(to_errno(lib::Error::Fault) == -EFAULT);
    CHECK(to_errno(lib::Error::Exists) == -EEXIST);
    CHECK(to_errno(lib::Error::NotFound) == -ENOENT);
    CHECK(to_errno(lib::Error::Invalid) == -EINVAL);
}
