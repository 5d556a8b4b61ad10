// The list of every zone, for statistics, background reserve replenishment and
// the once-a-second poll.
//
// Lock order: the registry lock, then a zone's lock, then whatever the backend
// takes inside. Zones never take the registry lock while holding their own; they
// only set their "queued" flag and call Backend::request_replenish().
#pragma once

#include "lib/list.h"
#include "zalloc/stats.h"

#include <atomic>
#include <cstdint>

namespace zalloc {

class Backend;

class ZoneBase {
public:
    [[nodiscard]] const char* name() const { return name_; }

    // Statistics of this zone.
    virtual void snapshot(ZoneStats& out);
    // Bring the reserve back to its target with non-blocking allocations;
    // returns true if it is at target.
    virtual bool replenish();
    // Periodic housekeeping (kmalloc_obj: reclassify slabs, release surplus).
    virtual void poll();
    // Take a zone whose structures are known corrupt off the registry, leaking
    // its memory, so statistics and polls stop walking it (tests after an
    // expected panic; a debugger's last resort).
    void abandon() { unregister_self(); }

    lib::ListNode registry_node;

protected:
    constexpr ZoneBase() = default;
    ~ZoneBase() = default;

    void register_self();
    void unregister_self();
    // Mark this zone for replenish_all() and wake the replenisher.
    void queue_replenish();

    const char* name_ = "";
    Backend* backend_ = nullptr;
    std::atomic<uint32_t> replenish_queued_ {0}; // a word: rv64 has no byte AMOs
    bool registered_ = false;

    friend bool replenish_all();
};

// Called by the kernel's replenish thread (woken by Backend::request_replenish)
// or the paging daemon's loop: replenish every queued zone. Returns true when
// every reserve is at target.
bool replenish_all();
// Called about once a second: poll() every zone, read every malloc type
// (malloc_types_poll, kmalloc.h), then replenish_all().
void poll_all();
// Number of registered zones.
size_t zone_count();

} // namespace zalloc
