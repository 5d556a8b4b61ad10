// Power off and reboot. On QEMU virt the test finisher (sifive,test0) can also
// report a status to the host, which is how a test boot fails QEMU's exit code.
// Otherwise SBI system reset, which cannot report failure.
#pragma once

#include <cstdint>

namespace kern::power {

// The finisher's base address from the device tree (0: none).
void set_finisher(uintptr_t base);
[[nodiscard]] bool has_finisher();
[[noreturn]] void poweroff();
// QEMU exits with `code` (non-zero) where the finisher exists.
[[noreturn]] void poweroff_failure(unsigned code);
[[noreturn]] void reboot();

} // namespace kern::power
