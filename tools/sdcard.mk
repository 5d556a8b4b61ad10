# SD-card image for HiFive boards (and the U-Boot rehearsal on QEMU): see docs/hifive.md.
# Included by the top Makefile. Uses BUILD and BOOTARGS from it.
#   make sdcard                         build/sdcard.img (extlinux.conf and boot.scr, 64 MiB swap)
#   make sdcard BOOTARGS=ktest=all      the same, the kernel runs its tests
#   make sdcard SDCARD_MODE=bootscr     only boot.scr (or extlinux: only extlinux.conf)
#   make sdcard SWAP_MB=0 BOOT_MB=64    no swap partition, a bigger boot partition
#   make sdcard UBOOT_SPL=.../u-boot-spl.bin UBOOT_ITB=.../u-boot.itb   a complete card
SDCARD_MODE ?= both
BOOT_MB     ?= 32
SWAP_MB     ?= 64
UBOOT_SPL   ?=
UBOOT_ITB   ?=

.PHONY: sdcard
sdcard: $(BUILD)/Image tools/mksdcard.sh boot/extlinux.conf.in boot/boot.cmd.in
	@echo "  SDCARD  $(BUILD)/sdcard.img"
	$(Q)sh tools/mksdcard.sh -o $(BUILD)/sdcard.img -k $(BUILD)/Image -a "$(BOOTARGS)" \
		-m $(SDCARD_MODE) --boot-mb $(BOOT_MB) --swap-mb $(SWAP_MB) \
		--boot-fs $(BUILD)/sdcard-boot.vfat \
		$(if $(UBOOT_SPL),--spl $(UBOOT_SPL)) $(if $(UBOOT_ITB),--itb $(UBOOT_ITB))
