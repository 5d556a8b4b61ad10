// Bootarg `debugdemo`: threads for gdb to look at (tools/gdb/zest.py,
// docs/debugging.md). One, `swapped-demo`, sleeps three calls deep and has
// its kernel stack swapped out; another, `resident-demo`, sleeps in the same
// chain with its stack pinned. The kernel prints its own backtrace of the
// resident one, then calls kern::debug_stop() for gdb; test/gdb_check.py
// compares the two.
#pragma once

namespace kern::debugdemo {

// Start the demo if the bootarg asks for it; returns when it is set up.
void run_from_bootargs();

} // namespace kern::debugdemo
