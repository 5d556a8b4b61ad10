#!/usr/bin/env python3
"""make check-layers: every #include in the tree against the layer rules.

The rules are the `layers` block of docs/layers.md (that file says why each
one exists). Every tracked .h/.cc/.S/.c file is scanned; each quoted include is
resolved the way the compilers do (the including file's folder, then the
repository root, then the seam implementations' include paths), and each one a
rule forbids is reported on a line of its own:

    vm/phys.h:25: includes kern/arch/riscv/hart.h: hardware-free code includes only hardware_free, seam, lib

Exit status 1 if anything is reported. --self-test runs the checker over small
synthetic trees first (it must flag a forbidden include and pass a clean tree).
"""

import fnmatch
import os
import re
import subprocess
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
RULES_DOC = "docs/layers.md"
SOURCE_EXT = (".h", ".cc", ".S", ".c")
INCLUDE = re.compile(r'^\s*#\s*include\s*"([^"]+)"')


class Rules:
    def __init__(self):
        self.groups = {}      # name -> [pattern]
        self.only = []        # (from, [to], why)
        self.never = []       # (from, [to], why)
        self.private = []     # (name, [by], why)
        self.exceptions = []  # (file, included, doc line)
        self.search = []      # extra include directories (the seam implementations)


def parse_rules(text, where):
    """The rules: the lines of the ```layers fenced block(s) of docs/layers.md."""
    r = Rules()
    errors = []
    in_block = False
    for n, raw in enumerate(text.splitlines(), 1):
        if raw.strip().startswith("```"):
            in_block = raw.strip() == "```layers" if not in_block else False
            continue
        if not in_block:
            continue
        line = raw.split("#", 1)[0].strip()
        if not line:
            continue
        why = raw.split("#", 1)[1].strip() if "#" in raw else ""
        word, _, rest = line.partition(" ")
        rest = rest.strip()
        if word == "group" and "=" in rest:
            name, _, pats = rest.partition("=")
            r.groups[name.strip()] = pats.split()
        elif word == "search":
            r.search += rest.split()
        elif word in ("only", "never", "private") and ":" in rest:
            lhs, _, rhs = rest.partition(":")
            entry = (lhs.strip(), rhs.split(), why or line)
            {"only": r.only, "never": r.never, "private": r.private}[word].append(entry)
        elif word == "except" and "->" in rest:
            f, _, inc = rest.partition("->")
            r.exceptions.append((f.strip(), inc.strip(), n))
        else:
            errors.append(f"{where}:{n}: cannot read rule: {raw.strip()}")
    for kind in (r.only, r.never, r.private):
        for lhs, rhs, _ in kind:
            for name in [lhs] + rhs:
                if not _is_pattern(name) and name not in r.groups:
                    errors.append(f"{where}: rule names unknown group '{name}'")
    return r, errors


def _is_pattern(token):
    return "/" in token or "*" in token or "." in token


def _match(path, pattern):
    if pattern.endswith("/"):
        return path.startswith(pattern)
    return fnmatch.fnmatchcase(path, pattern)


def in_set(rules, path, token):
    pats = [token] if _is_pattern(token) else rules.groups.get(token, [])
    return any(_match(path, p) for p in pats)


def resolve(root, including, target, search):
    """The repository path a quoted include names, or None (a system header)."""
    candidates = [os.path.join(os.path.dirname(including), target), target]
    candidates += [os.path.join(d, target) for d in search]
    for c in candidates:
        c = os.path.normpath(c)
        if os.path.isfile(os.path.join(root, c)):
            return c
    return None


def list_sources(root):
    try:
        out = subprocess.run(["git", "ls-files", "-co", "--exclude-standard"], cwd=root,
                             capture_output=True, text=True, check=True).stdout.split("\n")
    except (OSError, subprocess.CalledProcessError):
        out = [os.path.relpath(os.path.join(d, f), root) for d, _, fs in os.walk(root) for f in fs]
    return sorted(f for f in out if f.endswith(SOURCE_EXT) and not f.startswith("build/")
                  and os.path.isfile(os.path.join(root, f)))


