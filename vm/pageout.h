// The pagedaemon: the kernel thread that keeps memory from running out. For
// now it refills the allocators' reserves (zalloc::replenish_all) when a zone
// used its reserve and polls the zones once a second (slab release with
// hysteresis); swapping kernel stacks out joins it with the swap issue.
#pragma once

namespace vm::pageout {

void start();
// Wake it: an allocation failed, free pages fell below free_min, or a zone
// used its reserve. Safe from any context (interrupts off, locks held).
void wake();

// Tests that count pages exactly hold the daemon still meanwhile (its
// periodic poll gives slabs back). Nesting counts.
void pause();
void resume();

struct Stats {
    unsigned long wakeups;
    unsigned long replenishes;
    unsigned long polls;
};
Stats stats();

} // namespace vm::pageout
