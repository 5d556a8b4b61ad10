# Zest: an rv64gc S-mode microkernel. `make help` lists the targets.
#
# The kernel is built with Debian's riscv64-linux-gnu cross compiler, freestanding,
# without floating point (sstatus.FS stays off in the kernel, so a stray FP
# instruction traps instead of silently corrupting user state); only
# kern/arch/riscv/fpu_regs.S touches the FP registers, to save and load
# user threads' state.
# Host tests build the hardware-free sources with the host g++ and sanitizers.

PLATFORM ?= virt
SMP      ?= $(if $(filter sifive_u,$(PLATFORM)),2,4)
MEM      ?= 256M
BOOTARGS ?=
CROSS    ?= riscv64-linux-gnu-
BUILD    ?= build
V        ?= 0

Q := $(if $(filter 1,$(V)),,@)

KCXX     := $(CROSS)g++
KOBJCOPY := $(CROSS)objcopy
KOBJDUMP := $(CROSS)objdump
KNM      := $(CROSS)nm

VERSION := $(shell git describe --always --dirty 2>/dev/null || echo unknown)

KARCH := -march=rv64imac_zicsr_zifencei -mabi=lp64 -mcmodel=medany
KCXXFLAGS := -std=c++20 $(KARCH) -O2 -g -ffreestanding -fno-exceptions -fno-rtti \
	-fno-threadsafe-statics -fno-use-cxa-atexit -fno-pie -fno-stack-protector \
	-fno-omit-frame-pointer -fno-asynchronous-unwind-tables -fno-strict-aliasing \
	-mno-relax -nostdlib -nostdinc++ -Wall -Wextra -Werror \
	-I. -DZEST_VERSION='"$(VERSION)"' -MMD -MP
# The hardware seam's implementation (kern/seam/: each header includes
# "seam_impl/NAME.h"): RISC-V in the kernel; host tests take test/host's.
KCXXFLAGS += -Ikern/arch/riscv
# libstdc++'s freestanding headers (<atomic>, <type_traits>, ...) from the cross compiler,
# but never the host's /usr/include: the kernel is not a Linux program.
KCXX_INCDIRS := $(shell $(KCXX) -E -x c++ -v /dev/null 2>&1 | sed -n 's/^ \(\/[^ ]*c++[^ ]*\)$$/-isystem \1/p')
KCXXFLAGS += -isystem lib/sysinclude $(KCXX_INCDIRS) -isystem $(shell $(KCXX) -print-file-name=include)
KLDFLAGS := -static -no-pie -nostdlib -z max-page-size=4096 -Wl,--gc-sections -Wl,--build-id=none -Wl,--no-warn-rwx-segments

# Every .cc and .S under the kernel's folders, at any depth.
KSRC := $(sort $(shell find boot kern vm zalloc kstack dev lib test/kernel -name '*.cc' -o -name '*.S'))
KOBJ := $(patsubst %,$(BUILD)/k/%.o,$(KSRC)) $(BUILD)/user_programs.o

# ---- user programs (user/): built with the same cross compiler, linked at the
# bottom of user space by user/user.ld, and embedded in the kernel image by a
# generated $(BUILD)/user_programs.S (tools/gen-user-programs.py). Each
# user/progs/NAME.cc becomes the program NAME. User code is rv64gc with the
# lp64d ABI: it may use floating point, which the kernel switches lazily
# (kern/arch/riscv/fpu.h, docs/user.md).
UCXXFLAGS := -std=c++20 -march=rv64gc -mabi=lp64d -mcmodel=medany -O2 -ffreestanding -fno-exceptions \
	-ffunction-sections -fdata-sections \
	-fno-rtti -fno-pie -fno-stack-protector -fno-asynchronous-unwind-tables -fno-threadsafe-statics \
	-fno-tree-loop-distribute-patterns -fno-builtin -mno-relax -nostdlib -nostdinc++ -Wall -Wextra -Werror -I. \
	-isystem lib/sysinclude $(KCXX_INCDIRS) -isystem $(shell $(KCXX) -print-file-name=include) -MMD -MP
