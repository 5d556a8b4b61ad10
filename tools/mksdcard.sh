#!/bin/sh
# Build a GPT SD-card image that U-Boot's distro boot boots Zest from.
# No root, no loop devices: the FAT file system is made in a plain file with
# mkfs.vfat and filled with mtools, then copied into the disk image with dd.
#
# Layout (512-byte sectors), the one HiFive boards expect:
#   1  spl     34 ..  2081   type 5B193300-FC78-40CD-8002-E86C45580B47  (U-Boot SPL; empty unless --spl)
#   2  uboot 2082 .. 10273   type 2E54B353-1271-4842-806F-E436D6AF6985  (u-boot.itb; empty unless --itb)
#   3  zest-boot  16384 ..    FAT, "legacy BIOS bootable" attribute     (Image, extlinux/, boot.scr)
#   4  zest-swap  after 3     Linux swap type, optional (--swap-mb 0: none); Zest swaps
#                             to it (swap=mmcblk0p4 is added to the boot arguments)
# See docs/hifive.md.
set -eu

usage() {
    cat <<EOF
usage: $0 [options]
  -o FILE          disk image to write (default build/sdcard.img)
  -k FILE          kernel Image (default build/Image)
  -a ARGS          kernel boot arguments for extlinux.conf and boot.scr (default none;
                   swap=mmcblk0p4 is added when there is a swap partition and ARGS has no swap=)
  -m MODE          what the boot partition gets: both (default), extlinux, bootscr
  --boot-mb N      boot partition size in MiB (default 32)
  --swap-mb N      swap partition size in MiB, 0 for none (default 64)
  --spl FILE       write this U-Boot SPL (u-boot-spl.bin) into partition 1
  --itb FILE       write this u-boot.itb into partition 2
  --boot-fs FILE   also keep the boot partition's FAT image in FILE
EOF
    exit 2
}

ROOT=$(cd "$(dirname "$0")/.." && pwd)
OUT=build/sdcard.img
KERNEL=build/Image
BOOTARGS=
MODE=both
BOOT_MB=32
SWAP_MB=64
SPL=
ITB=
BOOTFS_KEEP=

while [ $# -gt 0 ]; do
    case "$1" in
    -o) OUT=$2; shift 2 ;;
    -k) KERNEL=$2; shift 2 ;;
    -a) BOOTARGS=$2; shift 2 ;;
    -m) MODE=$2; shift 2 ;;
    --boot-mb) BOOT_MB=$2; shift 2 ;;
    --swap-mb) SWAP_MB=$2; shift 2 ;;
    --spl) SPL=$2; shift 2 ;;
    --itb) ITB=$2; shift 2 ;;
    --boot-fs) BOOTFS_KEEP=$2; shift 2 ;;
    -h|--help) usage ;;
    *) echo "$0: unknown option $1" >&2; usage ;;
    esac
done

case "$MODE" in both|extlinux|bootscr) ;; *) echo "$0: -m takes both, extlinux or bootscr" >&2; exit 2 ;; esac
for tool in sgdisk mkfs.vfat mmd mcopy mkimage; do
    if ! command -v "$tool" >/dev/null 2>&1 && [ ! -x "/usr/sbin/$tool" ] && [ ! -x "/sbin/$tool" ]; then
        echo "$0: $tool is missing: apt-get install gdisk dosfstools mtools u-boot-tools" >&2
        exit 1
    fi
done
# sgdisk and mkfs.vfat live in /usr/sbin, which a normal user's PATH may lack.
PATH=$PATH:/usr/sbin:/sbin
export MTOOLS_SKIP_CHECK=1

[ -f "$KERNEL" ] || { echo "$0: no kernel $KERNEL (run make kernel)" >&2; exit 1; }
# booti refuses anything without the RISC-V Image magic2 "RSC\x05" at offset 0x38.
magic=$(od -An -tx1 -j 56 -N 4 "$KERNEL" | tr -d ' \n')
[ "$magic" = "52534305" ] || { echo "$0: $KERNEL has no RISC-V Image header (magic2 is '$magic')" >&2; exit 1; }
case "$BOOTARGS" in *'"'*|*'@'*|*'\'*) echo "$0: boot arguments must not contain \", @ or \\" >&2; exit 1 ;; esac
# The board swaps to the card's swap partition: the kernel names the SD card
# (over SPI) mmcblk0, and takes an SD card only when named.
if [ "$SWAP_MB" -gt 0 ]; then
    case " $BOOTARGS " in
    *" swap="*) ;;
    *) BOOTARGS="${BOOTARGS:+$BOOTARGS }swap=mmcblk0p4" ;;
    esac
fi

