// The two interrupts everything else waits for, checked once at boot. Without
// a timer interrupt (a tree with no CLINT/ACLINT leaves the SBI firmware with
// no timer) the first sleep never ends; without an IPI the other harts never
// hear from this one. Both would hang the boot in silence, so each is asked
// for once, with interrupts still off, and must show up as pending in sip
// within a second (and the timer must also wait for a later deadline).
#include "boot/platform_internal.h"

#include "kern/arch/riscv/csr.h"
#include "kern/console/panic.h"
#include "kern/arch/riscv/sbi.h"
#include "kern/arch/riscv/timer.h"

namespace kern::platform {
namespace {

// Waits until `bit` is pending in sip: true if it is within a second of
// timebase. If time itself does not move (no timer at all), gives up after a
// spin count that takes well over a second on any machine Zest runs on.
bool pending_within_a_second(unsigned long bit)
{
    uint64_t start = timer::now_ticks();
    uint64_t second = timer::timebase_hz();
    for (uint64_t spins = 0;; spins++) {
        if (csr_read(sip) & bit)
            return true;
        uint64_t now = timer::now_ticks();
        if (now - start >= second)
            return false;
        if (now == start && spins >= 200000000)
            return false;
    }
}

} // namespace

void check_timer_and_ipi(unsigned long hartid)
{
    // A deadline already past: the firmware raises the supervisor timer
    // interrupt at once. timer::start_hart() arms the real one later.
    sbi::set_timer(timer::now_ticks());
    if (!pending_within_a_second(SIE_STIE))
        panic("platform: no timer interrupt within a second of arming it on hart %lu: the SBI firmware has no timer "
              "(does the device tree have a CLINT or ACLINT?); stopping",
              hartid);
    // The other way to have no timer: the interrupt is always there. A
    // firmware that cannot program the deadline (QEMU keeps raising its
    // machine timer interrupt when nobody set mtimecmp) delivers one at once,
    // every time, and the kernel spends its life in the timer handler.
    uint64_t deadline = timer::now_ticks() + timer::timebase_hz() / 10;
    sbi::set_timer(deadline);
    if ((csr_read(sip) & SIE_STIE) && timer::now_ticks() < deadline)
        panic("platform: the timer interrupt on hart %lu fires at once for a deadline 100 ms away: the SBI firmware "
              "cannot program the timer (does the device tree have a CLINT or ACLINT?); stopping",
              hartid);
    sbi::set_timer(~uint64_t(0));

    sbi::Ret r = sbi::send_ipi(1, hartid);
    if (r.error || !pending_within_a_second(SIE_SSIE))
        panic("platform: no IPI within a second of sending one to hart %lu (SBI error %ld): the SBI firmware cannot "
              "interrupt harts (does the device tree have a CLINT or ACLINT?); stopping",
              hartid, r.error);
    csr_clear(sip, SIE_SSIE);
}

} // namespace kern::platform
