// kmalloc_obj: one zone per object type, on 32 KiB size-aligned slabs (slab.h),
// with a reserve of fully free slabs that makes the paging path's allocations
// independent of free pages.
//
// Per hart: an active and an alternate slab. Per zone, lists named for what the
// slabs hold (never DragonFly's inverted "full"/"empty"):
//   partial_   some objects free, some in use     (preferred: limits fragmentation)
//   free_      every object free                  (DragonFly: "full")
//   exhausted_ no object free when last looked at (DragonFly: "empty")
//   reserve_   every object free, kept apart for callers with M_USE_INTERRUPT_RESERVE
//
// Allocation fast path (inline, hart_cache.h): interrupts off, pop the hart's
// list of free objects (any slab of the zone, linked through word 0). No lock, no
// atomic read-modify-write. A miss refills the list with up to `burst` objects
// popped from the active slab's free stack (cap: min(64, objects per slab)).
// Debug mode keeps the list empty: every allocation pops the slab's free stack
// and sets the object's bit in the slab's allocated bitmap (one atomic fetch_or).
// When the active slab is empty: take the remote frees of the active slab, then of the alternate (swap),
// then under the zone lock a partial slab, an exhausted slab that has collected
// remote frees, or a free slab. Only when the zone has nothing does it need a new
// slab, and then the caller's flags decide (reserve.cc):
//   1. a non-blocking page-run allocation, class Normal, or System for callers
//      with M_USE_RESERVE or M_USE_INTERRUPT_RESERVE;
//   2. if that fails and the caller has M_USE_INTERRUPT_RESERVE: a reserve slab,
//      and the zone is queued for background replenishment;
//   3. with M_USE_INTERRUPT_RESERVE and the reserve empty: non-blocking pages of
//      class Interrupt (may take the last free pages);
//   4. if the caller may block (M_WAITOK): a blocking allocation;
//   5. otherwise failure: nullptr, or a panic for M_WAITOK without M_NULLOK
//      (flags.h: the backend only fails a blocking call when it cannot wait).
// Step 2 comes before step 3 on purpose (the design sketch had them the other
// way round): the slab reserve is there so the paging path needs no pages, and
// taking it first leaves the page reserve to what only pages can do, like
// refilling a zalloc interrupt zone.
// After taking a new slab the zone tops its reserve up with one non-blocking
// Normal-class allocation, or, if the reserve is empty and the caller may block,
// a blocking one; if it is still short the zone is queued for replenish_all().
//
// Free path, lock-free: push the object on the hart's list (interrupts off, no
// atomics). When the list is full, the object and half the list go back to their
// slabs (and in debug mode every free does, after the checks): if an object's
// slab (found by masking) is this hart's active or alternate slab, push its
// index on the slab's free stack (only this hart touches that stack). Otherwise
// push the object on the slab's remote-free stack with one CAS. Slabs never move
// between lists on free; poll() reclassifies them. Objects on a hart's list count
// as free in the statistics but keep their slab from being free (so from being
// released): at most cap objects per hart and zone; poll() returns the calling
// hart's list to the slabs first.
//
// THE GUARANTEE. Let N be the zone's reserve target (default 3) and P its objects
// per slab. With zero free pages and the page reserve intact, a caller with
// M_USE_INTERRUPT_RESERVE (the paging path: M_INTNOWAIT / M_INTWAIT) can make
//        K = N x P
// allocations from a zone whose reserve is full, without blocking and without
// taking a single page (the page reserve stays intact); after that it may use
// the page reserve itself, and with no page at all the (K+1)-th allocation fails
// cleanly if nothing was freed. Callers without
// that flag never see a reserve slab. replenish() restores the reserve as soon
// as pages are back. Declare zones with an ObjZoneSpec and static_assert their K
// next to the declaration; tests assert it (zalloc_exhaustion_test.cc).
//
// Type stability: a slab is returned to the backend only by poll(), only after
// it has been fully free for `hold_polls` consecutive polls with more than
// `keep_free_hi` free slabs (hysteresis: released down to `keep_free_lo`), and
// only when no ReadGuard is open on the zone. Code that reads objects of a zone
// without holding a reference (lockless lookups that revalidate) does so inside
// a ReadGuard and unlinks objects from its structures before freeing them; then a
// pointer it holds always points at memory of this type.
#pragma once

