// The table of restartable sequences (kern/seam/hart_list.h): for each, the
// address of its first instruction and of its commit, the one store that makes
// it visible. An interrupt whose pc is in [begin, commit] sends the pc back to
// begin. The linker gathers the entries in object order; sort() orders them
// once at boot so that find() is a binary search, and RestartFilter spares
// nearly every interrupt taken in kernel mode even that.
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

// A filter in front of the search: one bit per BLOCK bytes of text, set where
// some range has an instruction. Nearly every interrupt stops code in a block
// with no sequence and pays a shift, a load and a bit test instead of the
// search. WORDS 64-bit words cover WORDS * 64 * BLOCK bytes from `base`.
template <size_t WORDS, size_t BLOCK = 64>
class RestartFilter {
public:
    static constexpr size_t SPAN = WORDS * 64 * BLOCK;

    // False, leaving the filter empty, if a range lies outside [base, base + SPAN).
    [[nodiscard]] bool build(const RestartRange* t, size_t n, uintptr_t base)
    {
        base_ = base;
        for (uint64_t& w : bits_)
            w = 0;
        for (size_t i = 0; i < n; i++) {
            if (t[i].begin < base || t[i].commit - base >= SPAN) {
                for (uint64_t& w : bits_)
                    w = 0;
                return false;
            }
            for (uintptr_t b = (t[i].begin - base) / BLOCK; b <= (t[i].commit - base) / BLOCK; b++)
                bits_[b / 64] |= uint64_t(1) << (b % 64);
        }
        return true;
    }
    // Might pc be inside a range? (False: it is not.)
    [[nodiscard]] bool maybe(uintptr_t pc) const
    {
        uintptr_t b = (pc - base_) / BLOCK; // below base wraps to a huge block
        return b < WORDS * 64 && (bits_[b / 64] >> (b % 64)) & 1;
    }

private:
    uintptr_t base_ = 0;
    uint64_t bits_[WORDS] = {};
};

} // namespace lib
