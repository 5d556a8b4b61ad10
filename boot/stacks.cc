// Boot stacks: one per hart slot, used until the thread system gives each hart
// its own idle thread. In BSS, so they cost no image size.
#include "kern/arch/riscv/asm.h"
#include "kern/seam/cpu.h"

#include <cstdint>

extern "C" {
alignas(16) uint8_t boot_stacks[cpu::MAX_HARTS][BOOT_STACK_SIZE];
// Each hart's stack for reporting a kernel stack overflow (kern/arch/riscv/trapentry.S).
alignas(16) uint8_t overflow_stacks[cpu::MAX_HARTS][OVERFLOW_STACK_SIZE];
}
