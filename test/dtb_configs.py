#!/usr/bin/env python3
"""Boots with edited device trees: Zest must follow the device tree, not assumptions.

QEMU's devices cannot move, so the edits change what QEMU ignores but the
kernel must take from the tree (sources and the list of edits: test/dtb/*.dts),
and the banner printed at boot shows what the kernel understood.

    prepare(build_dir)      compile test/dtb/*.dts with dtc into build_dir/dtb-edited/
    dtb_configs(build_dir)  dicts like test/uboot.py's: name, machine, cmd, timeout,
                            expect, must_show, must_not_show, script, and side_logs
                            ({file: regexes that file must NOT match})
Run them with:  python3 test/uboot.py --dtb --only dtb
"""
import os
import subprocess

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DTS_DIR = os.path.join(ROOT, "test", "dtb")


def dtb_path(build_dir, name):
    return os.path.join(build_dir, "dtb-edited", name + ".dtb")


def prepare(build_dir):
    out = os.path.join(build_dir, "dtb-edited")
    os.makedirs(out, exist_ok=True)
    for f in sorted(os.listdir(DTS_DIR)):
        if f.endswith(".dts"):
            subprocess.run(["dtc", "-q", "-I", "dts", "-O", "dtb", "-o", dtb_path(build_dir, f[:-4]),
                            os.path.join(DTS_DIR, f)], check=True)


def _qemu(machine, smp, mem, dtb, image, bootargs, serial):
    return ["qemu-system-riscv64", "-M", machine, "-smp", str(smp), "-m", mem, "-nographic",
            "-monitor", "none"] + serial + ["-dtb", dtb, "-kernel", image, "-append", bootargs]


