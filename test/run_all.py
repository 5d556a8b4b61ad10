#!/usr/bin/env python3
"""Zest's test runner: host doctest binaries and kernel boots under QEMU.

Every kernel configuration boots build/Image with a bootarg ktest=PATTERN and
is judged by what it prints: each "ktest: PASS/FAIL name" line counts as one
test, and the boot itself counts as one more that fails on a timeout, a
panic, a missing summary line or (on virt, which has the test finisher) a
QEMU exit status that disagrees with the summary. Boots that are meant to
panic check the report instead. The last line printed is
"N passed, N failed".
"""
import argparse
import concurrent.futures
import os
import re
import shutil
import subprocess
import sys
import threading
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


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
    Config("virt-swap-smp1-128M", "virt", 1, "128M", "ktest=kswap*,stress*,swap*", disk="modern", timeout=240),
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
    Config("virt-smp4-256M", "virt", 4, "256M", "ktest=all", disk="legacy", disk_bytes=32 << 20),
    # With -icount QEMU's instret counts instructions exactly: the allocator
    # fast paths must stay within issue 4's 24 instructions per alloc+free pair.
    Config("virt-icount-fastpath", "virt", 1, "128M", "ktest=zalloc_fastpath*", extra=["-icount", "shift=0"],
           must_show=[r"zalloc fast path: \d+\.\d instructions per pair", r"kmalloc_obj fast path: \d+\.\d"]),
    # virtio-blk I/O errors, injected by QEMU's blkdebug on both transports.
    Config("virt-virtio-ioerror-legacy", "virt", 2, "128M", "ktest=virtio_blk_ioerror", disk="legacy",
           blkdebug=True),
    Config("virt-virtio-ioerror-modern", "virt", 2, "128M", "ktest=virtio_blk_ioerror", disk="modern",
           blkdebug=True),
    Config("virt-smp8-2G", "virt", 8, "2G", "ktest=all", timeout=240),
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
    Config("sifive_u-smp5", "sifive_u", 5, "1G", "ktest=all", timeout=180),
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
    # User mode (issue 7): every user ktest on one and four harts and on
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
                      r"(?s)spinwatch: hart [12] \(spinning\), thread \d+ \(deadlocker-[ab]\):.*SpinLock::lock\+"
                      r".*take_second\+",
                      r"(?s)spinwatch: hart [12] \(holder\), thread \d+ \(deadlocker-[ab]\), holds:.*"
                      r"#0 spinwatch-[ab] .* acquired at 0x[0-9a-f]+ \S*take_second",
                      r'(?s)spinwatch: hart [12], thread \d+ \(deadlocker-[ab]\), spinning on "spinwatch-[ab]" '
                      r"\(0x[0-9a-f]+\), held by hart [12]:.*SpinLock::lock\+.*take_second\+",
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


# Lock classes every passing ktest boot must have exercised (its lockcheck line).
LOCKCHECK_MIN_CLASSES = 20
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


class Tally:
    def __init__(self):
        self.passed = 0
        self.failed = 0
        self.lock = threading.Lock()

    def record(self, ok, name, detail=""):
        with self.lock:
            if ok:
                self.passed += 1
                print(f"PASS {name}{(' ' + detail) if detail else ''}", flush=True)
            else:
                self.failed += 1
                print(f"FAIL {name}{(': ' + detail) if detail else ''}", flush=True)


def run_layers(tally):
    """make check-layers as one test: every #include against docs/layers.md."""
    p = subprocess.run([sys.executable, os.path.join(ROOT, "tools", "check-layers.py"), "--self-test"],
                       capture_output=True, text=True)
    out = (p.stdout + p.stderr).strip()
    if p.returncode != 0:
        print(out, flush=True)
    tally.record(p.returncode == 0, "layers/check-layers", "" if p.returncode == 0 else out.splitlines()[-1])


