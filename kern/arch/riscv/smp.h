// Running a function on another hart (IPIs). Starting the harts is boot's
// (boot/harts.h).
#pragma once

namespace kern::smp {

// Run fn(arg) on hart `index` from its IPI handler (interrupts off) and wait
// for it to finish. Calls to one hart are serialised.
void call_on(unsigned index, void (*fn)(void*), void* arg);
// Run on every online hart, this one included; returns when all are done.
void call_on_all(void (*fn)(void*), void* arg);
// Run fn(arg) on every online hart at the same time, this one included, and
// return when all are done: for tests that need real concurrency.
void run_concurrently(void (*fn)(void*), void* arg);

void run_posted_call(); // from the IPI handler

} // namespace kern::smp
