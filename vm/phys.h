// The physical page allocator: buddy free lists over a page array, per-hart
// caches of single pages, and three allocation classes that protect a reserve
// for the paging path (DragonFly's vm_page_alloc rules):
//
//   Normal     succeeds only while it leaves at least free_reserved pages free
//   System     (the pagedaemon, system threads) down to interrupt_min
//   Interrupt  may take the last free page
//
// The free count covers the buddy lists plus every hart's cache, and a caller
// claims its pages from that count with a compare-and-swap, checked against its
// class's floor, before it takes a page from anywhere. So no interleaving of
// harts and no cache lets a Normal caller into the reserve.
//
// Never sleeps; callers that may wait do so in vm/kmem.cc (the hooks wake them).
// Hardware-free: the page array is storage the caller provides, pages are
// physical addresses, and the pages' memory is never touched.
//
// Locks: a hart's cache lock, then the global buddy lock (never the reverse).
// The cache lock is the owner's in practice (uncontended); other harts take it
// only on the slow path, when the count says pages exist but only other harts'
// caches hold them: with 8 harts x 64 pages, stranded cached pages would
// otherwise exceed the whole reserve.
#pragma once

#include "kern/seam/cpu.h"
#include "kern/sync/spinlock.h"
#include "lib/result.h"
#include "vm/page.h"
#include "vm/watermarks.h"

#include <atomic>
#include <cstddef>
#include <cstdint>

namespace vm {

enum class PageClass : uint8_t { Normal, System, Interrupt };
constexpr unsigned NUM_PAGE_CLASSES = 3;

struct PhysRange {
    PhysAddr base;
    uint64_t size;
    [[nodiscard]] PhysAddr end() const { return base + size; }
};

class PhysAllocator {
public:
    static constexpr unsigned MAX_ORDER = 10;   // runs of up to 1024 pages (4 MiB)
    static constexpr unsigned CACHE_MAX = 64;   // single pages per hart cache
    static constexpr unsigned CACHE_BATCH = 16; // refilled / drained at a time

    // Storage init() needs for a page array of npages records.
    static size_t page_array_bytes(uint64_t npages) { return npages * sizeof(Page); }
    // ... for one covering [lowest, highest).
    static size_t page_array_bytes(PhysAddr lowest, PhysAddr highest)
    {
        return page_array_bytes((highest - lowest) / PAGE_SIZE);
    }

    // `pages` covers every page from ranges[0].base to the last range's end
    // (page_array_bytes of that span). Ranges: usable RAM, sorted, page aligned,
    // not overlapping; the gaps between them become holes.
    void init(Page* pages, const PhysRange* ranges, size_t nranges);

    // One page; never blocks.
    [[nodiscard]] lib::Result<PhysAddr> alloc(PageClass cls);
    // 2^order physically contiguous pages aligned to their size; order <= MAX_ORDER.
    [[nodiscard]] lib::Result<PhysAddr> alloc_run(unsigned order, PageClass cls);
    // Panics (naming the address) on a double free, an address not managed
    // here, a page inside a run, or a run freed with another order.
    void free(PhysAddr pa);
    void free_run(PhysAddr pa, unsigned order);
    // free() of each of pa[0..n), this hart's cache lock taken once for all.
    void free_batch(const PhysAddr* pa, size_t n);

    // Free pages, including those in per-hart caches.
    [[nodiscard]] uint64_t free_pages() const { return free_.load(std::memory_order_relaxed); }
    [[nodiscard]] uint64_t total_pages() const { return total_; }
    [[nodiscard]] const Watermarks& watermarks() const { return wm_; }
    // free < free_min: the pagedaemon should run.
    [[nodiscard]] bool below_min() const { return free_pages() < wm_.free_min; }
    // The record of a managed page, nullptr for anything else.
    [[nodiscard]] Page* page(PhysAddr pa);
    // Pages currently in hart h's cache (a snapshot: exact when that hart is idle).
    [[nodiscard]] unsigned cached_on(unsigned hart) const;
    // Send every hart's cached pages back to the buddy lists (low memory, or
    // before a large run is wanted).
    void drain_caches();

