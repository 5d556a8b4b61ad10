// Restartable sequences (kern/seam/hart_list.h, kern/arch/riscv/seam_impl/hart_list.h):
// an interrupt taken in kernel mode inside one sends it back to its start, so
// the allocator fast paths need neither an interrupt toggle nor an atomic
// instruction on their lists.
#pragma once

#include "kern/arch/riscv/trap.h"
#include "lib/restart_table.h"

#include <cstdint>

namespace kern::restart {

// Once, on the boot hart, before interrupts are first turned on: sort the
// linker's table (lib/restart_table.h). A malformed table is a build error and
// panics.
void init();

// For an interrupt taken in kernel mode, before anything can switch away from
// the interrupted code: if tf.sepc is inside a sequence, back to its start.
void on_interrupt(TrapFrame& tf);

// How many interrupts restarted a sequence, how many sequences the kernel has,
// and the i-th of them in address order (tests, benchmarks).
[[nodiscard]] uint64_t restarts();
[[nodiscard]] size_t sequences();
[[nodiscard]] lib::RestartRange sequence(size_t i);

} // namespace kern::restart
