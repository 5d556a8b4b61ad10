// The parts of platform::setup() (boot/platform.cc) that have files of their own.
#pragma once

namespace fdt {
struct MachineInfo;
}

namespace kern::platform {

// Shrinks each /memory range to the RAM that answers a load, saying so when the
// tree claims more (boot/platform_memory.cc). Paging must still be off.
void probe_memory(fdt::MachineInfo& m);
// Panics, in words, if no timer interrupt or no IPI arrives within a second of
// asking for one (boot/platform_checks.cc). Interrupts must still be off.
void check_timer_and_ipi(unsigned long hartid);

} // namespace kern::platform
