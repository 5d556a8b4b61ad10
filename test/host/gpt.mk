# dev/gpt: the GUID partition table parser, over disk images built in memory
# by the test (header, entries, both CRCs), then corrupted; lib/crc32.
HOST_TESTS += gpt_test
gpt_test_SRCS := test/host/gpt_test.cc dev/gpt.cc lib/crc32.cc lib/format.cc
gpt_test_DEPS := dev/gpt.h lib/crc32.h
