#!/bin/sh
# Install the Debian packages Zest needs, once. Called by `make run`, `make test`
# and .ci/run. Prints what it does; uses sudo when not root; fails clearly
# without apt. ZEST_SETUP_QUIET=1 silences the "all present" line.
set -eu

PKGS="make python3 g++ qemu-system-misc opensbi g++-riscv64-linux-gnu binutils-riscv64-linux-gnu \
doctest-dev libfdt-dev device-tree-compiler gdb-multiarch u-boot-qemu u-boot-tools \
mtools dosfstools fdisk gdisk valgrind libbenchmark-dev libmimalloc-dev libjemalloc-dev python3-matplotlib"

missing=""
for p in $PKGS; do
    if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
        missing="$missing $p"
    fi
done

if [ -z "$missing" ]; then
    [ "${ZEST_SETUP_QUIET:-0}" = 1 ] || echo "setup: all required packages are installed"
    exit 0
fi

echo "setup: missing Debian packages:$missing"
if ! command -v apt-get >/dev/null 2>&1; then
    echo "setup: error: apt-get not found. Zest's setup needs Debian (bookworm) or a derivative." >&2
    echo "setup: install these packages by hand:$missing" >&2
    exit 1
fi

SUDO=""
if [ "$(id -u)" != 0 ]; then
    if command -v sudo >/dev/null 2>&1; then
        SUDO="sudo"
        echo "setup: not root, using sudo"
    else
        echo "setup: error: not root and sudo is not installed; run as root: apt-get install$missing" >&2
        exit 1
    fi
fi

echo "setup: apt-get update"
$SUDO apt-get update -q
echo "setup: apt-get install$missing"
# shellcheck disable=SC2086
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -q --no-install-recommends $missing
echo "setup: done"
