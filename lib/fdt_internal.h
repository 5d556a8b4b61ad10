// Small helpers shared by lib/fdt.cc (validation), lib/fdt_walk.cc (the node
// walk) and lib/fdt_prop.cc (property readers and messages). Not part of the API.
#pragma once

#include "lib/string.h"

#include <cstdint>

namespace fdt::detail {

constexpr uint64_t align4(uint64_t x) { return (x + 3) & ~uint64_t(3); }

// Length of the NUL-terminated string at p, if it ends before `end`; -1 otherwise.
inline int64_t bounded_strlen(const char* p, const char* end)
{
    for (const char* q = p; q < end; q++)
        if (*q == '\0')
            return q - p;
    return -1;
}

inline bool streq(const char* a, const char* b) { return strcmp(a, b) == 0; }

} // namespace fdt::detail
