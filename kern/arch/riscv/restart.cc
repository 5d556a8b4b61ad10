#include "kern/arch/riscv/restart.h"

#include "kern/console/panic.h"

#include <atomic>

extern "C" lib::RestartRange _restart_table_start[], _restart_table_end[];
extern "C" char _text_start[];

namespace kern::restart {

namespace {

std::atomic<uint64_t> g_restarts {0};
// 2 KiB: 64-byte blocks of the first 1 MiB of kernel text (linker.ld puts
// .text first, and init() panics if a sequence lies beyond).
lib::RestartFilter<256> g_filter;

size_t count() { return static_cast<size_t>(_restart_table_end - _restart_table_start); }

} // namespace

void init()
{
    lib::RestartTableError e = lib::restart_table_sort(_restart_table_start, count());
    if (e != lib::RestartTableError::None)
        panic("restartable sequences: the kernel's table is malformed (%s)",
              e == lib::RestartTableError::Overlap ? "two sequences overlap" : "a sequence ends before it begins");
    if (!g_filter.build(_restart_table_start, count(), reinterpret_cast<uintptr_t>(_text_start)))
        panic("restartable sequences: one lies past the first %zu KiB of kernel text (kern/arch/riscv/restart.cc)",
              g_filter.SPAN / 1024);
}

void on_interrupt(TrapFrame& tf)
{
    // Nearly every interrupt arrives in a block of text with no sequence.
    if (!g_filter.maybe(tf.sepc)) [[likely]]
        return;
    if (uintptr_t begin = lib::restart_table_find(_restart_table_start, count(), tf.sepc)) {
        tf.sepc = begin;
        g_restarts.fetch_add(1, std::memory_order_relaxed);
    }
}

uint64_t restarts() { return g_restarts.load(std::memory_order_relaxed); }
size_t sequences() { return count(); }
lib::RestartRange sequence(size_t i) { return _restart_table_start[i]; }

} // namespace kern::restart
