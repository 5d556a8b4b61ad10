// Calls into the SBI firmware (OpenSBI) below the kernel: console for early
// boot, the timer, IPIs, remote fences, hart start and system reset.
#pragma once

#include <cstdint>

namespace sbi {

struct Ret {
    long error; // 0 on success, negative SBI error code
    long value;
};

enum Ext : long {
    LEGACY_PUTCHAR = 0x01,
    LEGACY_GETCHAR = 0x02,
    BASE = 0x10,
    TIME = 0x54494D45,
    IPI = 0x735049,
    RFENCE = 0x52464E43,
    HSM = 0x48534D,
    SRST = 0x53525354,
};

inline Ret call(long ext, long fid, long a0 = 0, long a1 = 0, long a2 = 0, long a3 = 0, long a4 = 0)
{
    register long r0 asm("a0") = a0;
    register long r1 asm("a1") = a1;
    register long r2 asm("a2") = a2;
    register long r3 asm("a3") = a3;
    register long r4 asm("a4") = a4;
    register long r6 asm("a6") = fid;
    register long r7 asm("a7") = ext;
    asm volatile("ecall" : "+r"(r0), "+r"(r1) : "r"(r2), "r"(r3), "r"(r4), "r"(r6), "r"(r7) : "memory");
    return {r0, r1};
}

inline void console_putchar(char c) { call(LEGACY_PUTCHAR, 0, static_cast<unsigned char>(c)); }
// Returns -1 when no character is waiting.
inline int console_getchar() { return static_cast<int>(call(LEGACY_GETCHAR, 0).error); }

inline bool probe(long ext) { return call(BASE, 3, ext).value != 0; }
inline long spec_version() { return call(BASE, 0).value; }
inline long impl_id() { return call(BASE, 1).value; }
inline long impl_version() { return call(BASE, 2).value; }

inline void set_timer(uint64_t when) { call(TIME, 0, static_cast<long>(when)); }

// hart_mask is relative to hart_mask_base (both are firmware hart ids).
inline Ret send_ipi(unsigned long hart_mask, unsigned long base) { return call(IPI, 0, hart_mask, base); }
inline Ret remote_sfence_vma(unsigned long hart_mask, unsigned long base, uintptr_t start, uintptr_t size)
{
    return call(RFENCE, 1, hart_mask, base, start, size);
}

inline Ret hart_start(unsigned long hartid, uintptr_t start, uintptr_t opaque)
{
    return call(HSM, 0, hartid, start, opaque);
}
inline Ret hart_status(unsigned long hartid) { return call(HSM, 2, hartid); }

enum class ResetType : long { Shutdown = 0, ColdReboot = 1, WarmReboot = 2 };
enum class ResetReason : long { None = 0, Failure = 1 };
inline Ret system_reset(ResetType t, ResetReason r) { return call(SRST, 0, static_cast<long>(t), static_cast<long>(r)); }

} // namespace sbi