def run_host(build, names, tally):
    for name in names:
        path = os.path.join(build, "host", name)
        if not os.path.exists(path):
            tally.record(False, f"host/{name}", "binary missing (build failed?)")
            continue
        env = dict(os.environ)
        env.setdefault("ASAN_OPTIONS", "detect_leaks=1:abort_on_error=0")
        env.setdefault("UBSAN_OPTIONS", "print_stacktrace=1:halt_on_error=1")
        try:
            p = subprocess.run([path, "--no-intro=true"], cwd=ROOT, env=env, capture_output=True,
                               text=True, timeout=600)
            out = p.stdout + p.stderr
        except subprocess.TimeoutExpired:
            tally.record(False, f"host/{name}", "timed out after 600 s")
            continue
        m = re.search(r"test cases:\s*(\d+)\s*\|\s*(\d+) passed\s*\|\s*(\d+) failed", out)
        if not m:
            sys.stdout.write(out[-4000:])
            tally.record(False, f"host/{name}", f"no doctest summary (exit {p.returncode})")
            continue
        total, passed, failed = map(int, m.groups())
        with tally.lock:
            tally.passed += passed
            tally.failed += failed
        status = "PASS" if failed == 0 and p.returncode == 0 else "FAIL"
        print(f"{status} host/{name}: {passed} of {total} test cases passed", flush=True)
        if failed or p.returncode != 0:
            sys.stdout.write(out[-6000:])
            if failed == 0:  # sanitizer report after the summary, or a crash
                tally.record(False, f"host/{name}", f"exit status {p.returncode}")


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


def disk_args(build, cfg):
    if cfg.sdcard:
        img = os.path.join(build, f"test-sdcard-{cfg.name}.img")
        with open(img, "wb") as f:
            f.truncate(cfg.sdcard) # sparse
        if cfg.disk_image:
            cfg.disk_image(img)
        return ["-drive", f"file={img},if=sd,format=raw"]
    if not cfg.disk:
        return []
    img = os.path.join(build, f"test-disk-{cfg.name}.img")
    with open(img, "wb") as f:
        f.truncate(cfg.disk_bytes)
    if cfg.disk_image:
        cfg.disk_image(img)
    spec = img
    if cfg.blkdebug:
        kind = cfg.blkdebug if isinstance(cfg.blkdebug, str) else "read100"
        rules = os.path.join(build, f"blkdebug-{kind}.conf")
        with open(rules, "w") as f:
            f.write(BLKDEBUG_RULES[kind])
        spec = f"blkdebug:{rules}:{img}"
    args = ["-drive", f"file={spec},if=none,format=raw,id=d0", "-device", "virtio-blk-device,drive=d0"]
    if cfg.disk == "modern":
        args += ["-global", "virtio-mmio.force-legacy=false"]
    return args


def qemu_command(build, cfg):
    if cfg.cmd:
        return list(cfg.cmd)
    cmd = ["qemu-system-riscv64", "-M", cfg.machine, "-smp", str(cfg.smp), "-m", cfg.mem,
           "-nographic", "-monitor", "none", "-serial", "stdio",
           "-kernel", os.path.join(build, "Image"), "-append", cfg.bootargs]
    return cmd + disk_args(build, cfg) + cfg.extra


