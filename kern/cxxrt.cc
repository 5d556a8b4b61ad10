// The C++ runtime pieces a freestanding kernel must supply itself.
#include "kern/console/panic.h"

#include <cstddef>

extern "C" {
extern void (*const _init_array_start[])();
extern void (*const _init_array_end[])();

// Global constructors, run once by the boot hart before anything else uses globals.
void run_constructors()
{
    for (auto* f = _init_array_start; f < _init_array_end; f++)
        (*f)();
}

void __cxa_pure_virtual() { panic("pure virtual function called"); }

// Referenced by GCC for objects with non-trivial destructors at namespace
// scope; kernel globals are never destroyed.
void* __dso_handle = nullptr;
int __cxa_atexit(void (*)(void*), void*, void*) { return 0; }
// The same for function-local statics (-fno-use-cxa-atexit).
int atexit(void (*)()) { return 0; }
}

// The kernel has no hidden allocation: `new` of a heap object is a bug until
// kmalloc exists, and then must go through it explicitly.
void* operator new(size_t) { panic("operator new called: the kernel has no implicit heap"); }
void* operator new[](size_t) { panic("operator new[] called: the kernel has no implicit heap"); }
void operator delete(void*) noexcept { panic("operator delete called"); }
void operator delete[](void*) noexcept { panic("operator delete[] called"); }
void operator delete(void*, size_t) noexcept { panic("operator delete called"); }
void operator delete[](void*, size_t) noexcept { panic("operator delete[] called"); }
