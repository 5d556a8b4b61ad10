// Helpers shared by the zalloc host tests.
#pragma once

#include "kern/seam/cpu.h"
#include "test/host/host_kernel.h"
#include "zalloc/kmalloc_obj.h"
#include "zalloc/malloc_type.h"
#include "zalloc/stats.h"
#include "zalloc/zone.h"

#include <string>

// Runs `f` and returns the HostPanic message ("" if it did not panic).
template <typename F>
std::string panic_message(F&& f)
{
    try {
        f();
    } catch (const HostPanic& p) {
        return p.message;
    }
    return "";
}

// The vmstat -m line of type t (all zeros if it is not registered).
inline zalloc::TypeStats type_stats(zalloc::MallocType& t)
{
    zalloc::TypeStats all[64];
    size_t n = zalloc::snapshot_types(all, 64);
    for (size_t i = 0; i < n && i < 64; i++)
        if (all[i].name == t.name)
            return all[i];
    return zalloc::TypeStats {};
}

inline zalloc::ZoneStats stats_of(zalloc::ZoneBase& z)
{
    zalloc::ZoneStats s;
    z.snapshot(s);
    return s;
}

// Each test starts on hart 0 of a one-hart machine.
struct HartReset {
    HartReset()
    {
        cpu::host_bind(0);
        cpu::host_set_count(1);
    }
    ~HartReset()
    {
        cpu::host_bind(0);
        cpu::host_set_count(1);
    }
};
