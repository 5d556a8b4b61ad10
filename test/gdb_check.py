#!/usr/bin/env python3
"""gdb against a live kernel: tools/gdb/zest.py on the debugdemo boot.

Boots build/Image halted (-S) with bootarg debugdemo and a swap disk, runs
gdb-multiarch in batch until kern::debug_stop, and checks what the zest
commands say (docs/debugging.md):
  - `zest threads` lists swapped-demo with its stack swapped;
  - `zest bt swapped-demo` names debugdemo_level3, _level2 and _level1 in
    that order, and reads its stack from swap with good checksums;
  - the same backtrace from a copy of the swap image with one byte flipped
    reports the bad checksum (so the check above can fail);
  - `zest bt resident-demo` prints the frames the kernel's own backtrace
    printer printed for it on the console;
  - `zest threads`, `zest vmstat`, `zest zones` and `zest stacks` print what
    the shell's ps (its thread rows), vmstat, vmstat -z and kstack printed on
    the console just before the stop, and vmstat counts the stack on swap;
  - a second boot that panics (ktest=kstack_overflow) stops in
    kern::debug_stop("panic") and `zest threads` still lists its threads.
Each check is one PASS/FAIL line. Usable alone (exit status) or from
test/run_all.py --gdb.
"""
import os
import re
import shutil
import socket
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
GDB = "gdb-multiarch"
TIMEOUT = 60  # seconds for the whole session: QEMU and gdb are killed after it


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def gdb_script(build, port, swap, bad_swap):
    elf = os.path.join(build, "zest.elf")
    return f"""set architecture riscv:rv64
set pagination off
set confirm off
file {elf}
source {os.path.join(ROOT, 'tools', 'gdb', 'zest.py')}
python
import time
for _ in range(100):
    try:
        gdb.execute("target remote 127.0.0.1:{port}")
        break
    except gdb.error:
        time.sleep(0.1)
end
break kern::debug_stop
continue
echo ==== default swapfile\\n
zest swapfile
zest swapfile {swap}
echo ==== threads\\n
zest threads
echo ==== bt swapped-demo\\n
zest bt swapped-demo
echo ==== bt resident-demo\\n
zest bt resident-demo
echo ==== vmstat\\n
zest vmstat
echo ==== stacks\\n
zest stacks
echo ==== zones\\n
zest zones
echo ==== after zones\\n
python
import shutil
shutil.copyfile("{swap}", "{bad_swap}")
end
zest swapfile {bad_swap}
python
# Flip one byte in every block the swapped stack's record names.
import re
out = gdb.execute("zest bt swapped-demo", to_string=True)
with open("{bad_swap}", "r+b") as f:
    for b in re.findall(r"swap block (\\d+) of", out):
        f.seek(int(b) * 4096 + 100)
        c = f.read(1)
        f.seek(int(b) * 4096 + 100)
        f.write(bytes([c[0] ^ 0xff]))
end
echo ==== bt swapped-demo, corrupted image\\n
zest bt swapped-demo
echo ==== end\\n
kill
"""


def sections(text):
    out, name = {}, None
    for line in text.splitlines():
        m = re.match(r"^==== (.*)$", line)
        if m:
            name = m.group(1)
            out[name] = []
        elif name:
            out[name].append(line)
    return {k: "\n".join(v) for k, v in out.items()}


def shell_output(console, cmd):
    """The lines a shell command printed between boot/main.cc's debugdemo markers."""
    m = re.search(rf"debugdemo: shell {re.escape(cmd)}\n(.*?)debugdemo: end of {re.escape(cmd)}\n",
                  console.replace("\r", ""), re.S)
    return [ln for ln in m.group(1).splitlines() if ln.strip()] if m else []


def frames(text):
    return re.findall(r"^  #\d+\s+0x[0-9a-f]+ \S+$", text, re.M)


