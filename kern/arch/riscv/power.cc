#include "kern/arch/riscv/power.h"

#include "kern/arch/riscv/mmio.h"
#include "kern/console/panic.h"
#include "kern/console/printf.h"
#include "kern/arch/riscv/sbi.h"

namespace kern::power {
namespace {
uintptr_t g_finisher;
constexpr uint32_t FINISHER_PASS = 0x5555, FINISHER_FAIL = 0x3333, FINISHER_RESET = 0x7777;
} // namespace

void set_finisher(uintptr_t base) { g_finisher = base; }
bool has_finisher() { return g_finisher != 0; }

void poweroff()
{
    if (g_finisher)
        mmio::write32(g_finisher, FINISHER_PASS);
    sbi::Ret r = sbi::system_reset(sbi::ResetType::Shutdown, sbi::ResetReason::None);
    kprintf("power: cannot power off: no test finisher, and SBI system reset answered %ld\n", r.error);
}

void poweroff_or_halt()
{
    poweroff();
    kprintf("power: halting\n");
    halt_this_hart();
}

void poweroff_failure(unsigned code)
{
    if (g_finisher)
        mmio::write32(g_finisher, (code << 16) | FINISHER_FAIL);
    sbi::system_reset(sbi::ResetType::Shutdown, sbi::ResetReason::Failure);
    halt_this_hart();
}

void reboot()
{
    if (g_finisher)
        mmio::write32(g_finisher, FINISHER_RESET);
    sbi::Ret r = sbi::system_reset(sbi::ResetType::ColdReboot, sbi::ResetReason::None);
    kprintf("power: cannot reboot: no test finisher, and SBI system reset answered %ld\n", r.error);
}

} // namespace kern::power
