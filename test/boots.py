"""The kernel boots test/run_all.py runs: the Config record, the table every
`make test` boots (KERNEL_CONFIGS), the long soak's boots (soak_configs, for
`make soak`) and the data they use (shell scripts, expected kill messages,
blkdebug rule sets, a GPT image maker). run_all.py boots and judges them.
"""
import shutil
import subprocess


NO_LONG_CHURNS = "-threads_create_and_reap_100k,-kmalloc_million_churn_returns_to_baseline"


class Config:
    def __init__(self, name, machine, smp, mem, bootargs, timeout=120, expect="pass",
                 must_show=(), extra=(), script=(), cmd=None, must_not_show=(), side_logs=None, disk=None,
                 blkdebug=False, sdcard=None, disk_bytes=8 << 20, disk_image=None):
        self.name, self.machine, self.smp, self.mem = name, machine, smp, mem
        self.bootargs, self.timeout, self.expect = bootargs, timeout, expect
        self.must_show, self.extra = must_show, list(extra)
        # A full command line of its own (U-Boot, edited device trees), regexes
        # the log must not show, and other files (a second serial port) that
        # must not match theirs.
        self.cmd, self.must_not_show, self.side_logs = cmd, list(must_not_show), dict(side_logs or {})
        # A scratch virtio disk ("legacy" or "modern" transport), its own file
        # per boot (QEMU locks an image), of disk_bytes, optionally behind
        # blkdebug rules (True: reads of sector 100 fail; or a BLKDEBUG_RULES name).
        self.disk, self.blkdebug, self.disk_bytes = disk, blkdebug, disk_bytes
        # An SD card (sifive_u, on the SPI controller): its size in bytes.
        self.sdcard = sdcard
        # Called with the path of the fresh (zeroed, sparse) disk or SD-card
        # image to put something on it, e.g. gpt_image(): a partition table.
        self.disk_image = disk_image
        # Interactive boots: (text to type, regex the answer must show) in turn,
        # starting once the shell's greeting appears.
        self.script = list(script)


# A soak boots with bootarg lockcheck: the checker's summary follows its PASS line.
SOAK_LOCKCHECK = r"^lockcheck: \d+ lock classes, \d+ orderings seen, 0 violations"


SHELL_SCRIPT = [
    ("help\r", r"info +harts, memory map"),
    ("bogus 1 2\r", r"error: unknown command 'bogus'; type 'help'"),
    ("inff\x7fo\r", r"devices:"),
    ("help info extra\r", r"usage: help \[command\]"),
    ("poweroff\r", r"powering off"),
]


USER_KILLS = [
    r"task \d+ \(badread\) killed: load page fault at pc 0x1000000[0-9a-f]+, address 0xffffffc080200000 "
    r"\(not user memory\), in thread \d+ \(badread\)",
    r"task \d+ \(badwrite\) killed: store page fault at pc 0x1000000[0-9a-f]+, address 0x80200000 \(not user memory\)",
    r"task \d+ \(execdata\) killed: instruction page fault at pc 0x1000001000, address 0x1000001000, in thread",
    r"task \d+ \(jumpkernel\) killed: instruction page fault at pc 0x80200000, address 0x80200000 \(not user memory\)",
    r"task \d+ \(illegal\) killed: illegal instruction at pc 0x1000000[0-9a-f]+ \(instruction bits 0x[0-9a-f]+\)",
    r"task: cannot start corrupt: bad ELF image: bad magic: not an ELF file",
    r"sysargs: \d+ checks, 0 failed",
]


def gpt_image(corrupt=False):
    """A disk_image callable: a GPT made by sgdisk with partition 1 "scratch"
    (1 MiB at sector 2048) and partition 2 "swap" (8 MiB, Linux swap type).
    corrupt: then a byte of the primary header is flipped (its CRC no longer
    matches)."""
    def make(path):
        sgdisk = shutil.which("sgdisk") or "/usr/sbin/sgdisk"
        subprocess.run([sgdisk, "-n", "1:2048:+1M", "-c", "1:scratch", "-n", "2:0:+8M", "-c", "2:swap",
                        "-t", "2:0657FD6D-A4AB-43C4-84E5-0933C84B4F4F", path],
                       check=True, stdout=subprocess.DEVNULL)
        if corrupt:
            with open(path, "r+b") as f:
                f.seek(512 + 40)  # the header's first usable LBA
                b = f.read(1)[0]
                f.seek(512 + 40)
                f.write(bytes([b ^ 0x01]))
    return make


