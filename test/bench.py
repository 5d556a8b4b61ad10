#!/usr/bin/env python3
"""make bench: run every benchmark and write docs/benchmarks.md.

In-kernel benchmarks: boots build/Image under QEMU with bench=PATTERN and parses
"kbench: <name> <value> <unit>" lines (test/kernel/kbench.h). Host benchmarks: builds
the binaries of tools/bench.mk, counts instructions with callgrind and times with
Google Benchmark (test/bench/alloc_bench.cc). The method and the hand-written
text are in test/bench/benchmarks.md.in; this script fills in @TABLES@.

  python3 test/bench.py --build build            everything (what make bench runs)
  python3 test/bench.py --build build --quick    fewer pairs and shorter timings
  ... --no-host / --no-kernel                    one half (the other half's tables say "not run")
  ... --only kbench-swap,kbench-swap-capacity    only these kernel boots (others' tables say n/a)
"""

import argparse
import concurrent.futures
import datetime
import json
import os
import re
import subprocess
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TEMPLATE = os.path.join(ROOT, "test", "bench", "benchmarks.md.in")
OUT = os.path.join(ROOT, "docs", "benchmarks.md")

SIZES = [64, 256, 1024]
HOST_BINS = {"alloc_bench": ["freelist", "zalloc", "kmalloc_obj", "kmalloc", "glibc"],
             "alloc_bench_mi": ["mimalloc"],
             "alloc_bench_je": ["jemalloc"]}
HOST_ORDER = ["freelist", "zalloc", "kmalloc_obj", "kmalloc", "glibc", "mimalloc", "jemalloc"]

# Kernel boots: (log name, harts, icount, bench pattern, memory, swap disk in MiB or 0).
# A swap disk is a fresh sparse image, build/bench/<log name>.img, attached as
# a virtio disk (the kernel takes the first one as its swap device).
BOOTS = [
    ("kbench-alloc", 4, True, "alloc_fastpath,alloc_restart_check", "256M", 0),
    ("kbench-threads", 1, True, "thread_lifecycle,context_switch", "256M", 0),
    ("kbench-smp", 4, False, "tlb_shootdown,alloc_overhead", "256M", 0),
    ("kbench-swap", 2, False, "swap_throughput,swap_in_latency", "256M", 1024),
    ("kbench-swap-capacity", 2, False, "swap_capacity", "64M", 2048),
    ("kbench-swap-capacity-fixed", 2, False, "swap_capacity_fixed", "64M", 2048),
    ("kbench-swap-resident", 2, False, "swap_resident", "256M", 2048),
    ("kbench-kstack", 2, False, "kstack_resident", "512M", 0),
    ("kbench-kstack-fault", 1, True, "kstack_grow_fault", "256M", 0),
    ("kbench-syscall", 1, True, "syscall_getpid,syscall_enosys,ipc_call_reply", "128M", 0),
]


def log(msg):
    print(f"bench: {msg}", flush=True)


def sh(cmd, **kw):
    return subprocess.run(cmd, shell=isinstance(cmd, str), capture_output=True, text=True, **kw)


# ---- kernel ------------------------------------------------------------------

