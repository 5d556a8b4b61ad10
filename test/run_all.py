#!/usr/bin/env python3
"""Zest's test runner: host doctest binaries and kernel boots under QEMU.

Every kernel configuration boots build/Image with a bootarg ktest=PATTERN and
is judged by what it prints: each "ktest: PASS/FAIL name" line counts as one
test, and the boot itself counts as one more that fails on a timeout, a
panic, a missing summary line or (on virt, which has the test finisher) a
QEMU exit status that disagrees with the summary. Boots that are meant to
panic check the report instead. --gdb runs gdb-multiarch's zest commands
against a live debugdemo boot (test/gdb_check.py), one test per check. The
last line printed is "N passed, N failed".
"""
import argparse
import concurrent.futures
import os
import re
import subprocess
import sys
import threading
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

# The boots themselves and their data are in test/boots.py.
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from boots import BLKDEBUG_RULES, KERNEL_CONFIGS, Config, soak_configs  # noqa: E402


# Lock classes every passing ktest boot must have exercised (its lockcheck line).
LOCKCHECK_MIN_CLASSES = 20


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


def run_check(name, argv, tally):
    """A tree check (tools/check-*.py): one test, passed when it exits 0."""
    p = subprocess.run(argv, cwd=ROOT, capture_output=True, text=True)
    out = (p.stdout + p.stderr).strip()
    if p.returncode != 0:
        sys.stdout.write(out[-6000:] + "\n")
    tally.record(p.returncode == 0, name, out.splitlines()[-1] if out else f"exit status {p.returncode}")


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


DURATIONS = "durations.txt"  # in the log folder: "NAME SECONDS" per boot of the last run
_durations_lock = threading.Lock()


def longest_first(configs, logdir):
    """Boots in order of their last run's time, longest first, so that two
    workers finish together instead of one waiting on a long boot started last
    (a fresh tree has no times: then the order of the timeouts). The times file
    starts anew for this run."""
    path = os.path.join(logdir, DURATIONS)
    last = {}
    if os.path.exists(path):
        for line in open(path):
            name, _, secs = line.rpartition(" ")
            try:
                last[name] = float(secs)
            except ValueError:
                pass
        os.remove(path)
    return sorted(configs, key=lambda c: -last.get(c.name, c.timeout))


def judge(build, cfg, logdir, tally):
    started = time.time()
    text, code, timed_out, slow = boot(build, cfg, logdir)
    with _durations_lock:
        with open(os.path.join(logdir, DURATIONS), "a") as f:
            f.write(f"{cfg.name} {time.time() - started:.1f}\n")
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
    ap.add_argument("--gdb", action="store_true",
                    help="gdb-multiarch against the debugdemo boot (test/gdb_check.py), one test per check")
    ap.add_argument("--only", default=None, help="regex: kernel configurations to boot")
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--soak", type=int, default=None, metavar="SECONDS",
                    help="boot the long soak configurations instead (make soak)")
    args = ap.parse_args()
    build = os.path.join(ROOT, args.build) if not os.path.isabs(args.build) else args.build

    tally = Tally()
    if args.layers:
        run_layers(tally)
    if args.gdb:
        import gdb_check
        gdb_check.run(build, tally.record)
    if args.host is not None:
        run_host(build, args.host, tally)
        run_check("check/doc-paths", [sys.executable, os.path.join(ROOT, "tools/check-doc-paths.py")], tally)
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
        configs = longest_first(configs, logdir)
        with concurrent.futures.ThreadPoolExecutor(max_workers=args.jobs) as ex:
            for f in [ex.submit(judge, build, c, logdir, tally) for c in configs]:
                f.result()
    print(f"{tally.passed} passed, {tally.failed} failed", flush=True)
    sys.exit(0 if tally.failed == 0 else 1)


if __name__ == "__main__":
    main()