    struct Stats {
        uint64_t total, free, cached;
        uint64_t allocs[NUM_PAGE_CLASSES], failures[NUM_PAGE_CLASSES];
        uint64_t cache_hits, cache_misses;
        uint64_t frees, runs_free[MAX_ORDER + 1]; // buddy blocks free per order
    };
    [[nodiscard]] Stats stats() const;

    // wake_pageout: an allocation failed, or free fell below free_min.
    // pages_freed: pages came back while free was below free_target (wake
    // sleepers waiting for memory).
    // Both are called with no lock of this allocator held; nullptr = no-op.
    void set_hooks(void (*wake_pageout)(), void (*pages_freed)())
    {
        wake_pageout_ = wake_pageout;
        pages_freed_ = pages_freed;
    }

private:
    static constexpr uint32_t NONE = Page::NONE;

    struct alignas(64) HartCache {
        ksync::SpinLock lock {"page-cache"};
        unsigned n = 0;
        PhysAddr pages[CACHE_MAX];
    };

    // A page's state is written under lock_ (buddy lists) or under a hart's
    // cache lock (Cached <-> Allocated), and the buddy merge reads neighbours'
    // states: single-byte relaxed atomics make those reads well defined.
    static PageState state_of(const Page& p)
    {
        return static_cast<PageState>(__atomic_load_n(reinterpret_cast<const uint8_t*>(&p.state), __ATOMIC_RELAXED));
    }
    static void set_state(Page& p, PageState s)
    {
        __atomic_store_n(reinterpret_cast<uint8_t*>(&p.state), static_cast<uint8_t>(s), __ATOMIC_RELAXED);
    }

    [[nodiscard]] uint64_t floor_for(PageClass c) const;
    [[nodiscard]] bool claim(uint64_t n, PageClass c);
    void unclaim(uint64_t n) { free_.fetch_add(n, std::memory_order_acq_rel); }
    [[nodiscard]] bool managed_index(PhysAddr pa, uint32_t& out) const;
    [[nodiscard]] uint32_t index_of(PhysAddr pa) const { return static_cast<uint32_t>((pa - base_) / PAGE_SIZE); }
    [[nodiscard]] PhysAddr addr_of(uint32_t i) const { return base_ + uint64_t(i) * PAGE_SIZE; }

    // Buddy lists, under lock_.
    void push_locked(uint32_t i, unsigned order);
    void unlink_locked(uint32_t i, unsigned order);
    [[nodiscard]] bool take_locked(unsigned order, uint32_t& out);
    void give_locked(uint32_t i, unsigned order);

    [[nodiscard]] bool take_one(PhysAddr& out);
    [[nodiscard]] bool steal_cached(PhysAddr& out);
    void drain_locked(HartCache& c, unsigned keep); // c.lock held
    void check_free(PhysAddr pa, unsigned order, const char* what) const;
    void failed(PageClass c);
    void after_alloc();
    void after_free(uint64_t free_before, size_t n = 1);

    ksync::SpinLock lock_ {"phys"};
    Page* pages_ = nullptr;
    PhysAddr base_ = 0;
    uint32_t npages_ = 0;
    uint64_t total_ = 0;
    uint32_t heads_[MAX_ORDER + 1] = {};
    uint64_t nfree_[MAX_ORDER + 1] = {}; // blocks per order, under lock_
    Watermarks wm_ {};
    std::atomic<uint64_t> free_ {0};
    std::atomic<uint64_t> cached_ {0};
    std::atomic<uint64_t> allocs_[NUM_PAGE_CLASSES] = {}, failures_[NUM_PAGE_CLASSES] = {};
    std::atomic<uint64_t> cache_hits_ {0}, cache_misses_ {0}, frees_ {0};
    HartCache caches_[cpu::MAX_HARTS];
    void (*wake_pageout_)() = nullptr;
    void (*pages_freed_)() = nullptr;
};

} // namespace vm
