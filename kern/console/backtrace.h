// Frame-pointer backtraces, symbolized from the kernel's own symbol table.
// Every frame read goes through a fault-safe probe, so a corrupt frame chain
// ends the backtrace instead of faulting inside the panic path.
#pragma once

#include <cstdint>

namespace kern {

// Print "  #n 0x... name+0x.." lines starting at pc, then walking the frame
// chain from fp (s0). ra is the ra register where known (a trap frame), else 0.
void backtrace_from(uintptr_t pc, uintptr_t fp, uintptr_t ra, unsigned max_frames = 32);
// Backtrace of the caller.
void backtrace_here();
// Print one symbolized address: "name+0xoff" or "0x...".
void print_symbol(uintptr_t pc);

} // namespace kern
