# vm/phys + vm/watermarks: the physical page allocator and its reserve classes,
# over fake RAM (ranges are numbers; the pages' memory is never touched).
# Two binaries: ASan+UBSan with every test, and ThreadSanitizer with the
# allocator tests (the 4-hart test is the one it is there for).
VM_PHYS_SRCS := vm/phys.cc vm/watermarks.cc kern/sync/spinlock.cc
VM_PHYS_HDRS := vm/page.h vm/phys.h vm/watermarks.h

HOST_TESTS += vm_phys_test vm_phys_tsan_test
vm_phys_test_SRCS := test/host/vm_phys_test.cc test/host/vm_watermarks_test.cc $(VM_PHYS_SRCS)
vm_phys_test_DEPS := $(VM_PHYS_HDRS)
vm_phys_tsan_test_SRCS := test/host/vm_phys_test.cc $(VM_PHYS_SRCS)
vm_phys_tsan_test_DEPS := $(VM_PHYS_HDRS)
vm_phys_tsan_test_SAN := thread
