// Faults the kernel expects and survives: instructions listed in the
// __ex_table section jump to their fixup instead of panicking. The probe
// routines below (kern/arch/riscv/probe.S) use it to touch an address that may not be
// mapped; user-copy routines will use it too.
#pragma once

#include <cstdint>

namespace kern {

struct FixupEntry {
    uintptr_t insn;
    uintptr_t fixup;
};

// The fixup address for a faulting pc, or 0.
uintptr_t find_fixup(uintptr_t pc);

} // namespace kern

extern "C" {
// 0 on success, -1 if the access faulted. Never panics.
[[nodiscard]] long probe_read_u64(uintptr_t addr, uint64_t* out);
[[nodiscard]] long probe_write_u64(uintptr_t addr, uint64_t value);
// Call addr (which must hold a `ret`): 0 if it executed, -1 if the fetch faulted.
[[nodiscard]] long probe_exec(uintptr_t addr);
void probe_ret_only();
}
