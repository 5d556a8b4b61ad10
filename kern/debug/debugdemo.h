// Bootarg `debugdemo`: threads for gdb to look at (tools/gdb/zest.py,
// docs/debugging.md). One, `swapped-demo`, sleeps three calls deep and has
// its kernel stack swapped out; another, `resident-demo`, sleeps in the same
// chain with its stack pinned. The kernel prints its own backtrace of the
// resident one; boot/main.cc then runs the shell's ps, vmstat, vmstat -z and
// kstack and calls kern::debug_stop() for gdb; test/gdb_check.py compares
// what gdb reads from memory with all of these.
#pragma once

namespace kern::debugdemo {

// Start the demo if the bootarg asks for it; true once it is set up.
[[nodiscard]] bool start_from_bootargs();

} // namespace kern::debugdemo
