# IPC argument rules that need no hardware (kern/ipc_args.h).
HOST_TESTS += ipc_test
ipc_test_SRCS := test/host/ipc_args_test.cc
ipc_test_DEPS := kern/ipc_args.h user/abi.h vm/layout.h
