// For kernel tests and benchmarks: use about `bytes` of the running thread's
// stack once, so a stack that grows on demand is mapped that far down.
#pragma once

#include <cstddef>

namespace ktest {

__attribute__((noinline)) inline void use_stack(size_t bytes)
{
    volatile char pad[512];
    pad[0] = 1;
    if (bytes > sizeof pad)
        use_stack(bytes - sizeof pad);
    asm volatile("" ::"r"(pad) : "memory");
}

} // namespace ktest
