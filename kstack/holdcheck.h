// The stack-hold rule, checked: every object linked where other threads can
// reach it that lies in a kernel stack must belong to a thread holding that
// stack (kstack/hold.h). verify() walks every wait queue (mutexes, condition
// variables and channels are built on them), checks the queue itself and each
// linked waiter, and names each offender.
#pragma once

#include <cstdint>

namespace kern::holdcheck {

// Is the object at addr safe to link? True if it is not in a kernel stack, or
// its stack's thread holds the stack. On false, `why` (if given) says whose.
[[nodiscard]] bool address_ok(uintptr_t addr, char* why = nullptr, unsigned why_size = 0);
// Walk every wait queue; returns the number of violations (each printed).
unsigned verify();
// verify(), and panic on any violation (debug builds run this from the pagedaemon).
void verify_or_panic();

} // namespace kern::holdcheck
