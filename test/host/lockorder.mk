# kern/sync/lockorder: the lock order table and the lock checker's logic; checks
# docs/locking.md's table against it (run from the repository's root).
HOST_TESTS += lockorder_test
lockorder_test_SRCS := test/host/lockorder_test.cc kern/sync/lockorder.cc
