// The hardware seam (kern/seam/cpu.h): panic() and kassert. In the kernel,
// panic reports and stops every hart (kern/console/panic.cc); in host tests it
// throws HostPanic (test/host/fake_kernel.cc), so a test can check that a
// double free or a corrupt structure is detected.
#pragma once

[[noreturn]] void panic(const char* fmt, ...) __attribute__((format(printf, 1, 2)));

#define ZEST_STR2(x) #x
#define ZEST_STR(x) ZEST_STR2(x)

// assert that stays on in every build: kernel invariants are cheap to check
// and expensive to debug.
#define kassert(cond)                                                                   \
    do {                                                                                \
        if (!(cond)) [[unlikely]]                                                       \
            panic("assertion failed: %s at %s:%d", #cond, __FILE__, __LINE__);         \
    } while (0)
