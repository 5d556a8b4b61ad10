// Benchmarks: system-call entry and exit, measured from user mode
// (user/progs/nullsys.cc) in retired instructions, net of the loop.
#include "test/kernel/kbench.h"
#include "kern/console/printf.h"
#include "kern/task/task.h"
#include "user/abi.h"

using namespace kern;

namespace {

void measure(const char* name, long nr)
{
    lib::Result<Task*> r = task::spawn("nullsys", (uint64_t(nr) << 32) | 1000);
    if (!r.ok()) {
        kprintf("kbench: error %s: cannot spawn nullsys\n", name);
        return;
    }
    (void)task::wait(r.value());
    int code = r.value()->exit_code;
    task::put(r.value());
    if (code < 0) {
        kprintf("kbench: error %s: nullsys ended with %d\n", name, code);
        return;
    }
    kbench::report(name, uint64_t(code), 100, "instructions");
}

} // namespace

// getpid: trap entry from U-mode, dispatch, a one-line handler, trap exit.
KBENCH(syscall_getpid)
{
    measure("syscall_getpid", SYS_GETPID);
}

// An unknown number: entry, the dispatch's bounds check, exit.
KBENCH(syscall_enosys)
{
    measure("syscall_enosys", 31);
}
