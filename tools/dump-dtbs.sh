#!/bin/sh
# Dump the device trees QEMU builds for the machines Zest runs on, so the host
# tests can check the FDT parser against real blobs (and against libfdt).
#
#   tools/dump-dtbs.sh OUTDIR
#
# Writes OUTDIR/<name>.dtb for each configuration below and a small raw disk
# image for the virtio-blk case. QEMU never boots anything: dumpdtb= makes it
# write the tree and exit. The names are what test/host/fdt_test.cc expects.
set -eu

out=${1:?usage: tools/dump-dtbs.sh OUTDIR}
qemu=${QEMU:-qemu-system-riscv64}
mkdir -p "$out"

dump() { # dump NAME MACHINE ARGS...
    name=$1
    machine=$2
    shift 2
    "$qemu" -M "$machine,dumpdtb=$out/$name.dtb" -nographic "$@" >"$out/$name.log" 2>&1 || {
        echo "dump-dtbs: $qemu -M $machine $* failed:" >&2
        cat "$out/$name.log" >&2
        exit 1
    }
    rm -f "$out/$name.log"
}

# A small raw image for the virtio-blk device: QEMU needs a backing file.
# -append needs a -kernel too; a page of zeros does, since nothing runs.
img="$out/blk.img"
kernel="$out/dummy-kernel.bin"
[ -f "$img" ] || dd if=/dev/zero of="$img" bs=64k count=1 2>/dev/null
[ -f "$kernel" ] || dd if=/dev/zero of="$kernel" bs=4k count=1 2>/dev/null

dump virt-1-64M virt -smp 1 -m 64M
dump virt-4-256M virt -smp 4 -m 256M
dump virt-8-2G virt -smp 8 -m 2G
dump virt-bootargs virt -smp 2 -m 128M -kernel "$kernel" -append "console=x ktest=all"
dump virt-blk virt -smp 1 -m 128M \
    -device virtio-blk-device,drive=d -drive if=none,id=d,file="$img",format=raw
dump sifive_u-5 sifive_u -smp 5
dump sifive_u-2 sifive_u -smp 2
