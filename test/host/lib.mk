HOST_TESTS += lib_test
lib_test_SRCS := test/host/list_test.cc test/host/function_ref_test.cc test/host/result_test.cc test/host/owned_test.cc \
	test/host/spinlock_test.cc test/host/format_test.cc test/host/name_pattern_test.cc kern/sync/spinlock.cc \
	test/host/format_float_test.cc lib/format.cc lib/name_pattern.cc user/lib/format_float.cc \
	test/host/restart_table_test.cc lib/restart_table.cc
