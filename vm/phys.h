// The physical page allocator: buddy free lists over a page array, per-hart
// page caches, and three allocation classes that protect a reserve for the
// paging path.
//
//   Normal     succeeds only while it leaves at least free_reserved pages free
//   System     (the paging path, system threads) down to interrupt_min
//   Interrupt  may take the last free page
//
// The free count (buddy lists plus every hart's cache) is claimed with a
// compare-and-swap before a page is taken, so no interleaving of harts lets a
// Normal caller take a page of the reserve, through a cache or not.
// The allocator never sleeps; callers that may wait do so in vm/kmem.cc.
// Hardware-free: the page array is storage the caller provides, pages are
// physical addresses, and the pages' memory is never touched.
#pragma once

#include "kern/cpu.h"
#include "kern/spinlock.h"
#include "lib/result.h"
#include "vm/page.h"
#include "vm/watermarks.h"

#include <atomic>
#include <cstddef>
#include <cstdint>

namespace vm {

enum class PageClass : uint8_t { Normal, System, Interrupt };

struct PhysRange {
    PhysAddr base;
    uint64_t size;
};

class PhysAllocator {
public:
    static constexpr unsigned MAX_ORDER = 10; // runs of up to 1024 pages (4 MiB)
    static constexpr unsigned CACHE_MAX = 64; // pages per hart cache
    static constexpr unsigned CACHE_BATCH = 16;

    // The page array starts at the lowest range's base rounded down to a
    // MAX_ORDER block, so that buddies are physically aligned to their size.
    static PhysAddr array_base(PhysAddr lowest) { return lowest & ~((PAGE_SIZE << MAX_ORDER) - 1); }
    static size_t page_array_bytes(PhysAddr lowest, PhysAddr highest)
    {
        return (highest - array_base(lowest)) / PAGE_SIZE * sizeof(Page);
    }

    // `pages` (page_array_bytes of storage) covers every page from
    // array_base(lowest) to the highest range's end; pages that are in no
    // range are holes.
    void init(Page* pages, const PhysRange* ranges, size_t nranges);

    [[nodiscard]] lib::Result<PhysAddr> alloc(PageClass cls);
    // 2^order physically contiguous pages aligned to their size.
    [[nodiscard]] lib::Result<PhysAddr> alloc_run(unsigned order, PageClass cls);
    void free(PhysAddr pa);
    void free_run(PhysAddr pa, unsigned order);

    [[nodiscard]] uint64_t free_pages() const { return free_.load(std::memory_order_relaxed); }
    [[nodiscard]] uint64_t total_pages() const { return total_; }
    [[nodiscard]] const Watermarks& watermarks() const { return wm_; }
    [[nodiscard]] bool below_min() const { return free_pages() < wm_.free_min; }
    // The record of a managed page, nullptr for anything else.
    [[nodiscard]] Page* page(PhysAddr pa);

    struct Stats {
        uint64_t total, free, cached;
        uint64_t allocs[3], failures[3];
        uint64_t cache_hits, cache_misses;
    };
    [[nodiscard]] Stats stats() const;

    // wake_pageout: an allocation failed or free fell below free_min.
    // pages_freed: pages came back while memory was low (wake the waiters).
    // Both are called with no lock of this allocator held.
    void set_hooks(void (*wake_pageout)(), void (*pages_freed)())
    {
        wake_pageout_ = wake_pageout;
        pages_freed_ = pages_freed;
    }

private:
    static constexpr uint32_t NONE = ~0u;

    struct alignas(64) HartCache {
        ksync::SpinLock lock {"page-cache"};
        PhysAddr pages[CACHE_MAX];
        unsigned n = 0;
    };

    [[nodiscard]] uint64_t floor_for(PageClass c) const;
    [[nodiscard]] bool claim(uint64_t n, PageClass c);
    void unclaim(uint64_t n);
    [[nodiscard]] uint32_t index_of(PhysAddr pa) const { return static_cast<uint32_t>((pa - base_) / PAGE_SIZE); }
    [[nodiscard]] PhysAddr addr_of(uint32_t i) const { return base_ + uint64_t(i) * PAGE_SIZE; }

    // Buddy lists, under lock_.
    void push_locked(uint32_t i, unsigned order);
    void remove_locked(uint32_t i, unsigned order);
    [[nodiscard]] bool take_locked(unsigned order, uint32_t& out);
    void give_locked(uint32_t i, unsigned order);
    // Take pages out of other harts' caches when the buddy lists are empty.
    [[nodiscard]] bool steal_cached(PhysAddr& out);
    void check_free(PhysAddr pa, unsigned order, const char* what);
    void after_alloc();
    void after_free(uint64_t free_before);

    ksync::SpinLock lock_ {"phys"};
    Page* pages_ = nullptr;
    PhysAddr base_ = 0;
    uint32_t npages_ = 0;
    uint64_t total_ = 0;
    uint32_t heads_[MAX_ORDER + 1] = {};
    Watermarks wm_ {};
    std::atomic<uint64_t> free_ {0};
    std::atomic<uint64_t> cached_ {0};
    std::atomic<uint64_t> allocs_[3] = {}, failures_[3] = {};
    std::atomic<uint64_t> cache_hits_ {0}, cache_misses_ {0};
    HartCache caches_[cpu::MAX_HARTS];
    void (*wake_pageout_)() = nullptr;
    void (*pages_freed_)() = nullptr;
};

} // namespace vm
