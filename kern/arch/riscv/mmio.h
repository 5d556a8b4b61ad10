// Device register access. volatile plus fences so the compiler neither caches
// nor reorders device accesses around ordinary memory accesses.
#pragma once

#include <cstdint>

namespace mmio {

inline uint8_t read8(uintptr_t a)
{
    uint8_t v = *reinterpret_cast<volatile uint8_t*>(a);
    asm volatile("fence i,r" ::: "memory");
    return v;
}
inline uint32_t read32(uintptr_t a)
{
    uint32_t v = *reinterpret_cast<volatile uint32_t*>(a);
    asm volatile("fence i,r" ::: "memory");
    return v;
}
inline void write8(uintptr_t a, uint8_t v)
{
    asm volatile("fence w,o" ::: "memory");
    *reinterpret_cast<volatile uint8_t*>(a) = v;
}
inline void write32(uintptr_t a, uint32_t v)
{
    asm volatile("fence w,o" ::: "memory");
    *reinterpret_cast<volatile uint32_t*>(a) = v;
}

} // namespace mmio
