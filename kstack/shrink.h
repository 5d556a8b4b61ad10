// Giving stack pages back: the other half of growing on demand.
//
// Only when it pays: the pagedaemon calls give_back() under memory pressure,
// before swapping whole stacks out (it costs no I/O). It takes threads asleep
// at least the idle threshold whose stacks hold nothing (the same claim as a
// swap-out, so a wakeup meanwhile only marks the stack wanted), unmaps every
// page wholly below the thread's saved sp, shoots the TLBs down once for the
// whole batch, and frees the pages. A thread that later needs the depth again
// grows back into it with a fault. Never on a context switch.
#pragma once

#include "kstack/swap.h"

#include <cstdint>

namespace kstack {

struct GiveBackResult {
    uint64_t pages = 0;
    unsigned stacks = 0;
};
[[nodiscard]] GiveBackResult give_back(swap::Scratch& sc, uint64_t need_pages, uint64_t idle_us);

} // namespace kstack