#include "kern/seam/cpu.h"
#include "kern/sync/spinlock.h"
#include "lib/list.h"
#include "zalloc/backend.h"
#include "zalloc/counter.h"
#include "lib/string.h"
#include "zalloc/flags.h"
#include "zalloc/hart_cache.h"
#include "zalloc/registry.h"
#include "zalloc/slab.h"

#include <atomic>
#include <cstddef>
#include <cstdint>

namespace zalloc {

struct ObjZoneConfig {
    uint32_t reserve_slabs = 3; // N: fully free slabs kept for the paging path
    uint32_t keep_free_hi = 4;  // release starts above this many free slabs...
    uint32_t keep_free_lo = 2;  // ...and goes down to this many
    uint32_t hold_polls = 2;    // ...after this many consecutive polls above hi
    size_t max_slabs = 0;       // all slabs, reserve included; 0: unlimited
};

// A zone's declaration. Write `static_assert(SPEC.k() == ...)` beside it.
struct ObjZoneSpec {
    const char* name;
    size_t size;
    ObjZoneConfig cfg = {};
    [[nodiscard]] constexpr size_t objs_per_slab() const { return objects_per_slab(size); }
    [[nodiscard]] constexpr size_t k() const { return cfg.reserve_slabs * objs_per_slab(); }
};

// Statically allocated slabs for zones needed before the page allocator:
// ZALLOC_STATIC_SLABS(g_foo_slabs, 3); ... zone.add_static_slabs(g_foo_slabs, 3);
#define ZALLOC_STATIC_SLABS(var, n) alignas(::zalloc::SLAB_SIZE) static unsigned char var[n][::zalloc::SLAB_SIZE]

class ObjZone final : public ZoneBase {
public:
    constexpr ObjZone() = default;
    ObjZone(const ObjZone&) = delete;
    ObjZone& operator=(const ObjZone&) = delete;

    // Set up, register, and fill the reserve: first from `nstatic` statically
    // allocated slabs (ZALLOC_STATIC_SLABS, for zones needed before the page
    // allocator), then with non-blocking allocations, queued for replenish_all()
    // if pages are short (the backend may fail every call this early in boot).
    void init(const ObjZoneSpec& spec, Backend& backend, void* static_slabs = nullptr, size_t nstatic = 0);
    // Hand the zone more statically allocated, SLAB_SIZE-aligned slabs.
    void add_static_slabs(void* mem, size_t n);
    // Return every slab to the backend and unregister; all objects must be free.
    void destroy();

    // The fast paths (hart_cache.h); the caller's address is taken only on the
    // slow path, which debug mode always takes.
    [[nodiscard]] __attribute__((always_inline)) void* alloc(MFlags flags) { return alloc_from(flags, nullptr); }
    __attribute__((always_inline)) void free(void* p) { free_from(p, nullptr); }
    // For wrappers (kmalloc) that pass their own caller through (nullptr: the
    // slow path names its own caller).
    [[nodiscard]] __attribute__((always_inline)) void* alloc_from(MFlags flags, void* caller)
    {
        void* p = caches_.pop();
        if (!p) [[unlikely]]
            return alloc_slow(flags, caller);
        if (flags.has(MFlag::Zero))
            memset(p, 0, obj_size_);
        return p;
    }
    __attribute__((always_inline)) void free_from(void* p, void* caller)
    {
        if (p && !caches_.push(p)) [[unlikely]]
            free_slow(p, caller);
    }

    // The bare fast paths for wrappers with accounting of their own (kmalloc):
    // `then` runs in the same interrupt section, only on success. No M_ZERO; a
    // nullptr or false says take the slow path (alloc_from, free_from).
    template <typename Then>
    [[nodiscard]] __attribute__((always_inline)) void* alloc_fast(Then then)
    {
        return caches_.pop(then);
    }
    template <typename Then>
    [[nodiscard]] __attribute__((always_inline)) bool free_fast(void* p, Then then)
    {
        return caches_.push(p, then);
    }

