#!/usr/bin/env python3
"""The HiFive boot path rehearsed on QEMU: U-Boot boots Zest from an SD-card image.

Debian's S-mode U-Boot (package u-boot-qemu) runs under QEMU's OpenSBI on virt,
as `-kernel`, the way the board's U-Boot runs under OpenSBI from u-boot.itb.
The disk image made by tools/mksdcard.sh (the `make sdcard` script) is attached
as virtio-blk; U-Boot's distro boot finds the bootable FAT partition, reads
extlinux/extlinux.conf or boot.scr, loads Image and starts it with booti. The
kernel gets bootargs ktest=all, so it runs its tests and the test finisher ends
QEMU with status 0 only if all passed. It sees the image's GPT (vda1..vda4);
the extlinux boot has the swap=mmcblk0p4 mksdcard.sh adds (no such device
here: no swap), the boot.scr one swap=vda4 (the image's swap partition).

Two images, so each route is taken on its own: one with only extlinux.conf,
one with only boot.scr (with both, distro boot prefers extlinux.conf).

For test/run_all.py:
    prepare(build_dir)        build the two images (calls tools/mksdcard.sh)
    uboot_configs(build_dir)  list of dicts:
        name, machine, cmd (full QEMU argv), timeout, expect ("pass"),
        must_show (regexes the log must match), must_not_show (must not match)
The dicts map onto run_all.Config plus a full command line; see to_config().

Run on its own:  python3 test/uboot.py [--build build] [--only REGEX]
(also runs the device-tree configurations of test/dtb_configs.py with --dtb).
"""
import argparse
import os
import re
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
UBOOT_ELF = "/usr/lib/u-boot/qemu-riscv64_smode/uboot.elf"

# The kernel sees the card image's GPT on the virtio disk (vda1..vda4).
GPT_LINE = (r"^vda: GPT, 4 partitions: vda1 spl \(1 MiB\), vda2 uboot \(4 MiB\), vda3 zest-boot \(32 MiB\), "
            r"vda4 zest-swap \(16 MiB\)$")

# Each image: (config name, tools/mksdcard.sh -m mode, -a boot arguments, regexes, anti-regexes).
# extlinux: mksdcard.sh adds swap=mmcblk0p4 (the board's SD card), which this
# virtio boot lacks: the kernel says so in one line and runs without swap.
# bootscr: swap=vda4 given, so the kernel swaps to the image's swap partition.
IMAGES = [
    ("uboot-extlinux", "extlinux", "ktest=all",
     [r"Scanning virtio 0:3", r"Found /extlinux/extlinux\.conf", r"Retrieving file: /Image",
      r"append: ktest=all swap=mmcblk0p4$", r"Moving Image from 0x84000000 to 0x80200000", r"Starting kernel \.\.\.",
      r"^bootargs: 'ktest=all swap=mmcblk0p4'", GPT_LINE,
      r"^swap: no block device 'mmcblk0p4'; no swapping: kernel stacks stay resident$"],
     [r"boot\.scr"]),
    ("uboot-bootscr", "bootscr", "ktest=all swap=vda4",
     [r"Scanning virtio 0:3", r"Found U-Boot script /boot\.scr", r"Zest boot\.scr: loading /Image from virtio 0:3",
      r"Zest boot\.scr: booti 0x84000000 - ", r"Moving Image from 0x84000000 to 0x80200000",
      r"Starting kernel \.\.\.", r"^bootargs: 'ktest=all swap=vda4'", GPT_LINE,
      r"^swap: vda4 \(Linux swap partition of vda\), 16384 KiB \(4096 pages\)$"],
     [r"extlinux", r"mmcblk0p4"]),
]


def image_path(build_dir, name):
    return os.path.join(build_dir, "uboot", name + ".img")


def prepare(build_dir):
    """Build one SD-card image per route from build_dir/Image; raises on failure."""
    if not os.path.exists(UBOOT_ELF):
        raise RuntimeError(f"{UBOOT_ELF} missing: apt-get install u-boot-qemu")
    os.makedirs(os.path.join(build_dir, "uboot"), exist_ok=True)
    for name, mode, bootargs, _, _ in IMAGES:
        subprocess.run(["sh", os.path.join(ROOT, "tools", "mksdcard.sh"),
                        "-o", image_path(build_dir, name), "-k", os.path.join(build_dir, "Image"),
                        "-a", bootargs, "-m", mode, "--swap-mb", "16"],
                       check=True, cwd=ROOT, stdout=subprocess.DEVNULL)


