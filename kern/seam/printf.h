// The hardware seam (kern/seam/cpu.h): kernel printf. The kernel prints on the
// console (kern/console/printf.cc), host tests on stdout (test/host/fake_kernel.cc).
// The format attribute makes GCC check every call's arguments at compile time;
// -Werror turns a mismatch into a build failure.
#pragma once

#include <cstdarg>
#include <cstddef>

int kprintf(const char* fmt, ...) __attribute__((format(printf, 1, 2)));
int kvprintf(const char* fmt, va_list ap) __attribute__((format(printf, 1, 0)));
int ksnprintf(char* buf, size_t size, const char* fmt, ...) __attribute__((format(printf, 3, 4)));