def boot(build, name, harts, icount, pattern, mem="256M", disk_mb=0, timeout=900):
    image = os.path.join(build, "Image")
    cmd = ["qemu-system-riscv64", "-M", "virt", "-smp", str(harts), "-m", mem, "-nographic",
           "-monitor", "none", "-serial", "stdio", "-kernel", image, "-append", f"bench={pattern}"]
    if icount:
        cmd[1:1] = ["-icount", "shift=0"]
    disk = ""
    if disk_mb:
        os.makedirs(os.path.join(build, "bench"), exist_ok=True)
        img = os.path.join(build, "bench", name + ".img")
        if os.path.exists(img):
            os.unlink(img)
        with open(img, "wb") as f:  # sparse: nothing is written
            f.truncate(disk_mb << 20)
        cmd += ["-drive", f"file={img},if=none,format=raw,id=d0", "-device", "virtio-blk-device,drive=d0"]
        disk = f" swap disk {disk_mb} MiB (sparse)"
    log(f"boot {name}: SMP={harts} MEM={mem}{' -icount shift=0' if icount else ''}{disk} bench={pattern}")
    try:
        p = subprocess.run(cmd, capture_output=True, timeout=timeout, stdin=subprocess.DEVNULL)
        out = p.stdout.decode("utf-8", "replace")
        status = p.returncode
    except subprocess.TimeoutExpired as e:
        out = (e.stdout or b"").decode("utf-8", "replace")
        status = "timeout"
    os.makedirs(os.path.join(build, "bench"), exist_ok=True)
    with open(os.path.join(build, "bench", name + ".log"), "w") as f:
        f.write(out)
    values, infos, errors = {}, {}, []
    for line in out.splitlines():
        m = re.match(r"kbench: (\S+) (.*)$", line.strip())
        if not m:
            continue
        key, rest = m.groups()
        if key == "info":
            k, _, v = rest.partition(" ")
            infos[k] = v
        elif key == "error":
            errors.append(rest)
        elif key not in ("begin", "end", "done"):
            parts = rest.split(" ", 1)
            try:
                values[key] = (float(parts[0]), parts[1] if len(parts) > 1 else "")
            except ValueError:
                errors.append(line)
    if "kbench: done" not in out:
        errors.append(f"boot {name} did not finish (status {status}); log in build/bench/{name}.log")
    return values, infos, errors


def run_kernel(build, only=None):
    values, infos, errors = {}, {}, []
    for name, harts, icount, pattern, mem, disk_mb in BOOTS:
        if only and name not in only:
            continue
        # The uncapped capacity runs fill 64 MiB and 2 GiB of swap with about
        # 100,000 threads and bring every stack back to reap them: with fixed
        # 16 KiB stacks that took longer than the 900 s other boots get.
        v, i, e = boot(build, name, harts, icount, pattern, mem, disk_mb,
                       timeout=2400 if name.startswith("kbench-swap-capacity") else 900)
        values.update(v)
        infos.update(i)
        errors += e
    return {"values": values, "infos": infos, "errors": errors}


# ---- host ----------------------------------------------------------------------

def build_host(build):
    makefile = open(os.path.join(ROOT, "Makefile")).read()
    if "tools/bench.mk" in makefile:
        cmd = ["make", "-C", ROOT, f"BUILD={build}", "bench-host"]
    else:
        cmd = ["make", "-C", ROOT, "-f", "Makefile", "-f", "tools/bench.mk", f"BUILD={build}", "bench-host"]
    log("building host benchmarks")
    p = sh(cmd)
    if p.returncode != 0:
        sys.stderr.write(p.stdout + p.stderr)
        raise SystemExit("bench: host benchmarks did not build")


def callgrind(binary, alloc, size, pairs, threads):
    with tempfile.NamedTemporaryFile(prefix="cg.", dir="/tmp", delete=False) as f:
        out = f.name
    try:
        p = sh(["valgrind", "--tool=callgrind", "--collect-atstart=no", "--toggle-collect=*measured_churn*",
                f"--callgrind-out-file={out}", binary, "--instr", alloc, str(size), str(pairs), str(threads)])
        if p.returncode != 0:
            raise RuntimeError(f"{binary} --instr {alloc} {size}: {p.stderr[-500:]}")
        for line in open(out):
            if line.startswith("totals:"):
                return int(line.split()[1])
        raise RuntimeError(f"no totals in callgrind output for {alloc} {size}")
    finally:
        os.unlink(out)