def uboot_configs(build_dir):
    configs = []
    for name, _, _, must_show, must_not_show in IMAGES:
        cmd = ["qemu-system-riscv64", "-M", "virt", "-smp", "2", "-m", "256M",
               "-nographic", "-monitor", "none", "-serial", "stdio",
               "-kernel", UBOOT_ELF,
               # snapshot=on: U-Boot never writes, but nothing may change the image either.
               "-drive", f"file={image_path(build_dir, name)},if=none,format=raw,id=sd,snapshot=on",
               "-device", "virtio-blk-device,drive=sd"]
        configs.append(dict(name=name, machine="virt", cmd=cmd, timeout=180, expect="pass",
                            must_show=must_show, must_not_show=must_not_show, script=[]))
    return configs


# ---- running them (stand-alone, or as a model for run_all.py) ----------------------------------

def to_config(run_all, d):
    """A run_all.Config for one dict; its .cmd is the full command line."""
    cfg = run_all.Config(d["name"], d["machine"], 0, "", "", timeout=d["timeout"],
                         expect=d.get("expect", "pass"), must_show=d.get("must_show", ()),
                         script=d.get("script", ()))
    cfg.cmd = d["cmd"]
    cfg.must_not_show = d.get("must_not_show", ())
    return cfg


def log_problems(cfg, text):
    """The regex checks run_all.judge() does not do for pass/shell boots."""
    problems = []
    for pat in cfg.must_show if cfg.expect in ("pass", "shell") else ():
        if not re.search(pat, text, re.M):
            problems.append(f"log lacks /{pat}/")
    for pat in getattr(cfg, "must_not_show", ()):
        m = re.search(pat, text, re.M)
        if m:
            problems.append(f"log shows /{pat}/: {m.group(0)!r}")
    return problems


def run(build_dir, dicts, jobs=2):
    """Boot each dict's command, judged like run_all's boots; returns the Tally."""
    import concurrent.futures
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    import run_all
    # run_all builds its command from Config fields; these configs bring their own.
    plain = run_all.qemu_command
    run_all.qemu_command = lambda build, cfg: getattr(cfg, "cmd", None) or plain(build, cfg)
    logdir = os.path.join(build_dir, "test-logs")
    os.makedirs(logdir, exist_ok=True)
    tally = run_all.Tally()
    configs = [to_config(run_all, d) for d in dicts]

    def one(cfg):
        run_all.judge(build_dir, cfg, logdir, tally)
        with open(os.path.join(logdir, cfg.name + ".log"), errors="replace") as f:
            text = f.read()
        problems = log_problems(cfg, text)
        for path, pats in getattr(cfg, "side_logs", {}).items():
            side = open(path, errors="replace").read() if os.path.exists(path) else ""
            for pat in pats:
                m = re.search(pat, side, re.M)
                if m:
                    problems.append(f"{os.path.basename(path)} shows /{pat}/: {m.group(0)!r}")
        tally.record(not problems, f"kernel/{cfg.name}/log", "; ".join(problems))

    for d, cfg in zip(dicts, configs):
        cfg.side_logs = d.get("side_logs", {})
    with concurrent.futures.ThreadPoolExecutor(max_workers=jobs) as ex:
        for f in [ex.submit(one, c) for c in configs]:
            f.result()
    return tally


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--build", default="build")
    ap.add_argument("--only", default=None, help="regex: configurations to boot")
    ap.add_argument("--dtb", action="store_true", help="also the edited-device-tree boots (test/dtb_configs.py)")
    ap.add_argument("--jobs", type=int, default=2)
    args = ap.parse_args()
    build = args.build if os.path.isabs(args.build) else os.path.join(ROOT, args.build)
    prepare(build)
    dicts = uboot_configs(build)
    if args.dtb:
        sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
        import dtb_configs
        dtb_configs.prepare(build)
        dicts += dtb_configs.dtb_configs(build)
    dicts = [d for d in dicts if not args.only or re.search(args.only, d["name"])]
    tally = run(build, dicts, args.jobs)
    print(f"{tally.passed} passed, {tally.failed} failed", flush=True)
    sys.exit(0 if tally.failed == 0 else 1)


if __name__ == "__main__":
    main()
