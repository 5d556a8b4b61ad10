// kmain: the boot hart's path from entry to the shell (or the test run).
#include "dev/sdcard_spi.h"
#include "dev/virtio_blk.h"
#include "boot/bootargs.h"
#include "boot/harts.h"
#include "kern/console/console.h"
#include "kern/debug/debug_stop.h"
#include "kern/debug/debugdemo.h"
#include "kern/arch/riscv/csr.h"
#include "kern/arch/riscv/hart.h"
#include "kern/arch/riscv/irq.h"
#include "kern/arch/riscv/restart.h"
#include "test/kernel/kbench.h"
#include "test/kernel/ktest.h"
#include "kern/sync/lockcheck.h"
#include "boot/platform.h"
#include "kern/console/printf.h"
#include "lib/string.h"
#include "kern/arch/riscv/sbi.h"
#include "kern/shell/shell.h"
#include "kern/task/task.h"
#include "kern/arch/riscv/timer.h"
#include "kern/sched/thread.h"
#include "kern/arch/riscv/trap.h"
#include "kstack/kstack.h"
#include "vm/kmem.h"
#include "vm/pageout.h"
#include "dev/block.h"
#include "dev/partition.h"
#include "vm/swap.h"
#include "zalloc/kmalloc.h"

extern "C" void run_constructors();

using namespace kern;

// The user side: the init program (user/progs/init.cc) runs its demo; the
// shell waits for it (a few seconds at most) so their output does not mix.
static void start_init()
{
    lib::Result<Task*> init = task::spawn("init", 0);
    if (!init.ok()) {
        kprintf("init: cannot start: %s\n", lib::error_name(init.error()));
        return;
    }
    if (!task::wait(init.value(), 5000000).ok())
        kprintf("init: still running after 5 s; the shell starts anyway\n");
    task::put(init.value());
}

extern "C" [[noreturn]] void kmain(unsigned long hartid, uintptr_t fdt_pa)
{
    run_constructors();
    kprintf("\nZest %s: booting on hart %lu (device tree at 0x%lx)\n", ZEST_VERSION, hartid, fdt_pa);

    trap::init_hart();
    restart::init(); // before interrupts are first on
    platform::setup(hartid, fdt_pa);
    ksync::lockcheck::init_from_bootargs(); // as soon as the bootargs are known
    vm::kmem::init(platform::machine());
    irq::init_hart();
    timer::start_hart();
    cpu::irq_restore(cpu::IRQS_ON);

    // The allocators, then threads: from here on kmain runs as thread "main".
    zalloc::kmalloc_init(vm::kmem::backend());
    kstack::init();
    thread::init_boot_hart();
    vm::kmem::init_waiting();
    task::init();
    vm::pageout::start();
    dev::virtio_blk_probe_all();
    dev::sdcard_spi_probe_all();
    // Thread context with interrupts on: the GPT reads sleep until completion.
    dev::scan_partitions();
    vm::swap::init();

    harts::start_secondaries();

    kprintf("Zest %s, rv64 S-mode, SBI %ld.%ld (impl %ld), %u of %u harts online\n", ZEST_VERSION,
            (sbi::spec_version() >> 24) & 0x7f, sbi::spec_version() & 0xffffff, sbi::impl_id(),
            online_count(), platform::info().nharts);
    platform::print_summary();

    char pattern[128];
    if (bootargs::get("ktest", pattern, sizeof pattern))
        ktest::run_from_bootargs(pattern);
    if (bootargs::get("bench", pattern, sizeof pattern))
        kbench::run_from_bootargs(pattern);

    if (debugdemo::start_from_bootargs()) {
        // The shell's own figures, for gdb's to be compared with, then the
        // stop gdb breaks on (docs/debugging.md).
        static const char* const cmds[] = {"ps", "vmstat", "vmstat -z", "kstack"};
        for (const char* c : cmds) {
            char line[32]; // execute() splits the line in place
            memcpy(line, c, strlen(c) + 1);
            kprintf("debugdemo: shell %s\n", c);
            (void)shell::execute(line);
            kprintf("debugdemo: end of %s\n", c);
        }
        debug_stop("debugdemo");
        kprintf("debugdemo: resumed\n");
    }
    start_init();
    kprintf("Type 'help' for commands.\n");
    if (vm::swap::enabled())
        kprintf("Type 'stress' to watch kernel stacks swap out to %s and back (then 'vmstat', 'swapinfo').\n",
                vm::swap::device()->name());
    shell::run();
}
