// Copies between the kernel and the current task's user memory.
//
// Each checks that the user range lies inside user space (vm/layout.h), sets
// sstatus.SUM for the copy only, and lets the fault fixup table (kern/arch/riscv/fixup.h)
// turn a fault on an unmapped or read-only user page into Error::Fault: a bad
// user pointer is an error code, never a kernel fault. Trap entry clears SUM
// for the handler and the saved sstatus restores it, so a preemption inside
// a copy leaks SUM to no other thread.
#pragma once

#include "lib/result.h"

#include <cstddef>
#include <cstdint>

namespace vm {

[[nodiscard]] lib::Status copy_from_user(void* dst, uintptr_t usrc, size_t n);
[[nodiscard]] lib::Status copy_to_user(uintptr_t udst, const void* src, size_t n);
// Copy a NUL-terminated string of at most max - 1 characters plus its NUL.
// Returns its length; Error::Invalid if no NUL within max bytes.
[[nodiscard]] lib::Result<size_t> strncpy_from_user(char* dst, uintptr_t usrc, size_t max);

} // namespace vm

extern "C" {
// vm/usercopy.S: raw copies with fixups. 0 or -1 (fault); the string copy
// returns the length, -1 on a fault, -2 with no NUL within max.
long user_copy_raw(void* dst, const void* src, size_t n);
long user_strncpy_raw(char* dst, const char* src, size_t max);
}
