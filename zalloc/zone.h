// zalloc: zones of fixed-size, type-stable items, grown one page at a time.
//
// For the structures the paging path itself needs (swap metadata, PV entries,
// map entries): an allocation must succeed with almost no free memory.
//
// Layout. Items have no header. Sizes round up to a multiple of 16 bytes (at
// least 16): 16 keeps every item aligned for any kernel type (max_align_t) and
// leaves room for the two words a free item uses, the free-list link (word 0) and,
// in debug mode, a free marker (word 1). Each page ends in a 32-byte trailer
// naming its zone, which lets debug mode reject foreign pointers and lets
// destroy() find the pages; items fill the rest: (4096 - 32) / size per page.
// Memory of a zone is never given back or retyped (type stability): a stale
// pointer to a freed item still points at an item of the same type.
//
// Per-hart caches (hart_cache.h). alloc() and free() are inline: they pop or
// push the hart's list with interrupts off, no lock, no atomic read-modify-write.
// A miss takes the zone lock and moves a burst (32) of items to the hart. free()
// pushes while the cache holds fewer than its cap (max(64, limit / harts / 16),
// at most HART_CACHE_MAX), else returns the item and half the cache to the zone.
// Debug mode keeps the fast lists empty; the slow paths then run every call,
// check it, and keep the hart's items on a second per-hart list (same cap).
//
// The progress guarantee (DragonFly's, kept exactly):
//   - the zone holds back zfreemin items (one page's worth, or
//     ZoneConfig::reserve_items): a miss takes from the zone's free list only
//     above that mark; at or below it the zone first grows until the list is
//     above the mark again (the new pages refill the held-back items before
//     anyone takes a burst) and dips into the held-back items, one at a time,
//     only if no page could be had (and queues itself for replenishment).
//     Items in per-hart caches are not part of the reserve: a hart at zero
//     free memory cannot reach another hart's cache, only the zone's list.
//     So while the held-back items are short, frees refill them: the zone
//     turns its hart caches' bypass on (hart_cache.h: the fast paths miss,
//     at no cost to them when it is off), and free_slow() sends each item to
//     the zone's list instead of the hart's cache until the mark is reached
//     again; an item dipped on one hart and freed on any is held back again
//     for every hart;
//   - an "interrupt" zone reserves its whole VA range, with page tables, when it
//     is created (Backend::reserve_va), so growing needs exactly one physical page
//     and nothing else. With the page class of M_USE_INTERRUPT_RESERVE that page
//     may be the last free one: ONE FREED PAGE_SIZE ALWAYS SUFFICES TO REFILL A STUCK
//     INTERRUPT ZONE. Interrupt zones never sleep to grow, whatever the flags;
//   - boot zones are seeded from static, page-aligned arrays (boot_seed) before
//     the page allocator exists.
// Tests: test/host/zalloc_zone_test.cc, zalloc_exhaustion_test.cc.
#pragma once

#include "kern/seam/cpu.h"
#include "kern/sync/spinlock.h"
#include "zalloc/backend.h"
#include "zalloc/counter.h"
#include "lib/string.h"
#include "zalloc/flags.h"
#include "zalloc/hart_cache.h"
#include "zalloc/registry.h"

#include <atomic>
#include <cstddef>
#include <cstdint>

namespace zalloc {

struct ZoneConfig {
    size_t max_items = 0;  // 0: unlimited (not allowed for interrupt zones)
    bool interrupt = false;
    uint32_t burst = 32;   // items moved to a hart per miss
    uint32_t cache_cap = 0; // 0: max(64, max_items / harts / 16)
    // Items held back for allocations that find no page (zfreemin): at least
    // one page's worth. A zone the paging path needs in bulk at zero free
    // memory (swap metadata for a whole swap-out wave) holds back more, and
    // fills them at boot with replenish().
    size_t reserve_items = 0;
};

class Zone final : public ZoneBase {
public:
    static constexpr size_t ITEM_ALIGN = 16;
    static constexpr size_t TRAILER_SIZE = 32;
    static constexpr size_t PAGE_ITEM_BYTES = PAGE_SIZE - TRAILER_SIZE;

    [[nodiscard]] static constexpr size_t round_size(size_t size)
    {
        size_t s = (size + ITEM_ALIGN - 1) & ~(ITEM_ALIGN - 1);
        return s < ITEM_ALIGN ? ITEM_ALIGN : s;
    }
    [[nodiscard]] static constexpr size_t items_per_page(size_t size) { return PAGE_ITEM_BYTES / round_size(size); }

    constexpr Zone() = default;
    Zone(const Zone&) = delete;
    Zone& operator=(const Zone&) = delete;