def boot(build, cfg, logdir):
    """Boot one configuration; returns (log text, exit code or None, timed_out)."""
    cmd = qemu_command(build, cfg)
    logpath = os.path.join(logdir, cfg.name + ".log")
    start = time.time()
    with open(logpath, "w") as log:
        log.write("$ " + " ".join(cmd) + "\n")
        log.flush()
        p = subprocess.Popen(cmd, stdin=subprocess.PIPE if cfg.script else subprocess.DEVNULL,
                             stdout=subprocess.PIPE, stderr=subprocess.STDOUT, cwd=ROOT)
        script = list(cfg.script)
        waiting_for = r"Type 'help' for commands" if script else None
        # A step may carry a third element: the seconds its answer may take.
        sent_at, answer_limit, slow = None, None, []
        text = []
        done_at = None
        timed_out = False
        # Read without blocking forever: a reader thread feeds lines.
        lines = []
        cond = threading.Condition()

        def reader():
            for raw in iter(p.stdout.readline, b""):
                line = raw.decode("utf-8", "replace").replace("\r", "")
                with cond:
                    lines.append(line)
                    cond.notify()
            with cond:
                lines.append(None)
                cond.notify()

        t = threading.Thread(target=reader, daemon=True)
        t.start()
        eof = False
        while not eof:
            with cond:
                cond.wait_for(lambda: lines, timeout=1.0)
                batch, lines[:] = list(lines), []
            for line in batch:
                if line is None:
                    eof = True
                    break
                text.append(line)
                log.write(line)
                if waiting_for and re.search(waiting_for, line):
                    if answer_limit is not None and time.time() - sent_at > answer_limit:
                        slow.append(f"the answer to {last_sent.strip()!r} took {time.time() - sent_at:.1f} s "
                                    f"(at most {answer_limit} s)")
                    if script:
                        send, waiting_for, *limit = script.pop(0)
                        answer_limit = limit[0] if limit else None
                        last_sent, sent_at = send, time.time()
                        p.stdin.write(send.encode())
                        p.stdin.flush()
                    else:
                        waiting_for = None
                        done_at = time.time()
                # sifive_u cannot power off: the summary (or a panic) ends the run.
                if done_at is None and (re.match(r"ktest: \d+ passed, \d+ failed", line)
                                        or "panic: system halted" in line
                                        or line.startswith("panic: recursive")):
                    done_at = time.time()
            log.flush()
            now = time.time()
            if done_at is not None and now - done_at > 3.0:
                break
            if now - start > cfg.timeout:
                timed_out = True
                break
        if p.poll() is None:
            p.kill()
        p.wait()
        t.join(timeout=2)
        # On virt the finisher ends QEMU by itself; elsewhere we killed it.
        code = p.returncode if (p.returncode is not None and p.returncode >= 0) else None
    return "".join(text), code, timed_out, slow


