// A place for a debugger to stop: tools/gdbinit breaks on kern::debug_stop,
// and panic() calls it once every hart is stopped, so gdb sees the kernel
// whole at a panic (docs/debugging.md).
#pragma once

namespace kern {

// Returns at once when no debugger is attached. Never inlined: gdb needs the
// symbol and a call to stop at.
[[gnu::noinline]] void debug_stop(const char* why);

} // namespace kern
