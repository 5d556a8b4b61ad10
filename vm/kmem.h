// vm/: memory as pages and mappings: the physical page allocator with its
// reserve classes and watermarks, Sv39 page tables, the kernel VA layout and
// arena, user address spaces and copies, TLB shootdown, the pagedaemon and
// swap space. The page, table and arena logic is hardware-free and host-tested;
// this header ties it to the machine. Files, rules and tests: vm/README.md.
//
// The kernel's memory, put together at boot: the physical page allocator over
// the device tree's usable RAM, the kernel page table (direct map, kernel
// image with W^X, devices, the kernel VA regions), paging on, and the zalloc
// backend the allocators run on. Everything the hardware-free vm/ pieces
// (phys, sv39, arena) need from the machine is supplied here.
#pragma once

#include "lib/page.h"
#include "lib/result.h"
#include "vm/arena.h"
#include "vm/phys.h"
#include "zalloc/backend.h"

#include <cstddef>
#include <cstdint>

namespace fdt {
struct MachineInfo;
}
namespace ksync {
class WaitQueue;
}

namespace vm::kmem {


enum class Class : uint8_t { Normal, System, Interrupt };
enum class Perm : uint8_t { Read, ReadWrite };

// Boot hart: pages, page tables, paging on. Secondaries: load the same table.
void init(const fdt::MachineInfo& m);
void init_secondary();
[[nodiscard]] bool paging_on();
// The kernel's own satp (kernel threads run on it; ASID 0).
uint64_t kernel_satp();
// Copy the kernel's root table (512 entries) into a new root: a user address
// space starts from it (the kernel's root entries never change after boot).
void copy_kernel_root(uint64_t* dst);

// How a page allocation may wait when no page is free.
//   No       fail at once (NoMemory).
//   Forever  sleep until pages are freed: kernel work that must not fail.
//   Bounded  sleep until `deadline_us` (timer::now_us() time; 0: now plus
//            memwait_us()), then NoMemory; on a user task's thread a kill of
//            its task ends the wait at once (NoMemory). Work done for a user
//            task waits this way, so no system call waits for memory forever.
enum class Wait : uint8_t { No, Forever, Bounded };

// Physical pages.
[[nodiscard]] lib::Result<uint64_t> alloc_page(Class c, Wait w, uint64_t deadline_us = 0);
// The form the zalloc backend and kstack use: may_block false is Wait::No;
// true is Wait::Bounded on a user task's thread (in a system call: its
// threads run kernel code nowhere else) and Wait::Forever on a kernel thread.
[[nodiscard]] lib::Result<uint64_t> alloc_page(Class c, bool may_block);
void free_page(uint64_t pa);
// free_page() of each of pa[0..n), with one lock round trip for them all.
void free_page_batch(const uint64_t* pa, size_t n);
uint64_t free_pages();
uint64_t total_pages();
void* phys_to_virt(uint64_t pa);
uint64_t virt_to_phys(const void* va);

// Kernel mappings outside the direct map (never executable).
[[nodiscard]] lib::Status map_page(uintptr_t va, uint64_t pa, Perm p);
// Removes the mapping and flushes this hart's TLB entry; returns the old
// physical address (0 if none). Remote harts: vm::tlb (the caller batches).
uint64_t unmap_page(uintptr_t va);
// Kernel-stack pages (inside vm::layout's stack region). That region's page
// tables are built a chunk at a time and never freed, and each stack's
// entries are written only by whoever holds the stack (its running owner
// growing it, or the pager holding its claim): so these take no lock and
// allocate nothing, which makes them safe in the stack-growth fault whatever
// locks the faulting code holds. No TLB flush: callers flush or batch.
[[nodiscard]] lib::Status map_stack_page(uintptr_t va, uint64_t pa);
uint64_t unmap_stack_page(uintptr_t va);
// unmap_stack_page() of the n pages from va on (one stack's), the tables
// walked once: pa[i] gets page i's old physical address.
void unmap_stack_pages(uintptr_t va, size_t n, uint64_t* pa);
// Build every page-table page for [va, va + len) now, so later map_page there
// never allocates.
[[nodiscard]] lib::Status populate(uintptr_t va, size_t len);
// The physical page mapped at va, 0 if none.
uint64_t lookup(uintptr_t va);

PhysAllocator& phys();
Arena& kva();

// The zalloc backend over all of the above.
zalloc::Backend& backend();
// A zone used its reserve since the last call (the pagedaemon replenishes).
[[nodiscard]] bool replenish_wanted();

// Once threads run: may-block allocations sleep until pages are freed.
// Reads bootarg memwait_ms (the bound of a Bounded wait; default 1000).
void init_waiting();
uint64_t memwait_us();
// How a Bounded wait learns of its task (kern/task/task.cc supplies these: vm/
// knows nothing of tasks). is_user: the current thread is a user task's.
// sleep: sleep on q at most timeout_us unless the current thread's task is
// ending, checked so that a kill cannot slip in between (the killer calls
// wake_memory_waiters() after marking the task); false if it is ending.
struct UserWaitHooks {
    bool (*is_user)();
    bool (*sleep)(ksync::WaitQueue& q, uint64_t timeout_us);
};
void set_user_wait_hooks(const UserWaitHooks& h);
// Every thread waiting for pages re-checks (a kill: its task's waits end).
void wake_memory_waiters();
// Bounded waits given up (timed out or killed), for tests and vmstat.
uint64_t memory_wait_failures();
// Called when an allocation fails or free pages fall below free_min.
void set_pageout_hook(void (*fn)());
uint64_t memory_waits();
// Total time may-block allocations spent waiting for pages, in microseconds.
uint64_t memory_wait_us();
bool lookup_flags(uintptr_t va, uint64_t& pa, uint64_t& flags);

} // namespace vm::kmem
