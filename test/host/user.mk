# User-mode support that needs no hardware: the ELF loader's parser
# (lib/elf) over images built in memory and corrupted, and the system-call
# argument checks (kern/task/sysarg.h).
HOST_TESTS += user_test
user_test_SRCS := test/host/elf_test.cc test/host/sysarg_test.cc lib/elf.cc
user_test_DEPS := lib/elf.h kern/task/sysarg.h user/abi.h vm/layout.h