def run_host(build, quick):
    build_host(build)
    bdir = os.path.join(build, "bench")
    pairs = 50000 if quick else 200000
    jobs = []
    for b, allocs in HOST_BINS.items():
        for a in ["noop"] + allocs:
            for s in SIZES:
                for t in (1, 2):
                    jobs.append((b, a, s, t))
    log(f"callgrind: {len(jobs)} runs of {pairs} pairs")
    totals = {}
    with concurrent.futures.ThreadPoolExecutor(max_workers=max(1, min(4, os.cpu_count() or 1))) as ex:
        futs = {ex.submit(callgrind, os.path.join(bdir, b), a, s, pairs, t): (b, a, s, t) for b, a, s, t in jobs}
        for f in concurrent.futures.as_completed(futs):
            totals[futs[f]] = f.result()
    instr = {}
    for b, allocs in HOST_BINS.items():
        for a in allocs:
            for s in SIZES:
                instr[f"{a}/{s}"] = (totals[(b, a, s, 1)] - totals[(b, "noop", s, 1)]) / pairs
                instr[f"{a}/{s}/2"] = (totals[(b, a, s, 2)] - totals[(b, "noop", s, 2)]) / (2 * pairs)
    noop = {s: totals[("alloc_bench", "noop", s, 1)] / pairs for s in SIZES}

    load_before = open("/proc/loadavg").read().split()[0] if os.path.exists("/proc/loadavg") else "?"
    min_time = "0.1" if quick else "0.3"
    reps = 1 if quick else 3
    times = {}
    for b in HOST_BINS:
        log(f"google benchmark: {b}")
        p = sh([os.path.join(bdir, b), "--benchmark_format=json", f"--benchmark_min_time={min_time}",
                f"--benchmark_repetitions={reps}", "--benchmark_report_aggregates_only=true"])
        if p.returncode != 0:
            raise SystemExit(f"bench: {b} failed: {p.stderr[-500:]}")
        data = json.loads(p.stdout)
        for bm in data["benchmarks"]:
            # churn/<alloc>/<size>/real_time/threads:<n>
            m = re.match(r"churn/([^/]+)/(\d+)/real_time/threads:(\d+)(_median)?$", bm["name"])
            if not m or "items_per_second" not in bm or (reps > 1 and not m.group(4)):
                continue
            a, s, t = m.group(1), int(m.group(2)), int(m.group(3))
            times[f"{a}/{s}/{t}"] = t * 1e9 / bm["items_per_second"]  # ns per pair per thread
    return {"pairs": pairs, "instr": instr, "noop_loop": noop, "times_ns": times, "repetitions": reps,
            "min_time": min_time, "loadavg_before_timing": load_before}


# ---- the document --------------------------------------------------------------

def machine():
    info = {}
    info["date"] = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    info["nproc"] = sh("nproc").stdout.strip()
    model = "unknown"
    try:
        for line in open("/proc/cpuinfo"):
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    info["cpu"] = model
    info["qemu"] = sh("qemu-system-riscv64 --version").stdout.splitlines()[0] if sh("which qemu-system-riscv64").returncode == 0 else "?"
    info["kcxx"] = (sh("riscv64-linux-gnu-g++ --version").stdout.splitlines() or ["?"])[0]
    info["cxx"] = (sh("g++ --version").stdout.splitlines() or ["?"])[0]
    info["valgrind"] = sh("valgrind --version").stdout.strip()
    info["commit"] = sh(["git", "-C", ROOT, "describe", "--always", "--dirty"]).stdout.strip()
    info["kernel"] = os.uname().release
    return info


def met(ok):
    return "met" if ok else "**not met**"


def fmt(x, digits=1):
    return "n/a" if x is None else f"{x:,.{digits}f}"


