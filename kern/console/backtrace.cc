#include "kern/console/backtrace.h"

#include "kern/arch/riscv/fixup.h"
#include "kern/console/ksyms.h"
#include "kern/console/printf.h"
#include "kern/arch/riscv/trap.h"

extern "C" {
extern const char _text_start[], _text_end[];
void trap_entry();
void trap_entry_end();
}

namespace kern {
namespace {

bool is_text(uintptr_t a)
{
    return a >= reinterpret_cast<uintptr_t>(_text_start) && a < reinterpret_cast<uintptr_t>(_text_end);
}

bool in_trap_entry(uintptr_t a)
{
    return a > reinterpret_cast<uintptr_t>(&trap_entry) && a <= reinterpret_cast<uintptr_t>(&trap_entry_end);
}

// A return address points after its call; for a call that never returns
// (panic at the end of a function) that is already the next function, so
// look up ra - 1 but print ra.
void print_frame(unsigned n, uintptr_t pc, bool is_return_address)
{
    ksyms::Symbol s = ksyms::lookup(is_return_address ? pc - 1 : pc);
    if (s.name)
        kprintf("  #%-2u 0x%016lx %s+0x%lx\n", n, pc, s.name, s.offset + (is_return_address ? 1 : 0));
    else
        kprintf("  #%-2u 0x%016lx ?\n", n, pc);
}

} // namespace

void print_symbol(uintptr_t pc)
{
    ksyms::Symbol s = ksyms::lookup(pc);
    if (s.name)
        kprintf("0x%016lx %s+0x%lx", pc, s.name, s.offset);
    else
        kprintf("0x%016lx ?", pc);
}

// GCC's RISC-V frame record: with frame pointers, s0 is the caller's sp; the
// return address is at s0-8 and the caller's s0 at s0-16. A leaf function
// saves only s0, at s0-8, and keeps its return address in ra: that case is
// recognised when the word at s0-8 is not code but a plausible frame pointer,
// and only where the ra register is known (the first frame of a trap).
// When a return address lands in trap_entry, the frame is a TrapFrame and the
// walk continues in the interrupted code with its saved sepc, s0 and ra.
void backtrace_from(uintptr_t pc, uintptr_t fp, uintptr_t ra, unsigned max_frames)
{
    kprintf("backtrace:\n");
    print_frame(0, pc, false);
    uintptr_t last_pc = 0;
    unsigned repeats = 0;
    unsigned printed = 1;
    for (unsigned n = 1; n < 4096 && printed < max_frames && fp != 0 && (fp & 7) == 0; n++) {
        uint64_t w1, w0;
        if (probe_read_u64(fp - 8, &w1) != 0 || probe_read_u64(fp - 16, &w0) != 0)
            break;
        uintptr_t next_pc, next_fp;
        if (ra && !is_text(w1) && w1 > fp && (w1 & 7) == 0) {
            next_pc = ra;
            next_fp = w1;
        } else {
            next_pc = w1;
            next_fp = w0;
        }
        ra = 0;
        if (!is_text(next_pc))
            break;
        if (in_trap_entry(next_pc)) {
            // next_fp is the trap_entry record's s0, which is the TrapFrame.
            uint64_t sepc, s0, tra;
            uintptr_t tf = next_fp;
            if (probe_read_u64(tf + offsetof(TrapFrame, sepc), &sepc) != 0 ||
                probe_read_u64(tf + 7 * 8, &s0) != 0 || probe_read_u64(tf, &tra) != 0)
                break;
            if (repeats)
                kprintf("       ... the frame above %u more time%s\n", repeats, repeats == 1 ? "" : "s");
            repeats = 0;
            last_pc = 0;
            kprintf("  -- trap --\n");
            print_frame(n, sepc, false);
            printed++;
            pc = sepc;
            fp = s0;
            ra = tra;
            continue;
        }
        if (next_pc == last_pc) {
            repeats++; // deep recursion: one line for the run, not one per frame
        } else {
            if (repeats)
                kprintf("       ... the frame above %u more time%s\n", repeats, repeats == 1 ? "" : "s");
            repeats = 0;
            print_frame(n, next_pc, true);
            printed++;
        }
        last_pc = next_pc;
        if (next_fp <= fp)
            break;
        fp = next_fp;
    }
    if (repeats)
        kprintf("       ... the frame above %u more time%s\n", repeats, repeats == 1 ? "" : "s");
}

void backtrace_here()
{
    // Start in our caller: its pc is our return address, its frame pointer the
    // one our own frame record saved.
    auto fp = reinterpret_cast<uintptr_t>(__builtin_frame_address(0));
    uint64_t caller_fp = 0;
    if (probe_read_u64(fp - 16, &caller_fp) != 0)
        caller_fp = 0;
    backtrace_from(reinterpret_cast<uintptr_t>(__builtin_return_address(0)), caller_fp, 0);
}

} // namespace kern
