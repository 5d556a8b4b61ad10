// Hart bring-up: the boot hart starts the others through SBI, and each
// secondary comes up in secondary_main (boot/harts.cc) from boot/entry.S.
#pragma once

#include <stdint.h>

namespace kern::harts {

// Start every other hart the device tree lists as okay with an MMU, and wait
// for each to come online (a hart that does not is left out, and said so).
void start_secondaries();

// How one hart's bring-up went, for the boot line and for a test that finds a
// hart missing: what SBI answered, how far secondary_main got and how long
// the hart took to come online (0 if it never did).
struct Bringup {
    long start_error;      // SBI error of the last hart_start (0: accepted)
    long sbi_state;        // HSM state when given up on (-1: not asked)
    uint32_t step;         // the last bring-up step secondary_main reached (step_name)
    uint64_t online_after_us;
    bool via_entry;        // arrived at the kernel's entry and was released there (boot/entry.S)
};
const Bringup& bringup(unsigned index);
const char* step_name(uint32_t step);

} // namespace kern::harts
