# IPC argument rules that need no hardware (kern/task/ipc_args.h).
HOST_TESTS += ipc_test
ipc_test_SRCS := test/host/ipc_args_test.cc
ipc_test_DEPS := kern/task/ipc_args.h user/abi.h vm/layout.h