def tables(k, h, m):
    out = []
    kv = (k or {}).get("values", {})
    ki = (k or {}).get("infos", {})

    def kval(name):
        return kv[name][0] if name in kv else None

    out.append("## Machine\n")
    out.append("| | |\n|---|---|")
    out.append(f"| date | {m['date']} |")
    out.append(f"| commit | `{m['commit']}` |")
    out.append(f"| host CPU | {m['cpu']} |")
    out.append(f"| nproc | {m['nproc']} |")
    out.append(f"| host kernel | {m['kernel']} |")
    out.append(f"| QEMU | {m['qemu']} |")
    out.append(f"| kernel compiler | {m['kcxx']} |")
    out.append(f"| host compiler | {m['cxx']} |")
    out.append(f"| valgrind | {m['valgrind']} |")
    out.append("")

    if k is None:
        out.append("## In-kernel figures\n\nNot run (`--no-kernel`).\n")
    else:
        if k["errors"]:
            out.append("**Errors in this run:**\n")
            for e in k["errors"]:
                out.append(f"- {e}")
            out.append("")
        out.append("## Allocator fast path in the kernel\n")
        out.append(f"{ki.get('alloc_pairs', '')}; instructions per alloc+free pair, empty loop "
                   f"({fmt(kval('alloc_loop_empty'), 2)} per pair) subtracted. Targets: at most 18 for the "
                   "zones, 40 for kmalloc(64) (the fast paths: zalloc/hart_cache.h, zalloc/kmalloc.h).\n")
        out.append("| allocator | instructions per pair | target | |\n|---|---:|---:|---|")
        for label, key, target in [("zalloc `Zone` (64 B)", "alloc_zalloc_pair", 18),
                                   ("kmalloc_obj `ObjZone` (64 B)", "alloc_kmalloc_obj_pair", 18),
                                   ("`kmalloc(64)`", "alloc_kmalloc64_pair", 40),
                                   ("bare free list, inlined in the loop (the floor)", "alloc_freelist_inline_pair", None),
                                   ("bare free list, out of line", "alloc_freelist_pair", None),
                                   ("call floor: two no-op out-of-line calls", "alloc_call_floor", None)]:
            v = kval(key)
            if target is None:
                out.append(f"| {label} | {fmt(v, 2)} | | reference |")
            else:
                out.append(f"| {label} | {fmt(v, 2)} | ≤ {target} | {met(v is not None and v <= target)} |")
        out.append("")
        out.append("The fast paths are restartable sequences (kern/seam/hart_list.h): no interrupt toggle; "
                   "instead every interrupt taken in kernel mode checks whether it stopped one "
                   f"(kern/arch/riscv/restart.cc). {ki.get('alloc_restart', '')}.\n")
        out.append("| restart check per interrupt taken in kernel mode | instructions |\n|---|---:|")
        out.append(f"| pc in a 64-byte block of kernel text with no sequence (one bit of the filter: nearly "
                   f"every interrupt) | {fmt(kval('alloc_restart_check_clear'), 1)} |")
        out.append(f"| pc next to a sequence, in its block (binary search of the table) | "
                   f"{fmt(kval('alloc_restart_check_between'), 1)} |")
        out.append(f"| pc inside a sequence (sent back to its start) | {fmt(kval('alloc_restart_check_inside'), 1)} |")
        out.append("")
        fl = kval("alloc_freelist_inline_pair")
        for label, key in [("zalloc", "alloc_zalloc_pair"), ("kmalloc_obj", "alloc_kmalloc_obj_pair")]:
            v = kval(key)
            if v is not None and fl:
                out.append(f"- {label} within twice the bare free list, in the kernel: {met(v <= 2 * fl)} "
                           f"({v / fl:.2f}x the inlined free list; the target is stated for the host run, below)")
        out.append("")

        out.append("## Threads and context switches\n")
        out.append(f"Instructions, SMP=1. {ki.get('thread_lifecycle', '')}. {ki.get('context_switch', '')}. "
                   "No target is set for these.\n")
        out.append("| operation | instructions |\n|---|---:|")
        out.append(f"| create+start+exit+reap a thread, stack from the hart's cache | {fmt(kval('thread_lifecycle_cached'), 0)} |")
        out.append(f"| create+start+exit+reap a thread, stack built (no cached stack) | {fmt(kval('thread_lifecycle_uncached'), 0)} |")
        out.append(f"| context switch (two threads yielding on one hart) | {fmt(kval('context_switch'), 0)} |")
        out.append(f"| yield round trip (two switches) | {fmt(kval('context_switch_round_trip'), 0)} |")
        out.append("")

        out.append("## System calls\n")
        out.append("Instructions, SMP=1, measured from user mode (`user/progs/nullsys.cc`): 15 samples of 1000 "
                   "calls, the median, minus the same loop with a `nop` for the `ecall`. Entry saves all 31 "
                   "registers and the trap CSRs in the frame at the top of the kernel stack and exit restores "
                   "them; seL4's fast path is the reference for the IPC figure.\n")
        out.append("| operation | instructions |\n|---|---:|")
        out.append(f"| `getpid()`: trap from U-mode, dispatch, handler, back | {fmt(kval('syscall_getpid'), 0)} |")
        out.append(f"| unknown number (ENOSYS): trap, bounds check, back | {fmt(kval('syscall_enosys'), 0)} |")
        out.append(f"| IPC call+reply round trip between two tasks, register words only "
                   f"(`user/progs/ipcbench.cc`) | {fmt(kval('ipc_call_reply'), 0)} |")
        out.append("")
        out.append("The IPC round trip is two system calls, the client's `call` and the server's "
                   "`reply_receive` (its answer and its next receive in one), two address-space switches and "
                   "two direct switches: the fast path (docs/user.md) hands the hart straight to the partner "
                   "waiting on the same hart, without a wakeup or a trip through the run queue. Before the fast "
                   "path, through the general path (a separate `reply` and `receive`, the caller queued and "
                   "woken, the record found by a list walk), it took 2,852 instructions. Each half is still a "
                   "full trap with every register saved, a dispatch and the argument checks; seL4's fast "
                   "path, a few hundred cycles for a call or a reply-and-receive on comparable cores, is the "
                   "reference.\n")

        out.append("## TLB shootdown\n")
        out.append(f"Time, not instructions (see Method). {ki.get('tlb_shootdown', '')}. QEMU multi-threaded TCG on "
                   "this host: indicative only. No target is set.\n")
        out.append("| operation | median | mean |\n|---|---:|---:|")
        sd_med, sd_mean = kval("tlb_shootdown_1page_median_ns"), kval("tlb_shootdown_1page_mean_ns")
        out.append(f"| `vm::tlb::shootdown(va, 1)`, SMP=4 | {fmt(sd_med and sd_med / 1000, 1)} µs | "
                   f"{fmt(sd_mean and sd_mean / 1000, 1)} µs |")
        out.append("")

        out.append("## Memory overhead per slab\n")
        out.append("Share of the slab (kmalloc_obj: 32 KiB) or page (zalloc: 4 KiB) that holds no object. "
                   "Target: under 3% at 256 B (kmalloc_obj).\n")
        out.append("| object size | kmalloc_obj slab | objects/slab | zalloc page | items/page | target | |")
        out.append("|---:|---:|---:|---:|---:|---|---|")
        for s in [64, 256, 4096]:
            sl, so = kval(f"overhead_slab_{s}"), kval(f"overhead_slab_{s}_objs")
            zl, zo = kval(f"overhead_zone_{s}"), kval(f"overhead_zone_{s}_objs")
            tgt = "< 3% (slab)" if s == 256 else ""
            verdict = met(sl is not None and sl < 3) if s == 256 else ""
            out.append(f"| {s} B | {fmt(sl, 2)}% | {fmt(so, 0)} | "
                       f"{fmt(zl, 2) + '%' if zl is not None else 'does not fit'} | {fmt(zo, 0) if zo is not None else '0'} | {tgt} | {verdict} |")
        kb, kp = kval("overhead_kmalloc_4096_bytes"), kval("overhead_kmalloc_4096")
        out.append("")
        out.append(f"What Zest does for 4 KiB: `kmalloc(4096)` is above the largest size class (2048), so it is a page "
                   f"run with a 64-byte header in front of the object: measured {fmt(kb, 0)} bytes of pages per "
                   f"4 KiB object, an overhead of {fmt(kp, 1)}% (the 4,160 bytes round up to two pages). A "
                   f"kmalloc_obj zone of 4 KiB objects (the largest a slab takes) holds 7 per 32 KiB slab "
                   f"({fmt(kval('overhead_slab_4096'), 1)}%); zalloc items must fit in a page minus its 32-byte "
                   "trailer, so 4 KiB items do not fit.\n")

        out.append("## Swapping kernel stacks\n")
        out.append("Wall time (see Method), QEMU virt with SMP=2 and a virtio disk backed by a sparse file on the "
                   "host: indicative of Zest's overhead next to the device, not of a real disk.\n")
        out.append(f"**Swap-out throughput** (256 MiB). {ki.get('swap_throughput', 'n/a')}; "
                   f"{ki.get('swap_throughput_runs', '')}. {ki.get('swap_throughput_raw', '')}. "
                   f"{ki.get('swap_throughput_parts', '')}.\n")
        out.append("| operation | MB/s | target | |\n|---|---:|---|---|")
        raw_w, sw_out, sw_ratio = kval("swap_raw_write"), kval("swap_out"), kval("swap_out_ratio")
        out.append(f"| raw sequential write of 16 MiB, 128 KiB requests, 4 in flight (swap-out's depth) | {fmt(raw_w, 1)} | | reference |")
        out.append(f"| `kstack::swap::swap_out` of 1,024 sleeping threads' stacks (16 MiB, 4 pages each) | {fmt(sw_out, 1)} | | |")
        out.append(f"| swap-out / raw write | {fmt(sw_ratio, 2)} | ≥ 0.8 | "
                   f"{met(sw_ratio is not None and sw_ratio >= 0.8)} |")
        out.append("")
        out.append("Where a 16 MiB swap-out's time goes (`kstack::swap::timing()`, mean of the runs). The raw "
                   "writes need only the submits and the waits; everything else is the price of swapping "
                   "stacks rather than writing a buffer, and it runs on the same hart as the submits:\n")
        out.append("| phase of `swap_out` | ms |\n|---|---:|")
        for key, what in [("scan", "choosing candidates: the harts' candidate lists and selection"),
                          ("prepare", "claims, metadata, swap space, deepest-use scan and page checksums"),
                          ("submit", "submitting the 128 KiB writes (building each request, the device notify)"),
                          ("io_wait", "waiting for writes (depth 4)"),
                          ("unmap", "settling wakeups, unmapping the pages"),
                          ("shootdown", "one TLB shootdown per wave of 128 stacks"),
                          ("free", "freeing the pages, marking the stacks Swapped"),
                          ("other", "the rest (loop, calls)"),
                          ("total", "total")]:
            out.append(f"| {what} | {fmt(kval('swap_out_ms_' + key), 2)} |")
        out.append("")
        out.append(f"**Swap-in latency** (same boot). {ki.get('swap_in_latency', 'n/a')}; "
                   f"{ki.get('swap_in_latency_raw', '')}; "
                   f"{ki.get('swap_in_latency_counts', '')}. {ki.get('swap_in_latency_parts', '')}.\n")
        out.append("| operation | µs | target | |\n|---|---:|---|---|")
        rr, sil, sir, wr = kval("swap_raw_read_16k"), kval("swap_in_latency"), kval("swap_in_ratio"), kval("wake_resident_latency")
        out.append(f"| raw read of 16 KiB (`BlockDevice::read`, synchronous, by the sleeper between its wakeups) | {fmt(rr, 2)} | | reference |")
        out.append(f"| `sched::wake` of a thread whose stack is on swap, until it runs | {fmt(sil, 2)} | | |")
        out.append(f"| swap-in / raw read | {fmt(sir, 2)} | ≤ 1.5 | {met(sir is not None and sir <= 1.5)} |")
        out.append(f"| `sched::wake` of the same thread, stack resident, until it runs | {fmt(wr, 2)} | | baseline |")
        out.append("")
        out.append("Where a wake-time swap-in's time goes (`kstack::swap::timing()`, the median of each phase "
                   f"over the swap-ins read at the wakeup: {ki.get('swap_in_phases', '')}; the sleeper then "
                   "still has to be switched to on its own hart):\n")
        out.append("| phase | µs |\n|---|---:|")
        for key, what in [("start", "wakeup to read submitted: claim, pool pages, request"),
                          ("device", "read submitted to its completion handler (device notify, device, interrupt)"),
                          ("verify", "checksums of the pages read"),
                          ("install", "map the pages, free swap and metadata, queue the thread, IPI to its hart")]:
            out.append(f"| {what} | {fmt(kval('swap_in_us_' + key), 2)} |")
        out.append(f"| for comparison: one `ipi::send` (an SBI call), as the sending hart sees it | "
                   f"{fmt(kval('ipi_send_us'), 2)} |")
        out.append("")
        out.append("**Capacity** (64 MiB): blocked threads (each in a timed sleep) created until memory runs "
                   "out, without swapping (idle threshold 1 h: creation stops below free_min) and with it (idle "
                   "threshold 50 ms; a failed creation waits 20 ms for the pagedaemon; stops after 2 s of "
                   "failures, or when every slot of the stack region is taken). Two boots: with fixed 16 KiB stacks "
                   "and with stacks that grow on demand (the default). "
                   f"{ki.get('capacity_fixed', '')}. {ki.get('capacity', '')}.\n")
        out.append("| blocked threads in MEM=64M | fixed 16 KiB stacks | growing stacks | target | |\n|---|---:|---:|---|---|")
        fn, fs, fr = kval("capacity_fixed_no_swap"), kval("capacity_fixed_swap"), kval("capacity_fixed_ratio")
        cn, cs, cr = kval("capacity_no_swap"), kval("capacity_swap"), kval("capacity_ratio")
        out.append(f"| without swapping | {fmt(fn, 0)} | {fmt(cn, 0)} | | |")
        out.append(f"| with swapping | {fmt(fs, 0)} | {fmt(cs, 0)} | | |")
        out.append(f"| with / without | {fmt(fr, 2)} | {fmt(cr, 2)} | ≥ 10 (fixed stacks) | "
                   f"{met(fr is not None and fr >= 10)} |")
        both = cs / fn if cs is not None and fn else None
        out.append(f"| growing stacks with swapping / fixed stacks without | | {fmt(both, 2)} | | |")
        bps = kval("capacity_bytes_per_swapped_thread")
        out.append(f"| resident bytes per thread with its stack on swap (free pages before / after, "
                   f"own boot, 256 MiB) | | {fmt(bps, 0)} | ≤ 512 | {met(bps is not None and bps <= 512)} |")
        out.append("")
        out.append(f"{ki.get('capacity_fixed_no_swap', '')}; {ki.get('capacity_fixed_swap', '')}. "
                   f"{ki.get('capacity_no_swap', '')}; {ki.get('capacity_swap', '')}.\n")

        out.append("## Kernel stacks that grow on demand\n")
        out.append(f"{ki.get('kstack_resident', 'n/a')}. The same workload twice in one boot: new stacks "
                   "fully mapped (fixed 16 KiB, as before growth), then mapping one page and growing on demand.\n")
        out.append("| stacks | resident pages per thread | KiB | target | |\n|---|---:|---:|---|---|")
        kf, kg, ks = kval("kstack_fixed_pages"), kval("kstack_grown_pages"), kval("kstack_saving")
        out.append(f"| fixed 16 KiB | {fmt(kf, 2)} | {fmt(kf * 4 if kf is not None else None, 1)} | | reference |")
        out.append(f"| growing on demand | {fmt(kg, 2)} | {fmt(kg * 4 if kg is not None else None, 1)} | | |")
        out.append(f"| saving | {fmt(ks, 1)}% | | ≥ 75% (Linux measured 72.8-74.9%) | "
                   f"{met(ks is not None and ks >= 75)} |")
        out.append("")
        out.append(f"**One growth fault** (SMP=1, `-icount shift=0`): {ki.get('kstack_grow_fault', 'n/a')}: "
                   f"{fmt(kval('kstack_grow_fault'), 0)} instructions.\n")

    if h is None:
        out.append("## Host allocators\n\nNot run (`--no-host`).\n")
        return "\n".join(out)

    instr, times = h["instr"], h["times_ns"]
    out.append("## Host allocators: instructions per pair\n")
    out.append(f"callgrind, {h['pairs']:,} pairs per thread after warm-up, window of 512; the no-op loop "
               f"({', '.join(fmt(h['noop_loop'][s], 1) + ' at ' + str(s) + ' B' for s in SIZES)} per pair) subtracted. "
               "Target: zalloc and kmalloc_obj within twice the bare free list.\n")
    out.append("| allocator | " + " | ".join(f"{s} B" for s in SIZES) + " | " +
               " | ".join(f"{s} B, 2 threads" for s in SIZES) + " |")
    out.append("|---|" + "---:|" * (2 * len(SIZES)))
    for a in HOST_ORDER:
        out.append(f"| {a} | " + " | ".join(fmt(instr.get(f"{a}/{s}"), 1) for s in SIZES) + " | " +
                   " | ".join(fmt(instr.get(f"{a}/{s}/2"), 1) for s in SIZES) + " |")
    out.append("")
    out.append("2 threads: each thread runs its own churn (for zalloc, as its own hart); valgrind runs the threads "
               "one at a time, so these are the instructions of the per-hart paths with two harts, not the cost "
               "of contention (the times below show that).\n")
    out.append("| target | " + " | ".join(f"{s} B" for s in SIZES) + " |")
    out.append("|---|" + "---|" * len(SIZES))
    for a in ["zalloc", "kmalloc_obj"]:
        cells = []
        for s in SIZES:
            v, fl = instr.get(f"{a}/{s}"), instr.get(f"freelist/{s}")
            if v is None or fl is None:
                cells.append("n/a")
            else:
                cells.append(f"{met(v <= 2 * fl)} ({v / fl:.1f}x free list)")
        out.append(f"| {a} ≤ 2 × free list | " + " | ".join(cells) + " |")
    out.append("")

    out.append("## Host allocators: time per pair\n")
    out.append(f"Google Benchmark, wall-clock, nanoseconds per alloc+free pair per thread (each thread runs its own "
               f"churn), median of {h.get('repetitions', 1)} runs of at least {h.get('min_time', '?')} s. "
               f"Host load average (1 min) when the timings started: {h.get('loadavg_before_timing', '?')} on "
               f"{m['nproc']} CPUs; with a load near or above the CPU count the times, the 2-thread ones above "
               "all, are noisy (instruction counts are not affected). "
               "Target: zalloc and kmalloc_obj faster than glibc, mimalloc and jemalloc.\n")
    for t in [1, 2]:
        out.append(f"**{t} thread{'s' if t > 1 else ''}**\n")
        out.append("| allocator | " + " | ".join(f"{s} B" for s in SIZES) + " |")
        out.append("|---|" + "---:|" * len(SIZES))
        for a in HOST_ORDER:
            out.append(f"| {a} | " + " | ".join(fmt(times.get(f"{a}/{s}/{t}"), 2) for s in SIZES) + " |")
        out.append("")
        for a in ["zalloc", "kmalloc_obj"]:
            cells = []
            for s in SIZES:
                v = times.get(f"{a}/{s}/{t}")
                others = [times.get(f"{o}/{s}/{t}") for o in ["glibc", "mimalloc", "jemalloc"]]
                if v is None or None in others:
                    cells.append("n/a")
                    continue
                best = min(others)
                cells.append(f"{met(v < best)} ({v / best:.2f}x the fastest)")
            out.append(f"- {a} faster than all three: " + "; ".join(f"{s} B {c}" for s, c in zip(SIZES, cells)))
        out.append("")
    return "\n".join(out)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--build", default="build")
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--no-host", action="store_true")
    ap.add_argument("--no-kernel", action="store_true")
    ap.add_argument("--only", default="", help="comma list of kernel boot names (see BOOTS)")
    ap.add_argument("--out", default=OUT)
    a = ap.parse_args()
    build = a.build if os.path.isabs(a.build) else os.path.join(ROOT, a.build)

    only = [n for n in a.only.split(",") if n]
    unknown = [n for n in only if n not in [b[0] for b in BOOTS]]
    if unknown:
        raise SystemExit(f"bench: unknown boot {', '.join(unknown)}; boots: {', '.join(b[0] for b in BOOTS)}")
    k = None if a.no_kernel else run_kernel(build, only)
    h = None if a.no_host else run_host(build, a.quick)
    m = machine()
    os.makedirs(os.path.join(build, "bench"), exist_ok=True)
    with open(os.path.join(build, "bench", "results.json"), "w") as f:
        json.dump({"kernel": k, "host": h, "machine": m}, f, indent=1)
    doc = open(TEMPLATE).read().replace("@TABLES@", tables(k, h, m))
    with open(a.out, "w") as f:
        f.write(doc)
    log(f"wrote {os.path.relpath(a.out, ROOT)}")
    if k and k["errors"]:
        for e in k["errors"]:
            log(f"error: {e}")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
