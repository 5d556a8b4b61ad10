// Benchmark: IPC call+reply round trip between two tasks, measured from user
// mode (user/progs/ipcbench.cc) in retired instructions, net of the loop.
#include "test/kernel/kbench.h"
#include "kern/console/printf.h"
#include "kern/task/task.h"

using namespace kern;

// Client call -> server's receive returns -> server replies and receives
// again -> client's call returns: two address-space switches, four traps.
KBENCH(ipc_call_reply)
{
    lib::Result<Task*> r = task::spawn("ipcbench", 1000);
    if (!r.ok()) {
        kprintf("kbench: error ipc_call_reply: cannot spawn ipcbench\n");
        return;
    }
    (void)task::wait(r.value());
    int code = r.value()->exit_code;
    task::put(r.value());
    if (code <= 0) {
        kprintf("kbench: error ipc_call_reply: ipcbench ended with %d\n", code);
        return;
    }
    kbench::report("ipc_call_reply", uint64_t(code), 1, "instructions");
}
