HOST_TESTS += vm_test
vm_test_SRCS := test/host/vm_sv39_test.cc test/host/vm_arena_test.cc vm/sv39.cc vm/arena.cc kern/spinlock.cc
