// Running a function on another hart (IPIs). Starting the harts is boot's
// (boot/harts.h).
#pragma once

#include "lib/function_ref.h"

namespace kern::smp {

// Run fn on hart `index` from its IPI handler (interrupts off) and wait for
// it to finish. Calls to one hart are serialised.
void call_on(unsigned index, lib::FunctionRef<void()> fn);
// Run on every online hart, this one included; returns when all are done.
void call_on_all(lib::FunctionRef<void()> fn);
// Run fn on every online hart at the same time, this one included, and
// return when all are done: for tests that need real concurrency.
void run_concurrently(lib::FunctionRef<void()> fn);

void run_posted_call(); // from the IPI handler

} // namespace kern::smp
