// All 32 FP registers and fcsr in one asm block, for the programs that check
// the kernel's FP switching (user/progs/fpmix.cc, fpleak.cc, fuzz.cc): no
// compiler-chosen register can hide a lost value.
#pragma once

#include "user/abi.h"

#include <cstdint>

namespace zest {

// f0-f31 then fcsr, as fld/fsd and frcsr see them.
struct FpRegs {
    uint64_t f[32];
    uint64_t fcsr;
};

// Loads `in` into the registers, then either makes system call nr (with a0 =
// arg: yield, sleep) or, for nr < 0, spins `spin` iterations (long enough to
// be preempted), and stores the registers into `out`. Leaves fcsr 0 (round
// to nearest, no flags), as C code expects it.
inline void fp_round_trip(const FpRegs& in, FpRegs& out, long nr, long arg, long spin)
{
    asm volatile(".irp n,0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30,31\n"
                 "fld f\\n, \\n*8(%[in])\n"
                 ".endr\n"
                 "ld t0, 256(%[in])\n"
                 "fscsr t0\n"
                 "mv a0, %[arg]\n"
                 "mv a7, %[nr]\n"
                 "bltz a7, 1f\n"
                 "ecall\n"
                 "j 2f\n"
                 "1: mv t0, %[spin]\n"
                 "3: addi t0, t0, -1\n"
                 "bnez t0, 3b\n"
                 "2: frcsr t0\n"
                 "sd t0, 256(%[out])\n"
                 ".irp n,0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30,31\n"
                 "fsd f\\n, \\n*8(%[out])\n"
                 ".endr\n"
                 "fscsr zero\n"
                 :
                 : [in] "r"(&in), [out] "r"(&out), [nr] "r"(nr), [arg] "r"(arg), [spin] "r"(spin)
                 : "t0", "a0", "a7", "memory", "f0", "f1", "f2", "f3", "f4", "f5", "f6", "f7", "f8", "f9", "f10",
                   "f11", "f12", "f13", "f14", "f15", "f16", "f17", "f18", "f19", "f20", "f21", "f22", "f23", "f24",
                   "f25", "f26", "f27", "f28", "f29", "f30", "f31");
}

// The registers as they are now (the first FP instruction of a fresh thread
// traps, and the kernel loads a zeroed context before it runs again).
inline void fp_read(FpRegs& out)
{
    asm volatile(".irp n,0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30,31\n"
                 "fsd f\\n, \\n*8(%[out])\n"
                 ".endr\n"
                 "frcsr t0\n"
                 "sd t0, 256(%[out])\n"
                 :
                 : [out] "r"(&out)
                 : "t0", "memory");
}

// A pattern of 64-bit values that differs per seed and per register, and an
// fcsr with a rounding mode (frm, bits 5-7, 0-4 are valid) and flags set.
inline void fp_pattern(FpRegs& r, uint64_t seed)
{
    for (int k = 0; k < 32; k++)
        r.f[k] = (seed + 1) * 0x9e3779b97f4a7c15ull ^ (uint64_t(k) << 56 | uint64_t(k));
    r.fcsr = (seed % 5) << 5 | ((seed % 31) + 1);
}

inline bool fp_equal(const FpRegs& a, const FpRegs& b)
{
    for (int k = 0; k < 32; k++)
        if (a.f[k] != b.f[k])
            return false;
    return a.fcsr == b.fcsr;
}

} // namespace zest
