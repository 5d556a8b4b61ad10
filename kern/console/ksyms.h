// Kernel symbol table for backtraces. The table is generated from the first
// link's symbols (tools/gen-ksyms.py) and linked into the second: code does
// not move between the two links (see linker.ld).
#pragma once

#include <cstdint>

namespace kern::ksyms {

struct Symbol {
    const char* name; // nullptr if none found
    uintptr_t offset; // pc - symbol start
};

Symbol lookup(uintptr_t pc);
unsigned count();

} // namespace kern::ksyms
