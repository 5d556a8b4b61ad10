#include "kern/arch/riscv/fixup.h"

extern "C" const kern::FixupEntry _ex_table_start[], _ex_table_end[];

namespace kern {

uintptr_t find_fixup(uintptr_t pc)
{
    for (const FixupEntry* e = _ex_table_start; e < _ex_table_end; e++)
        if (e->insn == pc)
            return e->fixup;
    return 0;
}

} // namespace kern
