#!/usr/bin/env python3
"""make stress-plot: boot Zest, run `stress ... samples`, draw memory over time.

Boots build/Image on QEMU virt with a swap disk, types the stress command at
the shell with the `samples` argument, collects the sample lines the kernel
prints every 100 ms (kern/stress/samples.h; the format is in
docs/debugging.md) and draws them with matplotlib into OUT.png and OUT.svg.
The raw lines go to OUT.samples.

Usage: stress-plot.py [--build build] [--out build/stress] [--stress "64 8 3"]
                      [--mem 128M] [--smp 2] [--timeout 120]
"""
import argparse
import os
import re
import subprocess
import sys
import threading
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SAMPLE = re.compile(r"^sample (.*)$")


def parse(line):
    """One sample line as a dict of ints (fail= becomes fail_n, fail_s, fail_i)."""
    m = SAMPLE.match(line.strip())
    if not m:
        return None
    d = {}
    for kv in m.group(1).split():
        k, _, v = kv.partition("=")
        if k == "fail":
            d["fail_n"], d["fail_s"], d["fail_i"] = (int(x) for x in v.split(","))
        else:
            d[k] = int(v)
    return d


def run(args):
    swap = os.path.join(args.build, "stress-plot-swap.img")
    with open(swap, "wb") as f:
        f.truncate(64 << 20)
    cmd = ["qemu-system-riscv64", "-M", "virt", "-smp", str(args.smp), "-m", args.mem, "-nographic",
           "-monitor", "none", "-serial", "stdio", "-kernel", os.path.join(args.build, "Image"),
           "-append", args.bootargs,
           "-drive", f"file={swap},if=none,format=raw,id=d0", "-device", "virtio-blk-device,drive=d0"]
    p = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    lines, done = [], threading.Event()
    prompt, finished = threading.Event(), threading.Event()

    def reader():
        for raw in iter(p.stdout.readline, b""):
            line = raw.decode("utf-8", "replace").replace("\r", "")
            lines.append(line)
            if "Type 'help' for commands" in line:
                prompt.set()
            if re.match(r"^stress: (paging:|no swap device|FAIL|Invalid|NoMemory)", line):
                finished.set()
        done.set()

    threading.Thread(target=reader, daemon=True).start()
    deadline = time.time() + args.timeout
    ok = prompt.wait(timeout=max(1, deadline - time.time()))
    if ok:
        time.sleep(0.2)
        p.stdin.write(f"stress {args.stress} samples\r".encode())
        p.stdin.flush()
        ok = finished.wait(timeout=max(1, deadline - time.time()))
    p.kill()
    p.wait()
    done.wait(timeout=5)
    return ok, lines


def plot(samples, out, title):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    t = [s["t"] / 1000 for s in samples]
    col = lambda k: [s[k] for s in samples]  # noqa: E731
    fig, ax = plt.subplots(4, 1, figsize=(10, 11), sharex=True)
    ax[0].plot(t, col("free"), color="tab:blue")
    ax[0].set_ylabel("free pages")
    ax[0].set_title(title)
    ax[1].plot(t, col("swapped"), label="stacks on swap now", color="tab:red")
    ax[1].plot(t, col("out"), label="swapped out (total)", color="tab:orange", linestyle="--")
    ax[1].plot(t, col("in"), label="swapped in (total)", color="tab:green", linestyle="--")
    ax[1].set_ylabel("kernel stacks")
    ax[1].legend(loc="upper left", fontsize="small")
    ax[2].plot(t, col("given"), label="stack pages given back", color="tab:purple")
    ax[2].plot(t, col("passes"), label="pagedaemon + emergency passes", color="tab:brown")
    ax[2].plot(t, col("fail_n"), label="normal allocation failures", color="tab:gray")
    ax[2].plot(t, col("fail_s"), label="system allocation failures", color="black", linestyle=":")
    ax[2].plot(t, col("fail_i"), label="interrupt allocation failures", color="tab:red", linestyle=":")
    ax[2].set_ylabel("count (total)")
    ax[2].set_yscale("symlog")
    ax[2].legend(loc="upper left", fontsize="small")
    woke = [s for s in samples if s["p99"] or s["p50"]]
    tw = [s["t"] / 1000 for s in woke]
    for k, c in (("p50", "tab:green"), ("p90", "tab:orange"), ("p99", "tab:red")):
        ax[3].plot(tw, [s[k] / 1000 for s in woke], marker=".", linestyle="none", color=c, label=k)
    ax[3].set_ylabel("wake latency, swapped\nsleepers (ms)")
    ax[3].set_xlabel("seconds since stress started")
    ax[3].legend(loc="upper left", fontsize="small")
    for a in ax:
        a.grid(True, alpha=0.3)
    fig.tight_layout()
    fig.savefig(out + ".png", dpi=80)
    fig.savefig(out + ".svg")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--build", default=os.path.join(ROOT, "build"))
    ap.add_argument("--out", default=None)
    ap.add_argument("--stress", default="64 8 3")
    ap.add_argument("--mem", default="128M")
    ap.add_argument("--smp", type=int, default=2)
    ap.add_argument("--bootargs", default="swap_idle_ms=1000")
    ap.add_argument("--timeout", type=int, default=120)
    args = ap.parse_args()
    out = args.out or os.path.join(args.build, "stress")
    ok, lines = run(args)
    with open(out + ".samples", "w") as f:
        f.writelines(lines)
    samples = [s for s in (parse(ln) for ln in lines) if s]
    if not ok or not samples:
        sys.stdout.write("".join(lines[-30:]))
        print(f"stress-plot: {'no sample lines' if ok else 'the run did not finish'} (log: {out}.samples)")
        return 1
    summary = next((ln.strip() for ln in lines if ln.startswith("stress: PASS") or ln.startswith("stress: FAIL")), "")
    plot(samples, out, f"stress {args.stress} on {args.smp} harts, {args.mem} ({args.bootargs})")
    print(summary)
    print(f"stress-plot: {len(samples)} samples over {samples[-1]['t'] / 1000:.1f} s -> {out}.png, {out}.svg")
    return 0


if __name__ == "__main__":
    sys.exit(main())
