// Power off and reboot. On QEMU virt the test finisher (sifive,test0) can also
// report a status to the host, which is how a test boot fails QEMU's exit code.
// Otherwise SBI system reset, which cannot report failure.
#pragma once

#include <cstdint>

namespace kern::power {

// The finisher's base address from the device tree (0: none).
void set_finisher(uintptr_t base);
[[nodiscard]] bool has_finisher();
// Power off or reboot. They return only if the machine offers no way to do it
// (sifive_u: no finisher, and its firmware refuses SBI reset), after saying so.
void poweroff();
void reboot();
// Panic and test-failure path: power off with `code` (QEMU exits with it where
// the finisher exists), else halt this hart.
[[noreturn]] void poweroff_failure(unsigned code);
// Power off, or halt if that is impossible (ktest's end).
[[noreturn]] void poweroff_or_halt();

} // namespace kern::power
