#include "zalloc/debug.h"

#include "lib/string.h"

#include <atomic>

namespace zalloc::debug {

namespace {
std::atomic<bool> g_enabled {ZALLOC_DEBUG != 0};
}

bool enabled() { return g_enabled.load(std::memory_order_relaxed); }
void set_enabled(bool on) { g_enabled.store(on, std::memory_order_relaxed); }

void poison(void* p, size_t n) { memset(p, POISON, n); }

const void* find_unpoisoned(const void* p, size_t n)
{
    const auto* b = static_cast<const uint8_t*>(p);
    for (size_t i = 0; i < n; i++)
        if (b[i] != POISON)
            return b + i;
    return nullptr;
}

} // namespace zalloc::debug
