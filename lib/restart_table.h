// The table of restartable sequences (kern/seam/hart_list.h): for each, the
// address of its first instruction and of its commit, the one store that makes
// it visible. An interrupt whose pc is in [begin, commit] sends the pc back to
// begin. The linker gathers the entries in object order; sort() orders them
// once at boot so that find(), on every interrupt taken in kernel mode, is a
// binary search.
#pragma once

#include <cstddef>
#include <cstdint>

namespace lib {

struct RestartRange {
    uintptr_t begin;
    uintptr_t commit;
};
static_assert(sizeof(RestartRange) == 16, "the layout the assembler's .dword pairs give");

enum class RestartTableError {
    None,
    Empty,        // a range whose commit is before its begin
    Overlap,      // two ranges share an instruction
};

// Sort t by begin, in place (insertion sort: a few hundred entries, once), and
// check it: every range well formed, no two overlapping. Equal ranges (one
// sequence listed twice) are kept: they restart to the same place.
[[nodiscard]] RestartTableError restart_table_sort(RestartRange* t, size_t n);

// In a sorted table: the begin of the range holding pc, or 0.
[[nodiscard]] uintptr_t restart_table_find(const RestartRange* t, size_t n, uintptr_t pc);

} // namespace lib
