// System calls: numbers and errors in user/abi.h; a7 the number, a0-a5 the
// arguments, a0 the result (negative: -error).
#pragma once

#include <atomic>
#include <cstdint>

namespace kern {
struct TrapFrame;
struct Task;
}

namespace kern::syscall {

// Run the call in tf (interrupts on). Returns the value for a0.
long dispatch(TrapFrame& tf);
// A call handled before dispatch (the IPC fast path), counted as dispatch
// counts every call: in the total and in its task's (Task::syscalls).
extern std::atomic<uint64_t> g_total;
[[gnu::always_inline]] inline void count(std::atomic<uint64_t>& task_calls)
{
    g_total.fetch_add(1, std::memory_order_relaxed);
    task_calls.fetch_add(1, std::memory_order_relaxed);
}
// Calls made since boot (all tasks).
uint64_t total();

} // namespace kern::syscall
