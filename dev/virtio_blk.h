// virtio-blk over virtio-mmio (legacy and modern), one split virtqueue per
// disk, interrupt-driven completion. Disks are named vda, vdb, ... in the
// device tree's slot order (lowest address first) and registered as
// dev::BlockDevice.
//
// A request is one descriptor chain: the 16-byte header (device-readable), the
// data split at page boundaries (a kernel buffer in KVA or on a stack is not
// physically contiguous; physically adjacent pages are merged), and the
// status byte (device-writable). A scatter-gather request's buffers follow
// one another in the chain, split and merged the same way (two buffers that
// happen to be physically adjacent share a descriptor). Requests that do not
// fit the free descriptors wait on a pending list and are issued, in order,
// as completions free descriptors: submit() never fails for being busy. A
// request needing more data segments than the device takes at once
// (max_segments()) or whose segment list is malformed (dev::data_shape_ok) is
// refused with Error::Invalid, a write to a read-only disk with
// Error::Unsupported, a buffer with an unmapped page with Error::Fault. A flush on a device without
// VIRTIO_BLK_F_FLUSH (write-through) completes at once, its callback called
// from submit().
//
// Completion runs in the interrupt handler (hart 0): the used ring is read
// under the device lock, each id checked against the requests in flight, and
// the callbacks are called after the lock is dropped. A device that
// misbehaves (a used index that runs ahead, an id not in flight, a status
// byte out of range) is reported; one that corrupts the ring is reset and
// every request it held fails with Error::IO.
#pragma once

#include "dev/block.h"
#include "dev/virtio_mmio.h"
#include "kern/sync/spinlock.h"
#include "lib/list.h"

#include <cstdint>

namespace dev {

struct VirtioBlkStats {
    uint64_t requests;     // accepted by submit
    uint64_t completed;    // callbacks made with Ok
    uint64_t errors;       // callbacks made with an error
    uint64_t refused;      // submit errors (range, address, size)
    uint64_t sectors_read, sectors_written;
    uint64_t interrupts;
    uint64_t queued;       // requests that had to wait for descriptors
    uint64_t bad_completions; // used-ring entries that matched no request
    unsigned in_flight, pending, max_in_flight;
};

class VirtioBlk final : public BlockDevice {
public:
    [[nodiscard]] const char* name() const override { return name_; }
    [[nodiscard]] uint64_t sectors() const override { return capacity_; }
    [[nodiscard]] lib::Status submit(BlockRequest& req) override;
    [[nodiscard]] unsigned queue_depth() const override { return qsize_ / 3; }
    [[nodiscard]] bool completes_in_interrupt() const override { return true; }

    [[nodiscard]] unsigned queue_size() const { return qsize_; }
    [[nodiscard]] unsigned max_segments() const { return max_segs_; }
    [[nodiscard]] bool modern() const { return t_.modern(); }
    [[nodiscard]] bool read_only() const { return read_only_; }
    [[nodiscard]] bool broken() const { return broken_; }
    [[nodiscard]] VirtioBlkStats stats();
    // Tests: handle a used-ring entry naming descriptor `id` as if the device
    // had written it (a bogus id must be counted and ignored).
    void inject_completion_for_test(uint32_t id);

    // Internal: set up by virtio_blk_probe_all.
    [[nodiscard]] lib::Status init(uintptr_t base, unsigned irq, unsigned index);
    static void interrupt(void* self);

private:
    struct Slot; // per descriptor-chain head
    struct Desc;
    using ReqList = lib::List<BlockRequest, &BlockRequest::node>;

    [[nodiscard]] lib::Status check(const BlockRequest& req, unsigned& nsegs) const;
    // Under lock_: put req on the ring if descriptors allow. False: not enough.
    bool issue_locked(BlockRequest& req, unsigned nsegs);
    void issue_pending_locked();
    void collect_used_locked(ReqList& done);
    void complete_locked(uint32_t id, ReqList& done);
    void break_device_locked(ReqList& done, const char* why);
    void finish(ReqList& done);

    virtio::MmioTransport t_;
    ksync::SpinLock lock_ {"virtio-blk"};
    char name_[8] = {};
    char irq_name_[24] = {};
    uint64_t capacity_ = 0;
    uint64_t features_ = 0;
    bool read_only_ = false;
    bool has_flush_ = false;
    bool broken_ = false;
    uint32_t qsize_ = 0;
    uint32_t max_segs_ = 0;
    uint32_t max_seg_bytes_ = 0;

    // Ring memory (one physically contiguous run: desc, avail, then used at
    // the next page) and the per-slot header/status page.
    uint64_t ring_pa_ = 0;
    unsigned ring_order_ = 0;
    Desc* desc_ = nullptr;
    volatile uint16_t* avail_ = nullptr; // flags, idx, ring[qsize]
    volatile uint16_t* used_ = nullptr;  // flags, idx, then {u32 id, u32 len}[qsize]
    uint64_t hdr_pa_ = 0;
    uint8_t* hdr_page_ = nullptr;

    Slot* slots_ = nullptr;          // qsize_ entries, indexed by head descriptor
    uint16_t* free_stack_ = nullptr; // free descriptor ids
    uint16_t* links_ = nullptr;      // our copy of each chain's next links
    uint32_t nfree_ = 0;
    uint16_t avail_idx_ = 0;
    uint16_t last_used_ = 0;
    ReqList pending_;
    VirtioBlkStats st_ {};
};

// Probe every virtio,mmio slot of the device tree; start each block device
// found and register it. Prints one line per disk (or that none was found).
void virtio_blk_probe_all();
// The disks found (for the shell and tests).
unsigned virtio_blk_count();
VirtioBlk* virtio_blk(unsigned i);

} // namespace dev
