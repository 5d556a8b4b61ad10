// The pagedaemon: the kernel thread that keeps memory from running out.
//
// Woken when free pages fall below free_min or an allocation fails (and once a
// second regardless), it: trims the kernel-stack cache, refills the
// allocators' reserves, and, still short, takes back unused stack pages from
// idle threads (kstack/shrink.h), then swaps out kernel stacks of idle
// threads (kstack/swap.h) until free_target. Once a second it also polls the
// zones (slab release with hysteresis) and, in test boots, checks the
// stack-hold rule.
//
// The emergency pager is a second thread that watches the first: when free
// pages have stayed below free_min for EMERGENCY_STALL_US without the
// pagedaemon making progress (stuck in I/O, or paused), it swaps out itself,
// taking any sleeping thread whose stack holds nothing, however briefly it has
// slept. DragonFly has the same arrangement.
#pragma once

#include <cstdint>

namespace vm::pageout {

constexpr uint64_t EMERGENCY_STALL_US = 2000000;

void start();
// Wake it: an allocation failed, free pages fell below free_min, or a zone
// used its reserve. Safe from any context (interrupts off, locks held).
void wake();

// Tests that count pages exactly hold the daemon still meanwhile (its
// periodic poll gives slabs back). Nesting counts. The emergency pager
// still runs when memory stays short.
void pause();
void resume();

struct Stats {
    unsigned long wakeups;
    unsigned long replenishes;
    unsigned long polls;
    unsigned long swap_passes;      // passes that tried to swap stacks out
    unsigned long emergency_passes; // passes the emergency pager ran
    unsigned long progress;         // pages the pagedaemon freed, in total
    unsigned long stack_pages_given_back; // unused stack pages taken from idle threads
};
Stats stats();

} // namespace vm::pageout
