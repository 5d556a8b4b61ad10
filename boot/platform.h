// boot/ brings the kernel up: entry.S (the Image header, BSS, the boot and
// overflow stacks of stacks.cc), kmain (main.cc: each subsystem started in
// order, then the tests or the shell), the boot arguments (bootargs.h) and the
// machine read from the device tree (machine.h, here). kmain may call into
// every folder; the rest of the kernel only reads what boot found, through
// bootargs.h, machine.h and this header, and never calls back into boot/.
//
// What the kernel knows about the machine, read from the device tree once at
// boot: harts, timebase, console UART, PLIC, power device, memory.
#pragma once

#include "kern/seam/cpu.h"

#include <cstdint>

namespace fdt {
struct MachineInfo;
}

namespace kern::platform {

struct Info {
    unsigned nharts; // harts usable by the kernel (okay, with an MMU), dense-indexed
    const char* machine_model;
};

// Parse the FDT at `fdt_pa`, fill the hart table (boot hart at index 0),
// set up the console UART, PLIC, timer rate and power device. Panics with the
// parser's message if the device tree is unusable: nothing can run without it.
void setup(unsigned long boot_hartid, uintptr_t fdt_pa);
const Info& info();
const fdt::MachineInfo& machine();
// The banner's device and memory lines, and the shell's `info`.
void print_summary();

} // namespace kern::platform