# The configurations every `make test` boots. sifive_u has no finisher and
# cannot power off, so it is judged from its log alone.
KERNEL_CONFIGS = [
    Config("virt-smp1-128M", "virt", 1, "128M", "ktest=all"),
    Config("virt-smp2-64M", "virt", 2, "64M", "ktest=all", disk="modern", disk_bytes=32 << 20),
    # Kernel stacks swapped out and in (the swap tests also run in every
    # ktest=all boot that has a disk): one hart, so every race is a preemption.
    # kswap_resident_bytes_per_swapped_thread only here, by name: after a
    # ktest=all run's thread churn the zones already hold room for its
    # threads, and free pages do not show what they cost.
    Config("virt-swap-smp1-128M", "virt", 1, "128M", "ktest=kswap*,stress*,swap*,kswap_resident_bytes_per_swapped_thread",
           disk="modern", timeout=240),
    # The swap device misbehaving: every write failing, one read failing, every
    # read failing (the one thread whose stack is lost is killed, by name), and
    # a device of 16 blocks.
    Config("virt-swap-write-errors", "virt", 2, "128M", "ktest=kswap_fault_write_errors", disk="modern",
           blkdebug="write-all"),
    Config("virt-swap-read-retry", "virt", 2, "128M", "ktest=kswap_fault_read_retry", disk="legacy",
           blkdebug="read-once", must_show=[r"swap: reading the stack of thread \d+ \(sleeper\) from block \d+ "
                                            r"failed \(.*\)"]),
    Config("virt-swap-read-kill", "virt", 2, "128M",
           "ktest=kswap_fault_read_kill,kswap_fault_read_kill_user_task_at_wakeup,"
           "kswap_fault_read_kill_user_task_asleep", disk="modern", blkdebug="read-all",
           must_show=[r"swap: thread \d+ \(sleeper\) killed: its kernel stack could not be read back from swap",
                      r"task \d+ \(ipcswap\) killed: its kernel stack could not be read back from swap",
                      r"ktest: PASS kswap_fault_read_kill_user_task_at_wakeup",
                      r"ktest: PASS kswap_fault_read_kill_user_task_asleep"]),
    Config("virt-swap-tiny", "virt", 2, "128M", "ktest=kswap_fault_tiny_device", disk="modern", disk_bytes=64 << 10,
           must_show=[r"swap: vda, 64 KiB \(16 pages\)"]),
    # Partitions (dev/partition.cc): a GPT disk made by sgdisk; by default
    # swap goes to its Linux swap partition. On sifive_u the SD card's, named.
    # A disk whose GPT is corrupt is reported in one line and swapped over
    # whole only when named.
    # (One hart, like virt-swap-smp1-128M: with two, kswap_emergency_pager_takes_over
    # can see the emergency pager start early after the tests before it, GPT or not.)
    Config("virt-gpt", "virt", 1, "128M", "ktest=partition*,kswap*", disk="modern", disk_bytes=16 << 20,
           disk_image=gpt_image(), timeout=240,
           must_show=[r"^vda: GPT, 2 partitions: vda1 scratch \(1 MiB\), vda2 swap \(8 MiB\)$",
                      r"^swap: vda2 \(Linux swap partition of vda\), 8192 KiB \(2048 pages\)",
                      r"ktest: PASS partition_write_lands_on_disk", r"ktest: PASS kswap_round_trip"],
           must_not_show=[r"nothing to check"]),
    Config("sifive_u-gpt", "sifive_u", 2, "512M", "ktest=partition*,kswap_round_trip,kswap_never* swap=mmcblk0p2",
           sdcard=16 << 20, disk_image=gpt_image(), timeout=180,
           must_show=[r"^mmcblk0: GPT, 2 partitions: mmcblk0p1 scratch \(1 MiB\), mmcblk0p2 swap \(8 MiB\)$",
                      r"^swap: mmcblk0p2 \(Linux swap partition of mmcblk0\), 8192 KiB",
                      r"ktest: PASS partition_write_lands_on_disk", r"ktest: PASS kswap_round_trip"],
           must_not_show=[r"nothing to check"]),
    Config("virt-gpt-corrupt", "virt", 2, "128M", "ktest=swap_pages_round_trip swap=vda", disk="modern",
           disk_bytes=16 << 20, disk_image=gpt_image(corrupt=True),
           must_show=[r"^vda: bad GPT \(GPT header CRC mismatch\); no partitions, the whole disk stays usable$",
                      r"^swap: vda, 16384 KiB", r"ktest: PASS swap_pages_round_trip"],
           must_not_show=[r"vda1", r"nothing to check"]),
    Config("virt-gpt-corrupt-noswap", "virt", 2, "128M", "ktest=swap_pages_round_trip", disk="legacy",
           disk_bytes=16 << 20, disk_image=gpt_image(corrupt=True),
           must_show=[r"^vda: bad GPT \(GPT header CRC mismatch\)", r"^swap: no swap device \("]),
    Config("virt-smp3-512M", "virt", 3, "512M", "ktest=all"),
    # ktest=all on 4 vCPUs sharing the host's cores: kswap_exhaustion_recovers
    # alone takes 25 s here and 36 s on a loaded 2-core host, where the whole
    # boot passed 120 s; virt-smp4-3G runs the same tests with 240.
    Config("virt-smp4-256M", "virt", 4, "256M", "ktest=all", disk="legacy", disk_bytes=32 << 20, timeout=240),
    # With -icount QEMU's instret counts instructions exactly: the allocator
    # fast paths must stay within 24 instructions per alloc+free pair
    # (zalloc/hart_cache.h, test/kernel/zalloc_fastpath_test.cc).
    Config("virt-icount-fastpath", "virt", 1, "128M", "ktest=zalloc_fastpath*", extra=["-icount", "shift=0"],
           must_show=[r"zalloc fast path: \d+\.\d instructions per pair", r"kmalloc_obj fast path: \d+\.\d"]),
    # virtio-blk I/O errors, injected by QEMU's blkdebug on both transports.
    Config("virt-virtio-ioerror-legacy", "virt", 2, "128M", "ktest=virtio_blk_ioerror", disk="legacy",
           blkdebug=True),
    Config("virt-virtio-ioerror-modern", "virt", 2, "128M", "ktest=virtio_blk_ioerror", disk="modern",
           blkdebug=True),
    # The two long single-thread churns (100,000 threads, a million kmallocs)
    # run on the boots of 1-4 harts; on 5 and 8 they measure QEMU's vCPU
    # threads sharing two host cores (30-50 s each) more than the kernel.
    Config("virt-smp8-2G", "virt", 8, "2G", "ktest=all," + NO_LONG_CHURNS, timeout=240),
    # Secondaries that arrive at the kernel's entry instead of _secondary_start
    # (OpenSBI 1.1 does that when hart_start finds a hart not yet waiting):
    # they lose the boot lottery and must still be released and come online.
    Config("virt-smp4-start-at-entry", "virt", 4, "256M", "ktest=harts_all_online,ipi_call_reaches_every_hart smp_start=entry",
           must_show=[r"4 of 4 harts online", r"smp: hart 3 \(hartid \d+\) arrived at the kernel's entry"]),
    Config("sifive_u-smp5-start-at-entry", "sifive_u", 5, "512M",
           "ktest=harts_all_online,ipi_call_reaches_every_hart smp_start=entry",
           must_show=[r"4 of 4 harts online", r"smp: hart 3 \(hartid \d+\) arrived at the kernel's entry"]),
    # The smallest and a large memory size, and one below the minimum, which
    # must stop with a message saying what the minimum is.
    Config("virt-smp2-32M", "virt", 2, "32M", "ktest=all"),
    Config("virt-smp4-3G", "virt", 4, "3G", "ktest=all", timeout=240),
    Config("virt-smp1-24M", "virt", 1, "24M", "ktest=all", expect="panic",
           must_show=[r"kmem: \d+ KiB of usable RAM; Zest needs at least \d+ KiB"]),
    Config("sifive_u-smp2", "sifive_u", 2, "512M", "ktest=all",
           must_show=[r"sdcard: no card in the slot of spi@10050000"]),
    # SD cards over SPI: a small byte-addressed SDSC card with the whole suite,
    # and a 4 GiB block-addressed SDHC card.
    Config("sifive_u-sdcard", "sifive_u", 2, "512M", "ktest=all swap=mmcblk0", sdcard=8 << 20,
           must_show=[r"sdcard mmcblk0: SDSC v2 card \(CSD v1\), 16384 sectors \(8 MiB\), byte addressing",
                      r"swap: mmcblk0", r"ktest: PASS sdcard_rw", r"ktest: PASS sdcard_range"],
           must_not_show=[r"no SD card, nothing to check"]),
    Config("sifive_u-sdhc", "sifive_u", 2, "512M", "ktest=sdcard*", sdcard=4 << 30,
           must_show=[r"sdcard mmcblk0: SDHC/SDXC card \(CSD v2\), 8388608 sectors \(4 GiB\), block addressing",
                      r"ktest: PASS sdcard_rw"]),
    Config("sifive_u-smp5", "sifive_u", 5, "1G", "ktest=all," + NO_LONG_CHURNS, timeout=180),
    # A fault on purpose: the report must name the trap and symbolize the frames.
    # Kernel stack overflows: caught in trap entry, reported from the hart's
    # own overflow stack; twice at the same moment on two harts, both whole.
    Config("virt-kstack-overflow", "virt", 2, "128M", "ktest=kstack_overflow", expect="panic",
           must_show=[r"kernel stack overflow on hart \d+: sp 0x[0-9a-f]+, stack \[0x[0-9a-f]+, 0x[0-9a-f]+\)",
                      r"thread \d+ \(overflower\)", r"\(in the guard below the stack\)",
                      r"#\d+ +0x[0-9a-f]+ recurse_deep\+", r"panic: hart \d+ \(hartid \d+\): kernel stack overflow"]),
    Config("virt-kstack-overflow-2harts", "virt", 4, "128M", "ktest=kstack_overflow_two_harts", expect="panic",
           must_show=[r"thread \d+ \(overflower-a\)\s+faulting address 0x[0-9a-f]+ \(in the guard",
                      r"thread \d+ \(overflower-b\)\s+faulting address 0x[0-9a-f]+ \(in the guard",
                      r"(?s)overflower-a.*recurse_deep\+.*thread_trampoline",
                      r"(?s)overflower-b.*recurse_deep\+.*thread_trampoline"]),
    # User mode (docs/user.md): every user ktest on one and four harts and on
    # sifive_u; each faulting program is killed with a message naming the task,
    # the cause, pc, address and thread, and the kernel goes on.
    Config("virt-user-smp1", "virt", 1, "128M", "ktest=user_*", must_show=USER_KILLS),
    Config("virt-user-smp4", "virt", 4, "256M", "ktest=user_*", must_show=USER_KILLS),
    Config("sifive_u-user", "sifive_u", 2, "512M", "ktest=user_*", must_show=USER_KILLS),
    # As if the harts had no ASIDs: every switch into a task flushes the TLB.
    # The limits (test/kernel/user_limits_test.cc: explicit tests, they hoard
    # all memory or take seconds), on 1 and 4 harts.
    *[Config(f"virt-limits-{part}-smp{n}", "virt", n, mem, "ktest=" + tests, timeout=240)
      for n, mem in ((1, "128M"), (4, "256M"))
      for part, tests in (("a", "limits_mmap_bounded,limits_kill_memwait,limits_thread_race,limits_ipc_kill,"
                                "limits_ptbloat"),
                          ("b", "limits_forkbomb,limits_wait_slot,limits_poll_call,limits_sleep_kill,"
                                "limits_hogtree,limits_parent_kills"))],
    Config("virt-user-noasid", "virt", 4, "256M", "ktest=user_* noasid",
           must_show=USER_KILLS + [r"uspace: no ASIDs; address-space switches flush the TLB"]),
    # The syscall fuzzer: a million random calls from four tasks; the kernel
    # survives and every task, thread, user page and zone is back afterwards.
    Config("virt-user-fuzz-smp4", "virt", 4, "256M", "ktest=user_fuzz_million_syscalls", timeout=240,
           must_show=[r"fuzz \d+: seed 10[0-3], 250000 calls: \d+ succeeded, EFAULT [1-9]\d*, EINVAL [1-9]\d*",
                      r"ktest: fuzz x1: tasks, threads, user pages and zones back to baseline"]),
    Config("virt-user-fuzz-smp1", "virt", 1, "128M", "ktest=user_fuzz_million_syscalls", timeout=240,
           must_show=[r"ktest: fuzz x1: tasks, threads, user pages and zones back to baseline"]),
    # IPC endpoints (kern/task/ipc.h): ping-pong on four harts and one, errors,
    # timeouts, partners exiting mid-call, a failed copy-out beside a reused
    # reply slot; with a swap disk, a client blocked in a call has its kernel
    # stack swapped out and comes back.
    Config("virt-ipc-smp4", "virt", 4, "256M", "ktest=ipc_*", disk="modern", timeout=240,
           must_show=[r"ipcpp: 4 clients, 8000 round trips served, 0 bad",
                      r"ktest: ipc_client_stack_swapped_while_blocked: .* swapped out"]),
    Config("virt-ipc-smp1", "virt", 1, "128M", "ktest=ipc_*", timeout=240,
           must_show=[r"ipcpp: 4 clients, 8000 round trips served, 0 bad"]),
    Config("sifive_u-ipc", "sifive_u", 2, "512M", "ktest=ipc_*", timeout=240),
    # The IPC demo at the prompt: clients blocked in ipc-call in ps, all answered.
    Config("virt-shell-ipc", "virt", 2, "128M", "", expect="shell", disk="modern",
           script=[("spawn ipcdemo 8\r", r"ipcdemo: server task \d+, 8 clients calling"),
                   # The clients may already be done or not yet blocked when
                   # ps runs: it must list them, in whatever state.
                   ("ps\r", r"ipcdemo +\S+ +\d+ +16 .*user, task \d+"),
                   ("\r", r"ipcdemo: 80 calls answered; 8 of 8 clients checked every answer"),
                   ("poweroff\r", r"powering off")]),
    # The shell, typed at through the UART's receive interrupt.
    Config("virt-shell", "virt", 2, "128M", "", expect="shell", script=SHELL_SCRIPT),
    Config("sifive_u-shell", "sifive_u", 2, "256M", "", expect="shell", script=SHELL_SCRIPT),
    # The user side at the prompt: init's demo before it, then a program
    # spawned, seen by ps (task and user threads), killed, and gone.
    Config("virt-shell-user", "virt", 2, "128M", "", expect="shell",
           must_show=[r"init: task 1 exited with 0|init: task 2 exited with 1, task 3 with 2; done"],
           script=[("spawn\r", r"programs:.* spin"),
                   ("spawn spin\r", r"spawn: task 4 \(spin\)"),
                   ("ps\r", r"\s+4 spin\s+running\s+0\s+[12]\s"),
                   ("kill 4\r", r"task 4 \(spin\) killed: killed from the shell"),
                   ("kill 4\r", r"kill: (no task 4|task 4 \(spin\) is already ending \(killed from the shell\))"),
                   ("ps\r", r"1 tasks; 4 spawned since boot|0 tasks; 4 spawned since boot"),
                   ("kill x\r", r"usage: kill <task id>"),
                   ("spawn nothing\r", r"spawn: nothing: no such program"),
                   ("poweroff\r", r"powering off")]),
    # Two trees of 33 tasks each take all the memory they may (each tree
    # stops at its subtree limit, both together at the user share): ps still
    # answers; killed from the shell, every task ends and free memory is back
    # within 10%.
    *[Config(f"virt-shell-hogtree-smp{n}", "virt", n, "256M", "", expect="shell", timeout=300,
             script=[("memcheck set\r", r"memcheck: baseline \d+ free pages"),
                     ("spawn hogtree 2\r", r"hogtree: tree 4 complete"),
                     ("spawn hogtree 2\r", r"hogtree: tree 37 complete"),
                     ("ps\r", r"^66 tasks; ", 1.0), # answered within a second, memory exhausted
                     ("kill -t 4\r", r"kill: 33 tasks killed"),
                     ("kill -t 37\r", r"kill: 33 tasks killed"),
                     ("memcheck 10\r", r"memcheck: \d+ free pages, baseline \d+: within 10%; 0 tasks, 0 exiting"),
                     ("poweroff\r", r"powering off")]) for n in (1, 4)],
    # The demo a newcomer runs: `stress` at the prompt of a boot with a swap
    # disk (what `make run` does) swaps stacks out and back, and says so.
    Config("virt-shell-stress", "virt", 2, "128M", "", expect="shell", disk="modern",
           must_show=[r"Type 'stress' to watch kernel stacks swap out to vda"],
           script=[("stress 32 8 1\r", r"stress: paging: [1-9]\d* stacks swapped out, [1-9]\d* in"),
                   ("swapinfo\r", r"kernel stacks: \d+ swapped now; [1-9]\d* out, [1-9]\d* in"),
                   ("vmstat\r", r"paging: [1-9]\d* stack swap-outs"),
                   ("poweroff\r", r"powering off")]),
    # The lock checker (kern/sync/lockcheck.h): a wrong order panics with both
    # chains symbolized; its cost per lock/unlock pair, exact under -icount,
    # on (every ktest boot) and off.
    Config("virt-lockcheck-panic", "virt", 2, "128M", "ktest=lockcheck_panics_on_wrong_order", expect="panic",
           must_show=[r"^lockcheck: lock order violation on hart \d+, thread \d+ \(main\)",
                      r'^  taking  "lockcheck-outer" \(rank \d+\) lock 0x[0-9a-f]+ at 0x[0-9a-f]+ \S*wrong_order',
                      r"^    #0 lockcheck-inner +\(rank +\d+\) lock 0x[0-9a-f]+ acquired at 0x[0-9a-f]+ \S*wrong_order",
                      r'^  the other chain, seen earlier: "lockcheck-outer" acquired at 0x[0-9a-f]+ \S*right_order',
                      r'^    then "lockcheck-inner" acquired at 0x[0-9a-f]+ \S*right_order',
                      r'panic: hart \d+ \(hartid \d+\): lockcheck: lock order violation: "lockcheck-outer" taken '
                      r'while holding "lockcheck-inner"']),
    Config("virt-icount-lockcheck-on", "virt", 1, "128M", "ktest=lockcheck_cost", extra=["-icount", "shift=0"],
           disk="modern",
           must_show=[r"lockcheck: lock\+unlock pair: \d+ instructions with checking on \(\d+ with a lock held\)"]),
    Config("virt-icount-lockcheck-off", "virt", 1, "128M", "ktest=lockcheck_cost lockcheck=off",
           extra=["-icount", "shift=0"],
           must_show=[r"lockcheck: lock\+unlock pair: \d+ instructions with checking off \(\d+ with a lock held\)"]),
    # The spin watchdog (kern/sync/spinwatch.h): two harts deadlocked on each
    # other's spinlock with interrupts off are reported, both backtraces and
    # the holder's locks, and the boot panics instead of hanging.
    Config("virt-spinwatch-deadlock", "virt", 3, "128M", "ktest=spinwatch_deadlock", expect="panic", timeout=60,
           must_show=[r'^spinwatch: hart [12] has spun on spinlock "spinwatch-[ab]" \(0x[0-9a-f]+\) for \d+ ms '
                      r"with interrupts off; its holder is hart [12]",
                      r"(?s)spinwatch: hart [12] \(spinning\), thread \d+ \(deadlocker-[ab]\):.*SpinLock::lock_slow\+"
                      r".*take_second\+",
                      r"(?s)spinwatch: hart [12] \(holder\), thread \d+ \(deadlocker-[ab]\), holds:.*"
                      r"#0 spinwatch-[ab] .* acquired at 0x[0-9a-f]+ \S*take_second",
                      r'(?s)spinwatch: hart [12], thread \d+ \(deadlocker-[ab]\), spinning on "spinwatch-[ab]" '
                      r"\(0x[0-9a-f]+\), held by hart [12]:.*SpinLock::lock_slow\+.*take_second\+",
                      r'panic: hart [12] \(hartid \d+\): spinwatch: hart [12] stuck on spinlock "spinwatch-[ab]" '
                      r"held by hart [12]"]),
    # The soak (kern/stress/soak.h) at the prompt, short: everything at once for 25 s
    # with a swap disk, on a small and a larger machine. Idle threshold 500 ms,
    # so that stacks go out and come back many times in so short a run.
    Config("virt-soak-smp2-64M", "virt", 2, "64M", "swap_idle_ms=500 lockcheck", expect="shell", disk="modern",
           disk_bytes=32 << 20, timeout=150, must_show=[r"soak: PASS", SOAK_LOCKCHECK], must_not_show=[r"soak: FAIL", r"MISMATCH"],
           script=[("soak 25\r", r"soak: (PASS|FAIL)"), ("poweroff\r", r"powering off")]),
    Config("virt-soak-smp4-256M", "virt", 4, "256M", "swap_idle_ms=500 lockcheck", expect="shell", disk="legacy",
           disk_bytes=32 << 20, timeout=150, must_show=[r"soak: PASS", SOAK_LOCKCHECK], must_not_show=[r"soak: FAIL", r"MISMATCH"],
           script=[("soak 25\r", r"soak: (PASS|FAIL)"), ("poweroff\r", r"powering off")]),
    Config("virt-fault-backtrace", "virt", 2, "128M", "ktest=fault_backtrace", expect="panic",
           must_show=[r"kernel trap: store (page|access) fault", r"backtrace:", r"#\d+ +0x[0-9a-f]+ fault_level3\+",
                      r"fault_level2\+", r"fault_level1\+", r"ktest_fn_fault_backtrace\+", r"-- trap --",
                      r"panic: hart \d+"]),
]