def judge(build, cfg, logdir, tally):
    text, code, timed_out, slow = boot(build, cfg, logdir)
    prefix = f"kernel/{cfg.name}"
    for m in re.finditer(r"^ktest: (PASS|FAIL) (\S+?)(?:: (.*?))?(?: \(\d+ ms\))?\r?$", text, re.M):
        tally.record(m.group(1) == "PASS", f"{prefix}/{m.group(2)}", m.group(3) or "")
    summary = re.search(r"^ktest: (\d+) passed, (\d+) failed", text, re.M)
    problems = list(slow)
    if timed_out:
        problems.append(f"timed out after {cfg.timeout} s")
    if cfg.expect == "pass":
        if "panic:" in text:
            problems.append("the kernel panicked")
        if not summary:
            problems.append("no 'ktest: N passed, N failed' line")
        elif int(summary.group(2)) != 0:
            problems.append(f"{summary.group(2)} ktest(s) failed")
        elif int(summary.group(1)) == 0:
            problems.append("no ktest ran")
        if cfg.machine == "virt" and not timed_out and code != 0:
            problems.append(f"QEMU exit status {code}, expected 0 from the finisher")
        # Every ktest boot checks the lock order (kern/sync/lockcheck.h) unless told not to.
        if "lockcheck=off" not in cfg.bootargs:
            lc = re.search(r"^lockcheck: (\d+) lock classes, (\d+) orderings seen, (\d+) violations$", text, re.M)
            if not lc:
                problems.append("no 'lockcheck: N lock classes, M orderings seen, V violations' line")
            elif int(lc.group(3)) != 0:
                problems.append(f"lockcheck: {lc.group(3)} violations")
            elif int(lc.group(1)) < LOCKCHECK_MIN_CLASSES:
                problems.append(f"lockcheck saw only {lc.group(1)} lock classes (at least {LOCKCHECK_MIN_CLASSES})")
    elif cfg.expect == "shell":
        if "panic:" in text:
            problems.append("the kernel panicked")
        # The last step's answer must have arrived: every step was answered in turn.
        last = cfg.script[-1][1] if cfg.script else None
        if last and not re.search(last, text):
            problems.append("the shell did not answer every command (see log)")
    else:
        for pat in cfg.must_show:
            if not re.search(pat, text, re.M):
                problems.append(f"report lacks /{pat}/")
        if cfg.machine == "virt" and code == 0:
            problems.append("QEMU exited 0 after a panic")
    if cfg.expect in ("pass", "shell"):
        for pat in cfg.must_show:
            if not re.search(pat, text, re.M):
                problems.append(f"log lacks /{pat}/")
    for pat in cfg.must_not_show:
        m = re.search(pat, text, re.M)
        if m:
            problems.append(f"log shows /{pat}/: {m.group(0)!r}")
    for path, pats in cfg.side_logs.items():
        side = open(path, errors="replace").read() if os.path.exists(path) else ""
        for pat in pats:
            m = re.search(pat, side, re.M)
            if m:
                problems.append(f"{os.path.basename(path)} shows /{pat}/: {m.group(0)!r}")
    if problems:
        tail = "".join(text.splitlines(True)[-40:])
        print(f"---- {cfg.name}: last lines of {os.path.join(logdir, cfg.name + '.log')}\n{tail}----", flush=True)
    tally.record(not problems, f"{prefix}/boot", "; ".join(problems))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--build", default="build")
    ap.add_argument("--host", nargs="*", default=None, help="host test binaries to run")
    ap.add_argument("--kernel", action="store_true", help="boot the kernel configurations")
    ap.add_argument("--layers", action="store_true", help="run make check-layers as one test")
    ap.add_argument("--only", default=None, help="regex: kernel configurations to boot")
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--soak", type=int, default=None, metavar="SECONDS",
                    help="boot the long soak configurations instead (make soak)")
    args = ap.parse_args()
    build = os.path.join(ROOT, args.build) if not os.path.isabs(args.build) else args.build

    tally = Tally()
    if args.layers:
        run_layers(tally)
    if args.host is not None:
        run_host(build, args.host, tally)
    if args.soak is not None:
        logdir = os.path.join(build, "test-logs")
        os.makedirs(logdir, exist_ok=True)
        configs = [c for c in soak_configs(args.soak) if not args.only or re.search(args.only, c.name)]
        with concurrent.futures.ThreadPoolExecutor(max_workers=args.jobs) as ex:
            for f in [ex.submit(judge, build, c, logdir, tally) for c in configs]:
                f.result()
        for c in configs:
            log = os.path.join(logdir, c.name + ".log")
            text = open(log, errors="replace").read() if os.path.exists(log) else ""
            for line in re.findall(r"^soak: (?:PASS|FAIL|balance).*$", text, re.M):
                print(f"{c.name}: {line}", flush=True)
    if args.kernel:
        logdir = os.path.join(build, "test-logs")
        os.makedirs(logdir, exist_ok=True)
        configs = list(KERNEL_CONFIGS)
        # The board's boot path rehearsed with U-Boot, and boots with edited
        # device trees (test/uboot.py, test/dtb_configs.py).
        sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
        import dtb_configs
        import uboot
        uboot.prepare(build)
        dtb_configs.prepare(build)
        for d in uboot.uboot_configs(build) + dtb_configs.dtb_configs(build):
            configs.append(Config(d["name"], d["machine"], 0, "", "", timeout=d["timeout"],
                                  expect=d.get("expect", "pass"), must_show=d.get("must_show", ()),
                                  script=d.get("script", ()), cmd=d["cmd"],
                                  must_not_show=d.get("must_not_show", ()), side_logs=d.get("side_logs")))
        configs = [c for c in configs if not args.only or re.search(args.only, c.name)]
        with concurrent.futures.ThreadPoolExecutor(max_workers=args.jobs) as ex:
            for f in [ex.submit(judge, build, c, logdir, tally) for c in configs]:
                f.result()
    print(f"{tally.passed} passed, {tally.failed} failed", flush=True)
    sys.exit(0 if tally.failed == 0 else 1)


if __name__ == "__main__":
    main()