ULDFLAGS := -static -no-pie -nostdlib -z max-page-size=4096 -Wl,--gc-sections -Wl,--build-id=none -Wl,-T,user/user.ld -s
# The user library: its own code, and lib/'s string functions and printf engine
# built for user mode (lib/ has no kernel dependency).
ULIB_OBJ := $(BUILD)/u/user/lib/crt0.S.o $(BUILD)/u/user/lib/ulib.cc.o $(BUILD)/u/user/lib/format_float.cc.o \
	$(BUILD)/u/lib/string.cc.o $(BUILD)/u/lib/format.cc.o
USER_PROGS := $(sort $(basename $(notdir $(wildcard user/progs/*.cc))))
USER_ELFS := $(addprefix $(BUILD)/user/,$(addsuffix .elf,$(USER_PROGS)))

# The flags user objects were built with: when they change (the ABI did once),
# every user object is rebuilt instead of failing to link with the old ones.
$(BUILD)/u/flags: FORCE
	@mkdir -p $(dir $@)
	@echo '$(UCXXFLAGS)' | cmp -s - $@ || echo '$(UCXXFLAGS)' > $@

$(BUILD)/u/%.cc.o: %.cc $(BUILD)/u/flags
	@mkdir -p $(dir $@)
	@echo "  UCXX    $<"
	$(Q)$(KCXX) $(UCXXFLAGS) -c $< -o $@

$(BUILD)/u/%.S.o: %.S $(BUILD)/u/flags
	@mkdir -p $(dir $@)
	@echo "  UAS     $<"
	$(Q)$(KCXX) $(UCXXFLAGS) -D__ASSEMBLY__ -c $< -o $@

$(BUILD)/user/%.elf: $(BUILD)/u/user/progs/%.cc.o $(ULIB_OBJ) user/user.ld
	@mkdir -p $(dir $@)
	@echo "  ULD     $@"
	$(Q)$(KCXX) $(UCXXFLAGS) $(ULDFLAGS) $< $(ULIB_OBJ) -o $@

$(BUILD)/user_programs.S: $(USER_ELFS) tools/gen-user-programs.py
	$(Q)python3 tools/gen-user-programs.py $(USER_ELFS) > $@

$(BUILD)/user_programs.o: $(USER_ELFS)

-include $(ULIB_OBJ:.o=.d) $(patsubst %,$(BUILD)/u/user/progs/%.cc.d,$(USER_PROGS))
.SECONDARY: $(ULIB_OBJ) $(patsubst %,$(BUILD)/u/user/progs/%.cc.o,$(USER_PROGS))

.PHONY: FORCE
FORCE:

.PHONY: all kernel run test host-test kernel-test check-layers gdb-check stress-plot qemu-gdb soak bench setup help clean compile_commands.json
.DEFAULT_GOAL := all

all: kernel

kernel: $(BUILD)/zest.elf $(BUILD)/Image $(BUILD)/zest.lst $(BUILD)/zest.map

$(BUILD)/k/%.cc.o: %.cc
	@mkdir -p $(dir $@)
	@echo "  CXX     $<"
	$(Q)$(KCXX) $(KCXXFLAGS) -c $< -o $@

$(BUILD)/k/%.S.o: %.S
	@mkdir -p $(dir $@)
	@echo "  AS      $<"
	$(Q)$(KCXX) $(KCXXFLAGS) -D__ASSEMBLY__ -c $< -o $@

# GCC may turn the byte loops of memset/memcpy into calls to themselves.
$(BUILD)/k/lib/string.cc.o: KCXXFLAGS += -fno-tree-loop-distribute-patterns -fno-builtin

# Two links: the first with an empty symbol table, the second with the table
# generated from the first. The table sits after all code (linker.ld), and with
# -mno-relax code sizes are fixed, so no function moves; the check below proves it.
$(BUILD)/ksyms0.S: tools/gen-ksyms.py
	@mkdir -p $(dir $@)
	$(Q)python3 tools/gen-ksyms.py $(KNM) > $@

$(BUILD)/%.o: $(BUILD)/%.S
	$(Q)$(KCXX) $(KCXXFLAGS) -D__ASSEMBLY__ -c $< -o $@

$(BUILD)/zest.pass1.elf: $(KOBJ) $(BUILD)/ksyms0.o linker.ld
	@echo "  LD      $@"
	$(Q)$(KCXX) $(KCXXFLAGS) $(KLDFLAGS) -T linker.ld $(KOBJ) $(BUILD)/ksyms0.o -o $@

$(BUILD)/ksyms.S: $(BUILD)/zest.pass1.elf tools/gen-ksyms.py
	$(Q)python3 tools/gen-ksyms.py $(KNM) $< > $@

$(BUILD)/zest.elf: $(KOBJ) $(BUILD)/ksyms.o linker.ld
	@echo "  LD      $@"
	$(Q)$(KCXX) $(KCXXFLAGS) $(KLDFLAGS) -T linker.ld -Wl,-Map,$(BUILD)/zest.ldmap $(KOBJ) $(BUILD)/ksyms.o -o $@
	$(Q)python3 tools/gen-ksyms.py $(KNM) $@ | cmp -s - $(BUILD)/ksyms.S || { echo "error: code moved between the two links; backtrace symbols would be wrong" >&2; rm -f $@; exit 1; }

$(BUILD)/Image: $(BUILD)/zest.elf
	@echo "  OBJCOPY $@"
	$(Q)$(KOBJCOPY) -O binary $< $@

$(BUILD)/zest.lst: $(BUILD)/zest.elf
	$(Q)$(KOBJDUMP) -d -C -S $< > $@

$(BUILD)/zest.map: $(BUILD)/zest.elf
	$(Q)$(KNM) -n -C $< > $@

-include $(KOBJ:.o=.d)

# ---- running under QEMU -------------------------------------------------------------

QEMU := qemu-system-riscv64
SWAP_IMG := $(BUILD)/swap.img
QEMU_MACHINE_virt := -M virt
QEMU_MACHINE_sifive_u := -M sifive_u
SWAP_MB ?= 64
# virt gets a swap disk (virtio-blk). sifive_u has no virtio; the kernel drives an SD card on its SPI
# controller (dev/sdcard_spi.cc), but `make run` inserts none (test/boots.py boots with one).
QEMU_SWAP_virt = -drive file=$(SWAP_IMG),if=none,format=raw,id=swap0 -device virtio-blk-device,drive=swap0
QEMU_ARGS = $(QEMU_MACHINE_$(PLATFORM)) -smp $(SMP) -m $(MEM) -nographic \
	-kernel $(BUILD)/Image $(if $(BOOTARGS),-append "$(BOOTARGS)")

$(SWAP_IMG):
	@mkdir -p $(dir $@)
	@echo "  SWAP    $@ ($(SWAP_MB) MiB)"
	$(Q)truncate -s $(SWAP_MB)M $@

run: setup kernel $(if $(filter virt,$(PLATFORM)),$(SWAP_IMG))
	@echo "Booting Zest on QEMU $(PLATFORM), $(SMP) harts, $(MEM). Quit with Ctrl-A X."
	$(QEMU) $(QEMU_ARGS) $(QEMU_SWAP_$(PLATFORM))

qemu-gdb: setup kernel $(if $(filter virt,$(PLATFORM)),$(SWAP_IMG))
	@echo "QEMU waits for gdb on localhost:1234. In another terminal: gdb-multiarch -x tools/gdbinit"
	$(QEMU) $(QEMU_ARGS) $(QEMU_SWAP_$(PLATFORM)) -S -gdb tcp:127.0.0.1:1234

# ---- tests ----------------------------------------------------------------------------

# Each test/host/*.mk adds binaries to HOST_TESTS and sets NAME_SRCS (plus optionally
# NAME_LIBS, NAME_SAN, NAME_DEPS). Every binary gets the doctest main and the host fakes.
HOST_CXX ?= g++
HOST_TESTS :=
HOST_COMMON := test/host/doctest_main.cc test/host/fake_kernel.cc
HOST_CXXFLAGS := -std=c++20 -g -O1 -DZEST_HOST -I. -Itest/host -Wall -Wextra -Werror -fno-omit-frame-pointer -MMD -MP
include $(wildcard test/host/*.mk)

define host_test_rule
$(1)_SAN ?= address,undefined
$(BUILD)/host/$(1): $$($(1)_SRCS) $$(HOST_COMMON) $$($(1)_DEPS)
	@mkdir -p $$(dir $$@)
	@echo "  HOSTCXX $$@"
	$$(Q)$$(HOST_CXX) $$(HOST_CXXFLAGS) -fsanitize=$$($(1)_SAN) $$(if $$(findstring undefined,$$($(1)_SAN)),-fno-sanitize-recover=undefined) \
		-MF $$@.d $$($(1)_SRCS) $$(HOST_COMMON) -o $$@ $$($(1)_LIBS) -lpthread
-include $(BUILD)/host/$(1).d
endef
$(foreach t,$(HOST_TESTS),$(eval $(call host_test_rule,$(t))))

HOST_BINS := $(addprefix $(BUILD)/host/,$(HOST_TESTS))

host-build: $(HOST_BINS)

# Host tests only (fast, no QEMU).
host-test: setup host-build
	$(Q)python3 test/run_all.py --build $(BUILD) --host $(HOST_TESTS)

# Kernel tests only, every configuration the runner knows.
kernel-test: setup kernel
	$(Q)python3 test/run_all.py --build $(BUILD) --kernel

# Every #include against the layer rules of docs/layers.md (the checker tests itself first).
check-layers:
	$(Q)python3 tools/check-layers.py --self-test

# Everything; the last line is "N passed, N failed". The build runs one job
# per core unless -j was given (MAKEFLAGS then holds it), after setup, which
# installs the compilers it needs: a serial build of the host tests alone
# takes over 6 minutes on 2 cores.
BUILD_JOBS = $(if $(findstring -j,$(MAKEFLAGS)),,-j$(shell nproc))
test: setup
	$(Q)$(MAKE) --no-print-directory $(BUILD_JOBS) kernel host-build
	$(Q)python3 test/run_all.py --build $(BUILD) --layers --gdb --host $(HOST_TESTS) --kernel

# gdb's zest commands (tools/gdb/zest.py) against a live debugdemo boot, a few seconds.
gdb-check: setup kernel
	$(Q)python3 test/gdb_check.py --build $(BUILD)

# The long soak (kern/stress/soak.h, docs/swap.md): SOAK_SECONDS on each of several
# machines, swap I/O errors injected by blkdebug on two of them.
SOAK_SECONDS ?= 600
soak: setup kernel
	$(Q)python3 test/run_all.py --build $(BUILD) --soak $(SOAK_SECONDS)

# Memory over time: boot, run `stress ... samples`, draw build/stress.png and .svg
# (tools/stress-plot.py; the sample line is described in docs/debugging.md).
# Debian's python3-matplotlib belongs to the system's python3.
PLOT_PYTHON ?= $(if $(wildcard /usr/bin/python3),/usr/bin/python3,python3)
STRESS_ARGS ?= 64 8 3
stress-plot: setup kernel
	$(Q)$(PLOT_PYTHON) tools/stress-plot.py --build $(BUILD) --stress "$(STRESS_ARGS)"

bench: setup kernel
	$(Q)python3 test/bench.py --build $(BUILD)

# bench-host: the host allocator benchmark binaries (test/bench/).
include tools/bench.mk

# make sdcard: the HiFive SD-card image (docs/hifive.md).
include tools/sdcard.mk

setup:
	$(Q)tools/setup.sh

compile_commands.json:
	$(Q)python3 tools/compile_commands.py $(KCXX) "$(KCXXFLAGS)" $(KSRC) > $@

clean:
	rm -rf $(BUILD) compile_commands.json

help:
	@echo "Zest targets:"
	@echo "  make run            boot on QEMU (PLATFORM=virt|sifive_u SMP=n MEM=size BOOTARGS='...')"
	@echo "  make test           every test: host doctest binaries and kernel boots; ends 'N passed, N failed'"
	@echo "  make host-test      host doctest binaries only"
	@echo "  make kernel-test    kernel test boots only"
	@echo "  make check-layers   every #include against docs/layers.md"
	@echo "  make soak           everything at once, SOAK_SECONDS (600) on 48M/3 harts, 256M/4, 96M/2, with swap I/O errors"
	@echo "  make bench          benchmarks, written to docs/benchmarks.md"
	@echo "  make stress-plot    run stress with a sample line every 100 ms, draw build/stress.png and .svg"
	@echo "  make sdcard         build/sdcard.img for a HiFive board (docs/hifive.md)"
	@echo "  make qemu-gdb       boot halted, waiting for gdb-multiarch -x tools/gdbinit (docs/debugging.md)"
	@echo "  make gdb-check      gdb's zest commands against a debugdemo boot with a swapped stack"
	@echo "  make compile_commands.json   for clangd"
	@echo "  make setup          install missing Debian packages"
	@echo "  make clean"
