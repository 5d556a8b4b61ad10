// Shared by the user-task ktests (defined in test/kernel/user_test.cc).
#pragma once

#include "test/kernel/ktest.h"
#include "kern/task/task.h"

#include <cstdint>

// Run `program` `rounds` times, `parallel` tasks at once per round with arg +
// index, and check that each ends with want_code within timeout_us and that
// every task, thread, user page, zone object and free page is back where it
// was. meanwhile(t, task), if given, runs once each task is spawned, before
// it is waited for.
void user_check_baseline(ktest::Context& t, const char* program, uint64_t arg, unsigned rounds, int want_code,
                         uint64_t timeout_us, unsigned parallel = 1,
                         void (*meanwhile)(ktest::Context&, kern::Task*) = nullptr);
