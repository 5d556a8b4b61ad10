# vm/ hardware-free parts: Sv39 page tables, the kernel VA arena, the VA layout.
# (The physical page allocator and watermarks: test/host/vm_phys.mk.)
HOST_TESTS += vm_test
vm_test_SRCS := test/host/vm_sv39_test.cc test/host/vm_arena_test.cc test/host/vm_layout_test.cc test/host/vm_kva_test.cc \
	vm/sv39.cc vm/arena.cc kern/sync/spinlock.cc
vm_test_DEPS := vm/sv39.h vm/arena.h vm/layout.h
