#!/usr/bin/env python3
"""Write compile_commands.json (to stdout) for clangd: one entry per kernel source.

Usage: compile_commands.py COMPILER "FLAGS" SOURCES...
"""
import json
import os
import sys

compiler, flags, sources = sys.argv[1], sys.argv[2], sys.argv[3:]
root = os.getcwd()
entries = []
for src in sources:
    entries.append({
        "directory": root,
        "file": os.path.join(root, src),
        "command": f"{compiler} {flags} -c {src} -o /dev/null",
    })
json.dump(entries, sys.stdout, indent=1)
sys.stdout.write("\n")