    // Set the zone up and register it. An interrupt zone reserves its VA now and
    // panics if it cannot (interrupt zones are created at boot).
    void init(const char* name, size_t item_size, Backend& backend, const ZoneConfig& cfg = {});
    // zbootinit: add a static, page-aligned array of whole pages to the zone.
    // init() touches no page (except for interrupt zones), so a boot zone is
    // init()ed and seeded before the page allocator exists. Boot pages are
    // never freed.
    void boot_seed(void* mem, size_t bytes);
    // Return every page to the backend and unregister. Every item must be free
    // (tests; type-stable zones are normally never destroyed).
    void destroy();

    // The fast paths (hart_cache.h); the caller's address is taken only on the
    // slow path, which debug mode always takes.
    [[nodiscard]] __attribute__((always_inline)) void* alloc(MFlags flags)
    {
        void* item = caches_.pop();
        if (!item) [[unlikely]]
            return alloc_slow(flags, nullptr);
        if (flags.has(MFlag::Zero))
            memset(item, 0, size_);
        return item;
    }
    __attribute__((always_inline)) void free(void* item)
    {
        if (item && !caches_.push(item)) [[unlikely]]
            free_slow(item, nullptr);
    }

    [[nodiscard]] size_t item_size() const { return size_; }
    [[nodiscard]] size_t zfreemin() const { return zfreemin_; }
    [[nodiscard]] uint64_t dips() const { return dips_.load(std::memory_order_relaxed); }

    void snapshot(ZoneStats& out) override;
    bool replenish() override;

private:
    struct PageTrailer {
        uint64_t magic;
        Zone* zone;
        PageTrailer* next; // every page of the zone, for destroy()
        uint32_t flags;
        uint32_t nitems;
    };
    static_assert(sizeof(PageTrailer) == TRAILER_SIZE);
    static constexpr uint64_t TRAILER_MAGIC = 0x7a616c6c6f635047ull; // "zallocPG"
    static constexpr uint32_t PAGE_BOOT = 1;
    static constexpr uint64_t FREE_MARK = 0x46524545f7ee17e5ull;

    // The cold per-hart part: written only by the owning hart with interrupts
    // off (slow paths); read by snapshot(). used = sum(taken - given - cached).
    struct alignas(64) HartCold {
        OwnerCounter<uint64_t> taken; // items moved from the zone to this hart
        OwnerCounter<uint64_t> given; // items moved from this hart to the zone
        void* dhead = nullptr;        // debug mode: this hart's cache
        OwnerCounter<uint32_t> dcount;
    };

    static PageTrailer* trailer_of(void* page)
    {
        return reinterpret_cast<PageTrailer*>(static_cast<char*>(page) + PAGE_ITEM_BYTES);
    }
    uint64_t free_mark(const void* item) const { return FREE_MARK ^ reinterpret_cast<uintptr_t>(item); }

    [[gnu::noinline]] void* alloc_slow(MFlags flags, void* caller);
    [[gnu::noinline]] void free_slow(void* item, void* caller);
    void* take_burst_locked(unsigned hart, size_t n);
    void* finish_alloc(void* item, MFlags flags, void* caller);
    void* grow_page(MFlags flags);           // no lock held; returns the page or nullptr
    bool grow_above_mark(MFlags flags);      // no lock held; pages until free > zfreemin
    void add_page_locked(void* page, uint32_t page_flags);
    bool add_page_checked(void* page);
    void push_global_locked(void* item);
    // No room for another page: the zone cannot grow, so it holds nothing back.
    [[nodiscard]] bool at_limit_locked() const { return max_items_ && total_items_ + per_page_ > max_items_; }
    void mark_free(void* item);
    void check_on_alloc(void* item, void* caller);
    void check_on_free(void* item, void* caller);
    void* fail(MFlags flags, void* caller, const char* why);

    ksync::SpinLock lock_ {"zalloc-zone"};
    size_t size_ = 0;
    size_t per_page_ = 0;
    size_t zfreemin_ = 0;
    size_t max_items_ = 0;
    uint32_t burst_ = 32;
    uint32_t cache_cap_ = 64;
    bool interrupt_ = false;
    bool debug_ = false;
    bool initialized_ = false;

    // Under lock_.
    void* global_head_ = nullptr;
    size_t global_free_ = 0;
    size_t total_items_ = 0;
    size_t pages_ = 0;
    PageTrailer* pages_head_ = nullptr;
    char* va_base_ = nullptr; // interrupt zones: the reserved range
    size_t va_pages_ = 0;
    size_t va_next_ = 0;      // next unmapped page of the range

    std::atomic<uint64_t> failures_ {0};
    std::atomic<uint64_t> dips_ {0}; // allocations served from the held-back items
    HartCold cold_[cpu::MAX_HARTS];
    HartCaches caches_;
};

} // namespace zalloc
