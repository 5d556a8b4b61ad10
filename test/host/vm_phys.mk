# vm/phys + vm/watermarks: the physical page allocator and its reserve classes,
# over fake RAM (ranges are numbers; the pages' memory is never touched).
HOST_TESTS += vm_phys_test
vm_phys_test_SRCS := test/host/vm_phys_test.cc test/host/vm_watermarks_test.cc vm/phys.cc vm/watermarks.cc kern/spinlock.cc
vm_phys_test_DEPS := vm/page.h vm/phys.h vm/watermarks.h