SPL_START=34;   SPL_END=2081
ITB_START=2082; ITB_END=10273
BOOT_START=16384                                  # 8 MiB: clear of SPL and u-boot.itb, aligned
BOOT_SECTORS=$((BOOT_MB * 2048))
BOOT_END=$((BOOT_START + BOOT_SECTORS - 1))
SWAP_START=$((BOOT_END + 1))
SWAP_SECTORS=$((SWAP_MB * 2048))
SWAP_END=$((SWAP_START + SWAP_SECTORS - 1))
# Leave 1 MiB at the end for the backup GPT.
TOTAL_SECTORS=$((SWAP_START + SWAP_SECTORS + 2048))

check_fits() { # file, sectors, what
    [ -z "$1" ] && return 0
    [ -f "$1" ] || { echo "$0: no such file $1" >&2; exit 1; }
    size=$(stat -c %s "$1")
    [ "$size" -le $(($2 * 512)) ] || { echo "$0: $3 $1 ($size bytes) does not fit its partition" >&2; exit 1; }
}
check_fits "$SPL" $((SPL_END - SPL_START + 1)) "SPL"
check_fits "$ITB" $((ITB_END - ITB_START + 1)) "u-boot.itb"

mkdir -p "$(dirname "$OUT")"
TMP=$(mktemp -d "${TMPDIR:-/tmp}/mksdcard.XXXXXX")
trap 'rm -rf "$TMP"' EXIT

# ---- boot partition contents -------------------------------------------------------------
sed "s|@BOOTARGS@|$BOOTARGS|" "$ROOT/boot/extlinux.conf.in" > "$TMP/extlinux.conf"
sed "s|@BOOTARGS@|$BOOTARGS|" "$ROOT/boot/boot.cmd.in" > "$TMP/boot.cmd"
mkimage -A riscv -O linux -T script -C none -n "Zest boot script" -d "$TMP/boot.cmd" "$TMP/boot.scr" >/dev/null

BOOTFS=$TMP/boot.vfat
rm -f "$BOOTFS"
truncate -s $((BOOT_SECTORS * 512)) "$BOOTFS"
mkfs.vfat -n ZESTBOOT -i 5a455354 "$BOOTFS" >/dev/null
mcopy -i "$BOOTFS" "$KERNEL" ::Image
if [ "$MODE" != bootscr ]; then
    mmd -i "$BOOTFS" ::extlinux
    mcopy -i "$BOOTFS" "$TMP/extlinux.conf" ::extlinux/extlinux.conf
fi
if [ "$MODE" != extlinux ]; then
    mcopy -i "$BOOTFS" "$TMP/boot.cmd" ::boot.cmd
    mcopy -i "$BOOTFS" "$TMP/boot.scr" ::boot.scr
fi

# ---- the disk ------------------------------------------------------------------------------
rm -f "$OUT"
truncate -s $((TOTAL_SECTORS * 512)) "$OUT"
set -- --clear --set-alignment=1 \
    --new=1:$SPL_START:$SPL_END --change-name=1:spl --typecode=1:5B193300-FC78-40CD-8002-E86C45580B47 \
    --new=2:$ITB_START:$ITB_END --change-name=2:uboot --typecode=2:2E54B353-1271-4842-806F-E436D6AF6985 \
    --new=3:$BOOT_START:$BOOT_END --change-name=3:zest-boot --typecode=3:EBD0A0A2-B9E5-4433-87C0-68B6B72699C7 \
    --attributes=3:set:2
if [ "$SWAP_MB" -gt 0 ]; then
    set -- "$@" --new=4:$SWAP_START:$SWAP_END --change-name=4:zest-swap \
        --typecode=4:0657FD6D-A4AB-43C4-84E5-0933C84B4F4F
fi
sgdisk "$@" "$OUT" >/dev/null

dd if="$BOOTFS" of="$OUT" bs=512 seek=$BOOT_START conv=notrunc,sparse status=none
[ -n "$SPL" ] && dd if="$SPL" of="$OUT" bs=512 seek=$SPL_START conv=notrunc status=none
[ -n "$ITB" ] && dd if="$ITB" of="$OUT" bs=512 seek=$ITB_START conv=notrunc status=none
[ -n "$BOOTFS_KEEP" ] && cp "$BOOTFS" "$BOOTFS_KEEP"

echo "$OUT: $((TOTAL_SECTORS / 2048)) MiB; boot partition 3 ($BOOT_MB MiB FAT: Image$( [ "$MODE" != bootscr ] && printf ', extlinux/extlinux.conf')$( [ "$MODE" != extlinux ] && printf ', boot.scr')), swap partition 4: ${SWAP_MB} MiB; bootargs '$BOOTARGS'"