def soak_configs(seconds):
    """make soak: `soak SECONDS` at the prompt on several memory sizes and hart
    counts, with a 32 MiB swap disk; the first two behind the fault rules."""
    def soak(name, smp, mem, bootargs, disk, faults):
        return Config(name, "virt", smp, mem, (bootargs + " lockcheck").strip(), expect="shell", disk=disk, disk_bytes=32 << 20,
                      blkdebug="soak-faults" if faults else False, timeout=seconds + 240,
                      must_show=[r"soak: PASS", SOAK_LOCKCHECK], must_not_show=[r"soak: FAIL", r"MISMATCH"],
                      script=[(f"soak {seconds}\r", r"soak: (PASS|FAIL)"), ("poweroff\r", r"powering off")])
    return [soak("soak-smp3-48M-faults", 3, "48M", "swap_idle_ms=500", "modern", True),
            soak("soak-smp4-256M-faults", 4, "256M", "", "legacy", True),
            soak("soak-smp2-96M", 2, "96M", "swap_idle_ms=1000", "modern", False)]

# blkdebug rule sets (QEMU's blkdebug driver between the disk and its image).
BLKDEBUG_RULES = {
    # Reads of sector 100 fail: the driver's own error tests.
    "read100": """[inject-error]
event = "read_aio"
iotype = "read"
errno = "5"
sector = "100"
""",
    # Every write fails: swap-outs must keep their stacks resident.
    "write-all": """[inject-error]
event = "write_aio"
iotype = "write"
errno = "5"
""",
    # One read of sector 8 (in the first swapped stack) fails, once: the
    # swapper's retry must succeed. (Sector 0 is read by QEMU's own probing.)
    "read-once": """[inject-error]
event = "read_aio"
iotype = "read"
errno = "5"
sector = "8"
once = "on"
""",
    # Every read fails: the one thread whose stack is lost is killed.
    "read-all": """[inject-error]
event = "read_aio"
iotype = "read"
errno = "5"
""",
}
# The long soak's faults (make soak): reads of four blocks and writes of
# three others fail, every time. Swap space is handed out from a rotor that
# moves forward (vm/swap_alloc.h), so over a long run stacks keep landing on
# them: a stack written over a bad read block cannot be read back (its
# thread is killed, by name, and nothing else), a cluster written over a bad
# write block fails and its stacks stay resident.
SOAK_READ_BLOCKS, SOAK_WRITE_BLOCKS = (1000, 3001, 5002, 7003), (2000, 4001, 6002)
BLKDEBUG_RULES["soak-faults"] = "".join(
    f'[inject-error]\nevent = "{op}_aio"\niotype = "{op}"\nerrno = "5"\nsector = "{b * 8 + 3}"\n'
    for op, blocks in (("read", SOAK_READ_BLOCKS), ("write", SOAK_WRITE_BLOCKS)) for b in blocks)
