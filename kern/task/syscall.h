// System calls: numbers and errors in user/abi.h; a7 the number, a0-a5 the
// arguments, a0 the result (negative: -error).
#pragma once

#include <cstdint>

namespace kern {
struct TrapFrame;
}

namespace kern::syscall {

// Run the call in tf (interrupts on). Returns the value for a0.
long dispatch(TrapFrame& tf);
// Calls made since boot (all tasks).
uint64_t total();

} // namespace kern::syscall