    [[nodiscard]] size_t object_size() const { return obj_size_; }
    [[nodiscard]] size_t objs_per_slab() const { return nobjs_; }
    [[nodiscard]] size_t k_guarantee() const { return size_t(reserve_target_) * nobjs_; }
    [[nodiscard]] size_t reserve_count();

    void snapshot(ZoneStats& out) override;
    bool replenish() override;
    void poll() override;

    // Open while reading objects of this zone without a reference (see above).
    class [[nodiscard]] ReadGuard {
    public:
        explicit ReadGuard(ObjZone& z) : z_(z) { z_.readers_.fetch_add(1, std::memory_order_seq_cst); }
        ~ReadGuard() { z_.readers_.fetch_sub(1, std::memory_order_release); }
        ReadGuard(const ReadGuard&) = delete;
        ReadGuard& operator=(const ReadGuard&) = delete;

    private:
        ObjZone& z_;
    };

private:
    struct alignas(64) HartSlabs {
        Slab* active = nullptr;
        Slab* alternate = nullptr;
        // Written only by the owning hart with interrupts off; read by snapshot().
        // used = sum(taken - given - cached).
        OwnerCounter<uint64_t> taken; // objects this hart popped from slabs
        OwnerCounter<uint64_t> given; // objects this hart returned to slabs
    };
    using SlabList = lib::List<Slab, &Slab::node>;

    static void* pop(Slab* s) { return s->at(s->stack()[--s->nfree]); }
    static void drain_remote(Slab* s);

    [[gnu::noinline]] void* alloc_slow(MFlags flags, void* caller);
    [[gnu::noinline]] void free_slow(void* p, void* caller);
    void* alloc_cached(HartSlabs& h);  // interrupts off
    void refill(HartSlabs& h, HartHot& hot); // interrupts off
    void give_back(HartSlabs& h, void* p);   // interrupts off
    void flush_list(HartSlabs& h, HartHot& hot, uint32_t n); // interrupts off
    void* finish_alloc(void* p, MFlags flags, void* caller);
    Slab* take_from_lists_locked();
    void install_locked(HartSlabs& h, Slab* s);
    void classify_locked(Slab* s);
    Slab* format_slab(void* mem, bool is_static);
    Slab* new_slab(MFlags flags, bool& from_reserve); // interrupts on, no lock
    bool at_limit() const;
    void maintain_reserve(MFlags flags);
    void add_reserve(Slab* s);
    void release_slab(Slab* s);
    void* fail(MFlags flags, void* caller, const char* why);
    void check_alloc(void* p, void* caller);
    void check_free(Slab* s, void* p, void* caller);
    [[noreturn]] void foreign(const void* p, void* caller, const char* why);

    ksync::SpinLock lock_ {"kmalloc_obj-zone"};
    uint32_t obj_size_ = 0;
    uint32_t nobjs_ = 0;
    uint32_t objs_offset_ = 0;
    uint32_t bitmap_offset_ = 0;
    uint32_t reserve_target_ = 3;
    uint32_t cache_cap_ = 0; // per-hart list (0 in debug mode)
    uint32_t burst_ = 1;
    ObjZoneConfig cfg_ {};
    bool debug_ = false;
    bool initialized_ = false;

    // Under lock_.
    SlabList partial_;
    SlabList free_;
    SlabList exhausted_;
    SlabList reserve_;
    uint32_t excess_polls_ = 0;

    std::atomic<size_t> nslabs_ {0}; // every slab the zone holds, reserve included
    std::atomic<uint64_t> slabs_allocated_ {0};
    std::atomic<uint64_t> slabs_released_ {0};
    std::atomic<uint64_t> failures_ {0};
    std::atomic<uint64_t> reserve_takes_ {0};
    std::atomic<uint32_t> readers_ {0};
    HartSlabs harts_[cpu::MAX_HARTS];
    HartCaches caches_;
};

} // namespace zalloc