def session(build, name, bootargs, commands, swap):
    """Boot halted with bootargs and a swap disk, run the gdb commands until
    they end; returns (gdb output, console text, seconds)."""
    logdir = os.path.join(build, "test-logs")
    port = free_port()
    console_log = os.path.join(logdir, f"gdb-{name}.console.log")
    gdb_log = os.path.join(logdir, f"gdb-{name}.gdb.log")
    script = os.path.join(logdir, f"gdb-{name}.gdb")
    with open(swap, "wb") as f:
        f.truncate(16 << 20)
    with open(script, "w") as f:
        f.write(commands(port))
    qemu = ["qemu-system-riscv64", "-M", "virt", "-smp", "2", "-m", "128M", "-nographic", "-monitor", "none",
            "-serial", f"file:{console_log}", "-kernel", os.path.join(build, "Image"), "-append", bootargs,
            "-drive", f"file={swap},if=none,format=raw,id=d0", "-device", "virtio-blk-device,drive=d0",
            "-S", "-gdb", f"tcp:127.0.0.1:{port}"]
    start = time.time()
    q = subprocess.Popen(qemu, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        g = subprocess.run([GDB, "-batch", "-nx", "-x", script], capture_output=True, text=True, timeout=TIMEOUT)
        out = g.stdout + g.stderr
    except subprocess.TimeoutExpired as e:
        out = e.stdout.decode(errors="replace") if isinstance(e.stdout, bytes) else (e.stdout or "")
        out += f"\n(gdb timed out after {TIMEOUT} s)"
    finally:
        try:
            q.wait(timeout=5)
        except subprocess.TimeoutExpired:
            q.kill()
            q.wait()
    took = time.time() - start
    with open(gdb_log, "w") as f:
        f.write(out)
    console = open(console_log, errors="replace").read() if os.path.exists(console_log) else ""
    return out, console, took


def panic_script(build, port):
    """A boot that panics (a kernel stack overflow, as virt-kstack-overflow in
    test/boots.py): gdb must stop in kern::debug_stop with why = "panic"."""
    return gdb_script(build, port, "", "").split("zest swapfile")[0] + """echo ==== why\\n
print why
echo ==== threads\\n
zest threads
echo ==== end\\n
kill
"""


def run(build, record):
    """Boot, debug, judge; record(ok, name, detail) once per check."""
    if shutil.which(GDB) is None:
        record(False, "gdb/debugdemo", f"{GDB} not found (tools/setup.sh installs it)")
        return
    logdir = os.path.join(build, "test-logs")
    os.makedirs(logdir, exist_ok=True)
    swap = os.path.join(build, "test-disk-gdb-debugdemo.img")
    bad_swap = os.path.join(build, "test-disk-gdb-debugdemo-bad.img")
    gdb_log = os.path.join(logdir, "gdb-debugdemo.gdb.log")
    console_log = os.path.join(logdir, "gdb-debugdemo.console.log")
    out, console, took = session(build, "debugdemo", "debugdemo",
                                 lambda port: gdb_script(build, port, swap, bad_swap), swap)
    s = sections(out)

    def check(ok, name, detail):
        if not ok:
            print(f"---- gdb/{name}: see {gdb_log} and {console_log}", flush=True)
        record(ok, f"gdb/{name}", detail)

    want = os.path.join(os.path.dirname(os.path.abspath(os.path.join(build, "zest.elf"))), "swap.img")
    got = s.get("default swapfile", "").strip().splitlines()
    check(bool(got) and got[0] == f"swap image: {want}", "swapfile-default", got[0] if got else "no answer")

    th = s.get("threads", "")
    m = re.search(r"^\s*\d+ swapped-demo\s.*$", th, re.M)
    check(bool(m) and " swapped " in m.group(0), "threads-lists-swapped-stack",
          m.group(0).strip() if m else "swapped-demo not in `zest threads`")

    bt = s.get("bt swapped-demo", "")
    names = [re.sub(r"\+0x[0-9a-f]+$", "", f.split()[-1]) for f in frames(bt)]
    chain = [n.rsplit("::", 1)[-1] for n in names]
    want = ["debugdemo_level3", "debugdemo_level2", "debugdemo_level1"]
    idx = [chain.index(w) if w in chain else -1 for w in want]
    check(-1 not in idx and idx == sorted(idx) and idx[2] - idx[0] == 2, "bt-swapped-chain",
          " <- ".join(chain) if chain else "no frames")
    swapped_pages = re.findall(r"swap block \d+ of \S+, checksum ok", bt)
    check(bool(swapped_pages) and "CHECKSUM BAD" not in bt and "cannot read" not in bt, "bt-swapped-from-swap",
          "a swap page's checksum disagrees with its swap record: tools/gdb/zest.py's page_checksum"
          " no longer computes kstack/checksum.h's" if "CHECKSUM BAD" in bt
          else f"{len(swapped_pages)} page(s) from swap, checksums ok" if swapped_pages
          else "no page read from swap")

    bad = s.get("bt swapped-demo, corrupted image", "")
    check("CHECKSUM BAD" in bad and "debugdemo_level3" not in bad, "bt-swapped-bad-checksum-caught",
          "the flipped byte was caught" if "CHECKSUM BAD" in bad else "a corrupt swap image went unnoticed")

    k = re.search(r"debugdemo: kernel backtrace of thread \d+ \(resident-demo\)\n(.*?)debugdemo: end of backtrace",
                  console.replace("\r", ""), re.S)
    kframes = frames(k.group(1)) if k else []
    gframes = frames(s.get("bt resident-demo", ""))
    check(bool(kframes) and kframes == gframes, "bt-resident-matches-kernel",
          f"{len(gframes)} frames alike" if kframes and kframes == gframes else
          f"kernel {kframes} vs gdb {gframes}")

    krows = [ln.split() for ln in shell_output(console, "vmstat -z")]
    grows = [ln.split() for ln in s.get("zones", "").splitlines() if ln.strip()]
    diff = [f"{a[0]}: kernel {' '.join(a[1:])} / gdb {' '.join(b[1:])}" for a, b in zip(krows, grows) if a != b]
    check(len(krows) > 1 and len(krows) == len(grows) and not diff, "zones-match-vmstat-z",
          f"{len(krows) - 1} zones alike" if krows and not diff and len(krows) == len(grows) else
          (f"{len(krows)} kernel rows, {len(grows)} gdb rows; " + "; ".join(diff[:3])))

    # The shell's own output, which boot/main.cc printed just before the stop.
    for cmd, section, name in (("ps", "threads", "threads-match-ps"), ("vmstat", "vmstat", "vmstat-matches"),
                               ("kstack", "stacks", "stacks-match-kstack")):
        want = shell_output(console, cmd)
        got = [ln for ln in s.get(section, "").splitlines() if ln.strip()]
        if cmd == "ps":  # the thread rows and the count; gdb has no run-queue or task lines
            want = want[:next((i + 1 for i, ln in enumerate(want) if re.match(r"^\d+ threads;", ln)), 0)]
        diff = [f"shell {a.strip()!r} / gdb {b.strip()!r}" for a, b in zip(want, got) if a != b]
        check(len(want) > 1 and len(want) == len(got) and not diff, name,
              f"{len(want)} lines alike" if want and not diff and len(want) == len(got) else
              f"{len(want)} shell lines, {len(got)} gdb lines; " + "; ".join(diff[:2]))
    m = re.search(r"(\d+) now swapped", s.get("vmstat", ""))
    check(bool(m) and int(m.group(1)) >= 1, "vmstat-counts-swapped", m.group(0) if m else "no paging line")
    check(took < TIMEOUT, "session-time", f"{took:.1f} s")

    # At a panic: stopped in debug_stop("panic"), the threads still readable.
    gdb_log = os.path.join(logdir, "gdb-panic.gdb.log")
    console_log = os.path.join(logdir, "gdb-panic.console.log")
    out, console, took = session(build, "panic", "ktest=kstack_overflow",
                                 lambda port: panic_script(build, port),
                                 os.path.join(build, "test-disk-gdb-panic.img"))
    s = sections(out)
    why = s.get("why", "")
    th = s.get("threads", "")
    check('"panic"' in why and "panic:" in console, "stops-at-panic",
          why.strip() or "gdb did not stop in kern::debug_stop")
    check(re.search(r"^\s*\d+ overflower\s", th, re.M) is not None, "threads-at-panic",
          "overflower listed" if "overflower" in th else "the panicking thread is not in `zest threads`")


def main():
    import argparse
    ap = argparse.ArgumentParser()
    ap.add_argument("--build", default="build")
    args = ap.parse_args()
    build = args.build if os.path.isabs(args.build) else os.path.join(ROOT, args.build)
    failed = []

    def record(ok, name, detail=""):
        print(f"{'PASS' if ok else 'FAIL'} {name}{(' ' + detail) if ok and detail else (': ' + detail) if detail else ''}",
              flush=True)
        if not ok:
            failed.append(name)
    run(build, record)
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
