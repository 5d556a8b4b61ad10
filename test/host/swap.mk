HOST_TESTS += swap_test
swap_test_SRCS := test/host/swap_test.cc test/host/kstack_checksum_test.cc vm/swap_alloc.cc vm/swap_policy.cc kern/sync/spinlock.cc
