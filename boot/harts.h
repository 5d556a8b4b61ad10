// Hart bring-up: the boot hart starts the others through SBI, and each
// secondary comes up in secondary_main (boot/harts.cc) from boot/entry.S.
#pragma once

namespace kern::harts {

// Start every other hart the device tree lists as okay with an MMU, and wait
// for each to come online (a hart that does not is left out).
void start_secondaries();

} // namespace kern::harts