def check(root):
    """Every violation in the tree at root, as printable lines."""
    doc = os.path.join(root, RULES_DOC)
    rules, problems = parse_rules(open(doc).read(), RULES_DOC)
    if problems:
        return problems
    used = set()
    for path in list_sources(root):
        with open(os.path.join(root, path), errors="replace") as f:
            lines = f.readlines()
        for n, line in enumerate(lines, 1):
            m = INCLUDE.match(line)
            if not m:
                continue
            inc = resolve(root, path, m.group(1), rules.search)
            if inc is None:
                continue
            broken = []
            for lhs, rhs, why in rules.only:
                if in_set(rules, path, lhs) and not any(in_set(rules, inc, t) for t in rhs):
                    broken.append(why)
            for lhs, rhs, why in rules.never:
                if in_set(rules, path, lhs) and any(in_set(rules, inc, t) for t in rhs):
                    broken.append(why)
            for name, by, why in rules.private:
                if in_set(rules, inc, name) and not in_set(rules, path, name) \
                        and not any(in_set(rules, path, t) for t in by):
                    broken.append(why)
            if not broken:
                continue
            waived = [e for e in rules.exceptions if e[0] == path and e[1] == inc]
            if waived:
                used.update(waived)
                continue
            for why in broken:
                problems.append(f"{path}:{n}: includes {inc}: {why}")
    for e in rules.exceptions:
        if e not in used:
            problems.append(f"{RULES_DOC}:{e[2]}: stale exception '{e[0]} -> {e[1]}': "
                            "the include is gone or allowed now; delete the line")
    return problems


def self_test():
    """The checker flags a forbidden include and passes the same tree without it."""
    doc = """# test rules
```layers
group low = low/
group high = high/
only low: low   # low code includes only low code
private high: top.cc   # only one file includes high code
```
"""
    files = {"low/b.h": "",
             "low/a.h": '#include "low/b.h"\n#include <cstdint>\n',
             "high/h.h": '#include "low/a.h"\n',
             "top.cc": '#include "high/h.h"\n'}
    failures = []
    with tempfile.TemporaryDirectory() as tmp:
        os.makedirs(os.path.join(tmp, "docs"))
        with open(os.path.join(tmp, RULES_DOC), "w") as f:
            f.write(doc)
        for name, text in files.items():
            os.makedirs(os.path.dirname(os.path.join(tmp, name)) or tmp, exist_ok=True)
            with open(os.path.join(tmp, name), "w") as f:
                f.write(text)
        if check(tmp):
            failures.append(f"a clean tree was flagged: {check(tmp)}")
        with open(os.path.join(tmp, "low/b.h"), "w") as f:
            f.write('#include "high/h.h"\n')
        got = check(tmp)
        want = ["low/b.h:1: includes high/h.h: low code includes only low code",
                "low/b.h:1: includes high/h.h: only one file includes high code"]
        if got != want:
            failures.append(f"forbidden include: got {got}, want {want}")
        with open(os.path.join(tmp, RULES_DOC), "a") as f:
            f.write("```layers\nexcept low/b.h -> high/h.h\nexcept top.cc -> low/a.h\n```\n")
        got = check(tmp)
        if len(got) != 1 or "stale exception 'top.cc -> low/a.h'" not in got[0]:
            failures.append(f"exceptions: got {got}")
    return failures


def main():
    if "--self-test" in sys.argv[1:]:
        failures = self_test()
        for f in failures:
            print(f"check-layers self-test: {f}")
        if failures:
            sys.exit(1)
    problems = check(ROOT)
    for p in problems:
        print(p)
    if problems:
        print(f"check-layers: {len(problems)} forbidden include(s); the rules and their reasons: {RULES_DOC}")
        sys.exit(1)
    print("check-layers: every include follows docs/layers.md")


if __name__ == "__main__":
    main()
