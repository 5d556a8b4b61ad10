# zalloc/: zones, kmalloc_obj, kmalloc. Two binaries: ASan+UBSan with every test,
# and ThreadSanitizer with the multi-hart tests.
ZALLOC_SRCS := zalloc/backend.cc zalloc/debug.cc zalloc/kmalloc.cc zalloc/kmalloc_obj.cc zalloc/registry.cc \
	zalloc/reserve.cc zalloc/stats.cc zalloc/zone.cc kern/sync/spinlock.cc
ZALLOC_HDRS := $(wildcard zalloc/*.h) test/host/zalloc_fake_backend.h test/host/zalloc_test_util.h

HOST_TESTS += zalloc_test zalloc_tsan_test
zalloc_test_SRCS := $(wildcard test/host/zalloc_*_test.cc) $(ZALLOC_SRCS)
zalloc_test_DEPS := $(ZALLOC_HDRS)
zalloc_tsan_test_SRCS := test/host/zalloc_threads_test.cc $(ZALLOC_SRCS)
zalloc_tsan_test_DEPS := $(ZALLOC_HDRS)
zalloc_tsan_test_SAN := thread
