# FDT parser tests: lib/fdt*.cc (validation, walk, properties), boot/machine*.cc (MachineInfo),
# lib/ranges.cc (range subtraction), checked against libfdt on the device trees
# QEMU builds. The test reads the DTBs from $ZEST_DTB_DIR (default build/dtb).
HOST_TESTS += fdt_test
FDT_DTB_DIR := $(BUILD)/dtb
FDT_DTBS := $(addprefix $(FDT_DTB_DIR)/,virt-1-64M.dtb virt-4-256M.dtb virt-8-2G.dtb \
	virt-bootargs.dtb virt-blk.dtb sifive_u-5.dtb sifive_u-2.dtb)
fdt_test_SRCS := test/host/fdt_test.cc test/host/fdt_corrupt_test.cc \
	test/host/fdt_ranges_test.cc lib/fdt.cc lib/fdt_walk.cc lib/fdt_prop.cc \
	boot/machine.cc boot/machine_reg.cc boot/machine_devices.cc boot/machine_console.cc lib/ranges.cc
fdt_test_LIBS := -lfdt
fdt_test_DEPS := $(FDT_DTBS)

# One QEMU run per DTB, all from one script; &: makes it a single recipe.
$(FDT_DTBS) &: tools/dump-dtbs.sh
	@echo "  DTB     $(FDT_DTB_DIR)"
	$(Q)tools/dump-dtbs.sh $(FDT_DTB_DIR)

# Board trees written for the tests (test/dtb/boards/*.dts), compiled by dtc.
FDT_BOARD_DTBS := $(patsubst test/dtb/boards/%.dts,$(FDT_DTB_DIR)/boards/%.dtb,$(wildcard test/dtb/boards/*.dts))
fdt_test_SRCS += test/host/fdt_boards_test.cc test/host/fdt_header_test.cc
fdt_test_DEPS += $(FDT_BOARD_DTBS)

$(FDT_DTB_DIR)/boards/%.dtb: test/dtb/boards/%.dts
	@echo "  DTC     $@"
	$(Q)mkdir -p $(dir $@) && dtc -q -I dts -O dtb -o $@ $<
