#!/usr/bin/env python3
"""Check that every file path the comments and docs name exists.

Scans every tracked source, build and documentation file for path-like words
under the tree's top folders (kern/sync/wait.h, vm/README.md, test/host/vm.mk,
kern/task: a folder, lib/elf: a module whose .h or .cc exists) and, in
comments and docs, for bare file names (trap.cc, hart_cache.h) that name no
file anywhere in the tree. Files move (the tree was re-laid out by concern);
a comment that still points at the old place sends a reader nowhere.

Prints each miss as FILE:LINE: PATH and exits 1 if there was one. Run from
anywhere: it checks the repository it lives in. test/run_all.py runs it with
the host tests.
"""
import os
import re
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TOP = r"(?:boot|kern|vm|zalloc|kstack|dev|lib|user|test|tools|docs)"
PATH = re.compile(r"(?<![\w./$-])(" + TOP + r"/[\w./*-]*[\w*])")
BARE = re.compile(r"(?<![\w./*$-])([A-Za-z_][\w-]*\.(?:h|cc|S|md|py|mk|ld))\b")
# Files of the system or the toolchain that comments name on purpose.
OUTSIDE = {"features.h"}
TEXT = re.compile(r"\.(h|cc|S|md|py|mk|ld|sh|in)$|(^|/)(Makefile|gdbinit|run)$")


def comment_part(path, line):
    """The part of a line that is prose: all of it in docs, the comment in code."""
    if path.endswith((".md", ".in")):
        return line
    if path.endswith((".py", ".mk", ".sh")) or os.path.basename(path) in ("Makefile", "run"):
        return line[line.index("#"):] if "#" in line else ""
    for mark in ("//", "/*"):
        if mark in line:
            return line[line.index(mark):]
    return line if line.lstrip().startswith("*") else ""


def main():
    files = subprocess.run(["git", "ls-files"], cwd=ROOT, capture_output=True, text=True,
                           check=True).stdout.split()
    tracked = set(files)
    folders = {f.rsplit("/", i)[0] for f in files for i in range(1, f.count("/") + 1)}
    bases = {f.rsplit("/", 1)[-1] for f in files}

    def exists(p):
        p = p.rstrip("/")
        if p in tracked or p in folders or p + ".h" in tracked or p + ".cc" in tracked:
            return True
        # "backend.h/.cc", "kmalloc.h/cc": the first of the pair.
        return re.sub(r"\.(h|cc)/\.?(h|cc)$", r".\1", p) in tracked

    misses = refs = 0
    for f in files:
        if not TEXT.search(f) or not os.path.exists(os.path.join(ROOT, f)):
            continue
        with open(os.path.join(ROOT, f), errors="replace") as fh:
            lines = fh.read().split("\n")
        for n, line in enumerate(lines, 1):
            found = []
            for m in PATH.finditer(line):
                p = m.group(1).rstrip(".")
                # Build outputs, patterns (test/host/*.mk) and placeholders (user/progs/NAME.cc).
                if p.startswith("build/") or "*" in p or "NAME" in p:
                    continue
                refs += 1
                if not exists(p):
                    found.append(p)
            for m in BARE.finditer(comment_part(f, line)):
                refs += 1
                if m.group(1) not in bases and m.group(1) not in OUTSIDE:
                    found.append(m.group(1))
            for p in found:
                print(f"{f}:{n}: {p}")
                misses += 1
    print(f"check-doc-paths: {refs} references, {misses} missing")
    return 1 if misses else 0


if __name__ == "__main__":
    sys.exit(main())
