// RAM the device tree claims, checked against RAM that answers. A tree written
// for a larger board, or edited by hand, can list more memory than is there;
// touching the missing part would end in a store fault deep inside the
// allocator's set-up. Each /memory range is probed with loads that survive a
// fault (kern/arch/riscv/probe.S), before paging is on, and shrunk to the part
// that answered.
#include "boot/platform_internal.h"

#include "boot/machine.h"
#include "kern/arch/riscv/fixup.h"
#include "kern/console/panic.h"
#include "kern/console/printf.h"
#include "lib/page.h"

namespace kern::platform {
namespace {

constexpr uint64_t kStep = 1ul << 20; // probe once a MiB, then page by page in the MiB that failed

bool answers(uint64_t last_byte)
{
    uint64_t v;
    return probe_read_u64(uintptr_t(last_byte & ~uint64_t(7)), &v) == 0;
}

// How many bytes from r.base answer a load, assuming the RAM present is one
// run from the start of the range (as boards and QEMU lay it out).
uint64_t answered_bytes(const fdt::Range& r)
{
    uint64_t ok = 0;
    while (ok < r.size) {
        uint64_t step = r.size - ok < kStep ? r.size - ok : kStep;
        if (answers(r.base + ok + step - 1)) {
            ok += step;
            continue;
        }
        for (uint64_t end = ok + step; ok < end; ok += PAGE_SIZE) {
            uint64_t page = end - ok < PAGE_SIZE ? end - ok : PAGE_SIZE;
            if (!answers(r.base + ok + page - 1))
                return ok;
        }
        return ok; // (only if the MiB answered when probed page by page)
    }
    return ok;
}

} // namespace

void probe_memory(fdt::MachineInfo& m)
{
    for (size_t i = 0; i < m.nmemory;) {
        fdt::Range claimed = m.memory[i];
        uint64_t got = answered_bytes(claimed);
        if (got == claimed.size) {
            i++;
            continue;
        }
        kprintf("platform: the device tree claims RAM 0x%010lx-0x%010lx (%lu KiB); 0x%010lx-0x%010lx (%lu KiB) "
                "answered: using that\n",
                claimed.base, claimed.end(), claimed.size / 1024, claimed.base, claimed.base + got, got / 1024);
        if (!fdt::set_memory_size(m, i, got).ok())
            panic("platform: too many usable memory ranges after trimming RAM to what answered");
        if (got != 0)
            i++;
    }
    if (m.nmemory == 0)
        panic("platform: no RAM in the device tree answered a load");
}

} // namespace kern::platform
