#include "kern/console/ksyms.h"

// Emitted by tools/gen-ksyms.py: addresses sorted ascending.
extern "C" {
extern const uint64_t ksyms_count;
extern const uint64_t ksyms_addrs[];
extern const uint32_t ksyms_name_offsets[];
extern const char ksyms_names[];
extern const char _text_start[], _text_end[];
}

namespace kern::ksyms {

unsigned count() { return static_cast<unsigned>(ksyms_count); }

Symbol lookup(uintptr_t pc)
{
    if (ksyms_count == 0 || pc < reinterpret_cast<uintptr_t>(_text_start) ||
        pc >= reinterpret_cast<uintptr_t>(_text_end))
        return {nullptr, 0};
    // Binary search for the last symbol at or below pc.
    uint64_t lo = 0, hi = ksyms_count;
    while (hi - lo > 1) {
        uint64_t mid = (lo + hi) / 2;
        if (ksyms_addrs[mid] <= pc)
            lo = mid;
        else
            hi = mid;
    }
    if (ksyms_addrs[lo] > pc)
        return {nullptr, 0};
    return {ksyms_names + ksyms_name_offsets[lo], pc - ksyms_addrs[lo]};
}

} // namespace kern::ksyms
