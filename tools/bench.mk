# Benchmarks (make bench): host binaries for test/bench.py. Included by the top
# Makefile (`include tools/bench.mk`). Not part of make test.
#
# Three binaries from one source: mimalloc and jemalloc each replace malloc when
# linked, so they get binaries of their own (test/bench/alloc_bench.cc).
BENCH_CXXFLAGS := -std=c++20 -O2 -g -DZEST_HOST -DZALLOC_DEBUG=0 -I. -Itest/host -Wall -Wextra -fno-omit-frame-pointer
BENCH_ZALLOC_SRCS := zalloc/backend.cc zalloc/debug.cc zalloc/kmalloc.cc zalloc/kmalloc_obj.cc zalloc/registry.cc \
	zalloc/reserve.cc zalloc/stats.cc zalloc/zone.cc kern/sync/spinlock.cc test/host/fake_kernel.cc
BENCH_DEPS := test/bench/alloc_bench.cc $(BENCH_ZALLOC_SRCS) $(wildcard zalloc/*.h) test/host/zalloc_fake_backend.h
BENCH_BINS := $(BUILD)/bench/alloc_bench $(BUILD)/bench/alloc_bench_mi $(BUILD)/bench/alloc_bench_je

$(BUILD)/bench/alloc_bench: $(BENCH_DEPS)
	@mkdir -p $(dir $@)
	@echo "  HOSTCXX $@"
	$(Q)$(HOST_CXX) $(BENCH_CXXFLAGS) test/bench/alloc_bench.cc $(BENCH_ZALLOC_SRCS) -o $@ -lbenchmark -lpthread

$(BUILD)/bench/alloc_bench_mi: $(BENCH_DEPS)
	@mkdir -p $(dir $@)
	@echo "  HOSTCXX $@"
	$(Q)$(HOST_CXX) $(BENCH_CXXFLAGS) -DBENCH_MIMALLOC test/bench/alloc_bench.cc test/host/fake_kernel.cc -o $@ -lmimalloc -lbenchmark -lpthread

$(BUILD)/bench/alloc_bench_je: $(BENCH_DEPS)
	@mkdir -p $(dir $@)
	@echo "  HOSTCXX $@"
	$(Q)$(HOST_CXX) $(BENCH_CXXFLAGS) -DBENCH_JEMALLOC test/bench/alloc_bench.cc test/host/fake_kernel.cc -o $@ -ljemalloc -lbenchmark -lpthread

.PHONY: bench-host
bench-host: $(BENCH_BINS)
