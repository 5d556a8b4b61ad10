// panic(): report and stop every hart. panic() and kassert are declared in the
// seam (kern/seam/panic.h), so hardware-free code can use them; this header
// adds what only the kernel has.
#pragma once

#include "kern/seam/panic.h"

namespace kern {
// Stop this hart for good: interrupts off, wfi forever (panic, stop IPIs).
[[noreturn]] void halt_this_hart();

// Held while a hart prints a fatal report (a trap, an overflow) before it
// panics: reports from two harts come out whole, one after the other, and
// panic() waits a moment for a report still being printed elsewhere before it
// powers off.
class [[nodiscard]] FatalReport {
public:
    FatalReport();
    ~FatalReport();
    FatalReport(const FatalReport&) = delete;
    FatalReport& operator=(const FatalReport&) = delete;
};
} // namespace kern
