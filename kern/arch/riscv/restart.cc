#include "kern/arch/riscv/restart.h"

#include "kern/console/panic.h"
#include "lib/restart_table.h"

#include <atomic>

extern "C" lib::RestartRange _restart_table_start[], _restart_table_end[];

namespace kern::restart {

namespace {

std::atomic<uint64_t> g_restarts {0};

size_t count() { return static_cast<size_t>(_restart_table_end - _restart_table_start); }

} // namespace

void init()
{
    lib::RestartTableError e = lib::restart_table_sort(_restart_table_start, count());
    if (e != lib::RestartTableError::None)
        panic("restartable sequences: the kernel's table is malformed (%s)",
              e == lib::RestartTableError::Overlap ? "two sequences overlap" : "a sequence ends before it begins");
}

void on_interrupt(TrapFrame& tf)
{
    // Most interrupts arrive outside every sequence: one test of the whole
    // table's span first.
    size_t n = count();
    if (n == 0 || tf.sepc < _restart_table_start[0].begin || tf.sepc > _restart_table_start[n - 1].commit)
        return;
    if (uintptr_t begin = lib::restart_table_find(_restart_table_start, n, tf.sepc)) {
        tf.sepc = begin;
        g_restarts.fetch_add(1, std::memory_order_relaxed);
    }
}

uint64_t restarts() { return g_restarts.load(std::memory_order_relaxed); }
size_t sequences() { return count(); }

} // namespace kern::restart
