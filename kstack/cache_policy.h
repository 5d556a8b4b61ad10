// Where a freed kernel stack goes: hardware-free, host-tested.
//
// A freed stack is fully built (mapped, pattern restored), so keeping it saves
// the next thread creation a slot, page allocations, mappings and a fill.
// First choice: this hart's own cache (no lock, interrupts off); then the
// global cache, sized like FreeBSD's, max(128, 4 x harts); past that the stack
// is torn down. Under memory pressure the pagedaemon trims the global cache.
#pragma once

#include <cstddef>

namespace kstack {

enum class CacheChoice { Hart, Global, Destroy };

struct CachePolicy {
    static constexpr size_t HART_CACHE = 4;

    [[nodiscard]] static constexpr size_t global_limit(size_t harts) { return 4 * harts > 128 ? 4 * harts : 128; }

    [[nodiscard]] static constexpr CacheChoice on_free(size_t in_hart_cache, size_t in_global_cache,
                                                       size_t global_limit)
    {
        if (in_hart_cache < HART_CACHE)
            return CacheChoice::Hart;
        if (in_global_cache < global_limit)
            return CacheChoice::Global;
        return CacheChoice::Destroy;
    }

    // How many global-cache stacks to tear down: all of them below free_min,
    // none otherwise (the cache costs nothing while memory is plentiful).
    [[nodiscard]] static constexpr size_t trim(size_t in_global_cache, bool below_free_min)
    {
        return below_free_min ? in_global_cache : 0;
    }
};

} // namespace kstack
