// TLB maintenance for kernel mappings.
//
// Kernel mappings are global (PTE G bit), so every hart may cache them. Making
// a mapping more permissive (a new page where there was none) needs nothing
// remote: a hart that faults on a stale "not present" entry re-walks. Taking
// one away (unmap, remap elsewhere, fewer permissions) needs the entry gone on
// every hart before the page is reused: a shootdown, through SBI RFENCE.
// Shootdowns are batched: a Batch collects addresses and flushes them all in
// one remote call (one address range per call, or a full flush when the batch
// overflows or is scattered).
#pragma once

#include <cstddef>
#include <cstdint>

namespace vm::tlb {

inline void flush_local(uintptr_t va) { asm volatile("sfence.vma %0, zero" ::"r"(va) : "memory"); }
inline void flush_local_all() { asm volatile("sfence.vma zero, zero" ::: "memory"); }

// Flush [va, va + npages pages) on every online hart, this one included.
void shootdown(uintptr_t va, size_t npages);
void shootdown_all();

class Batch {
public:
    Batch() = default;
    ~Batch() { flush(); }
    Batch(const Batch&) = delete;
    Batch& operator=(const Batch&) = delete;

    void add(uintptr_t va);
    void flush();

private:
    static constexpr unsigned MAX = 32;
    uintptr_t va_[MAX];
    unsigned n_ = 0;
    bool overflowed_ = false;
};

struct Stats {
    uint64_t shootdowns;    // remote calls made
    uint64_t pages;         // pages named in them
    uint64_t full_flushes;  // batches that fell back to a full flush
};
Stats stats();

} // namespace vm::tlb