def dtb_configs(build_dir):
    image = os.path.join(build_dir, "Image")
    logs = os.path.join(build_dir, "test-logs")
    virt = dtb_path(build_dir, "virt-edited")
    su = dtb_path(build_dir, "sifive_u-uart1")
    sram = dtb_path(build_dir, "virt-sram-memory")
    bigmem = dtb_path(build_dir, "sifive_u-bigmem")
    no_clint = dtb_path(build_dir, "virt-no-clint")
    stdio = ["-serial", "stdio"]
    uart0_ktest = os.path.join(logs, "dtb-sifive_u-uart1-ktest.uart0.log")
    uart0_shell = os.path.join(logs, "dtb-sifive_u-uart1-shell.uart0.log")
    os.makedirs(logs, exist_ok=True)
    # Serial 0 (UART0) goes to a file that must stay free of Zest's output;
    # serial 1 (UART1, the edited stdout-path) is the runner's stdio.
    su_serial = lambda f: ["-serial", "file:" + f, "-serial", "stdio"]
    return [
        dict(name="dtb-virt-edited", machine="virt", timeout=90, expect="pass",
             cmd=_qemu("virt", 2, "256M", virt, image, "ktest=all", ["-serial", "stdio"]),
             must_show=[
                 # stdout-path "serial0:115200n8" resolved through /aliases, past a decoy UART listed first
                 r"^  uart +ns16550a at 0x10000100, irq 12$",
                 r"^  uart +ns16550a at 0x10000000, irq 10 \(console\)$",
                 # riscv,ndev edited 0x60 -> 0x20
                 r"^  plic +at 0xc000000, 32 sources, 4 contexts$",
                 # two memory nodes, in reverse order
                 r"RAM +262144 KiB in 2 ranges",
                 r"0x0088000000-0x0090000000 \(131072 KiB\)",
                 # /memreserve/ and the okay /reserved-memory child
                 r"^ +0x008e000000-0x008e020000 \(128 KiB\)$",
                 r"^ +0x0086000000-0x0086100000 \(1024 KiB\)$",
                 r"^ +0x0080080000-0x0086000000 ",
                 # renamed finisher found by its compatible (QEMU's exit status also comes from it)
                 r"finisher +at 0x100000",
                 # cpu@1 listed first: the boot hart is still index 0, contexts from interrupts-extended
                 # Whichever hart OpenSBI boots on becomes hart 0; each keeps its
                 # own PLIC context from interrupts-extended.
                 r"hart [01]: hartid 0, online, PLIC context 1,",
                 r"hart [01]: hartid 1, online, PLIC context 3,",
             ],
             must_not_show=[
                 r"0x10000200",                 # the disabled UART
                 r"0x0087000000-0x0087100000",  # the disabled reserved-memory child
             ],
             script=[]),
        dict(name="dtb-sifive_u-uart1-ktest", machine="sifive_u", timeout=150, expect="pass",
             cmd=_qemu("sifive_u", 2, "512M", su, image, "ktest=all", su_serial(uart0_ktest)),
             must_show=[r"^  uart +sifive,uart0 at 0x10010000, irq 4$",
                        r"^  uart +sifive,uart0 at 0x10011000, irq 5 \(console\)$",
                        r"^Zest .*booting on hart \d"],
             must_not_show=[], side_logs={uart0_ktest: [r"Zest", r"ktest"]},
             script=[]),
        # Typed input reaches the shell only through UART1's receive interrupt (PLIC source 5).
        dict(name="dtb-sifive_u-uart1-shell", machine="sifive_u", timeout=60, expect="shell",
             cmd=_qemu("sifive_u", 2, "512M", su, image, "", su_serial(uart0_shell)),
             must_show=[r"sifive,uart0 at 0x10011000, irq 5 \(console\)"],
             must_not_show=[], side_logs={uart0_shell: [r"Zest", r"zest>"]},
             script=[("info\r", r"sifive,uart0 at 0x10011000, irq 5 \(console\)"),
                     ("bogus\r", r"error: unknown command 'bogus'")]),
            # More harts than Zest reads (16) and runs on (8): the rest are named, left parked, and it boots.
        # QEMU's own tree (no -dtb); whichever hart OpenSBI boots on is kept.
        dict(name="dtb-virt-smp20", machine="virt", timeout=120, expect="shell",
             cmd=["qemu-system-riscv64", "-M", "virt", "-smp", "20", "-m", "256M", "-nographic", "-monitor", "none",
                  "-serial", "stdio", "-kernel", image, "-append", ""],
             must_show=[r"^platform: the device tree lists 20 harts; Zest reads 16 and leaves harts [0-9, -]+ parked$",
                        r"^platform: Zest runs on at most 8 harts; left parked: hartid \d+(, \d+){7}$",
                        r", 8 of 8 harts online$"],
             must_not_show=[r"too many cpus"],
             script=[("info\r", r"harts: 8 usable")]),
        # memory@200000000 without device_type = "memory" is not RAM (nothing answers there).
        dict(name="dtb-virt-sram-memory", machine="virt", timeout=150, expect="pass",
             cmd=_qemu("virt", 2, "256M", sram, image, "ktest=all", stdio),
             must_show=[r"^  RAM +262144 KiB in 1 range$"],
             must_not_show=[r"0x0200000000", r"claims RAM"],
             script=[]),
        # The tree claims 2 GiB, QEMU has 512 MiB: the probe says so and the kernel runs in what answered.
        dict(name="dtb-sifive_u-bigmem", machine="sifive_u", timeout=90, expect="shell",
             cmd=_qemu("sifive_u", 2, "512M", bigmem, image, "", stdio),
             must_show=[r"^platform: the device tree claims RAM 0x0080000000-0x0100000000 \(2097152 KiB\); "
                        r"0x0080000000-0x00a0000000 \(524288 KiB\) answered: using that$",
                        r"^  RAM +524288 KiB in 1 range$"],
             must_not_show=[], script=[("info\r", r"RAM +524288 KiB in 1 range")]),
        # No CLINT in the tree: OpenSBI has no IPI device, and (without Sstc) no timer either;
        # QEMU's machine timer line then stays raised. Each boot must stop with the reason in words.
        dict(name="dtb-virt-no-clint", machine="virt", timeout=60, expect="panic",
             cmd=_qemu("virt", 2, "256M", no_clint, image, "", stdio),
             must_show=[r"platform: no IPI within a second of sending one to hart \d+ .*CLINT or ACLINT"],
             must_not_show=[], script=[]),
        dict(name="dtb-virt-no-clint-nosstc", machine="virt", timeout=60, expect="panic",
             cmd=_qemu("virt", 2, "256M", no_clint, image, "", stdio)[:3] + ["-cpu", "rv64,sstc=off"]
             + _qemu("virt", 2, "256M", no_clint, image, "", stdio)[3:],
             must_show=[r"platform: the timer interrupt on hart \d+ fires at once for a deadline 100 ms away"],
             must_not_show=[], script=[]),
    ]
