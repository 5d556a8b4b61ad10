HOST_TESTS += kstack_test
kstack_test_SRCS := test/host/kstack_layout_test.cc test/host/kstack_hold_test.cc test/host/kstack_cache_test.cc
