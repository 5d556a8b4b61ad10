#include "vm/usercopy.h"

#include "kern/arch/riscv/asm.h"
#include "kern/arch/riscv/csr.h"
#include "vm/layout.h"

namespace vm {
namespace {

// SUM on for one copy: S-mode may touch U pages only between these.
class UserAccess {
public:
    UserAccess() { csr_set(sstatus, SSTATUS_SUM); }
    ~UserAccess() { csr_clear(sstatus, SSTATUS_SUM); }
    UserAccess(const UserAccess&) = delete;
    UserAccess& operator=(const UserAccess&) = delete;
};

} // namespace

lib::Status copy_from_user(void* dst, uintptr_t usrc, size_t n)
{
    if (!layout::is_user_range(usrc, n))
        return lib::Error::Fault;
    UserAccess ua;
    return user_copy_raw(dst, reinterpret_cast<const void*>(usrc), n) == 0 ? lib::Status() : lib::Error::Fault;
}

lib::Status copy_to_user(uintptr_t udst, const void* src, size_t n)
{
    if (!layout::is_user_range(udst, n))
        return lib::Error::Fault;
    UserAccess ua;
    return user_copy_raw(reinterpret_cast<void*>(udst), src, n) == 0 ? lib::Status() : lib::Error::Fault;
}

lib::Result<size_t> strncpy_from_user(char* dst, uintptr_t usrc, size_t max)
{
    if (!max || !layout::is_user_range(usrc, 1))
        return lib::Error::Fault;
    // Stop at the end of user space: the string may be shorter than max.
    if (usrc + max > layout::USER_END)
        max = layout::USER_END - usrc;
    long r;
    {
        UserAccess ua;
        r = user_strncpy_raw(dst, reinterpret_cast<const char*>(usrc), max);
    }
    if (r == -1)
        return lib::Error::Fault;
    if (r < 0) {
        dst[max - 1] = '\0';
        return lib::Error::Invalid;
    }
    return static_cast<size_t>(r);
}

} // namespace vm
