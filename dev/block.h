// dev/: the drivers (ns16550a and SiFive UARTs, the PLIC, virtio-mmio and
// virtio-blk, SiFive SPI and the SD card on it) and the block layer above
// them (this interface, GPT partitions). Drivers find their devices in the
// machine description (boot/machine.h) and use the hart layer, kern/sync and
// vm/ for DMA-able memory; none knows about swap: the pager sees only a
// BlockDevice. Completions run in interrupt context, so a request's `done`
// callback must not sleep.
//
// Block devices, as the swap pager (and anything else) sees them: 512-byte
// sectors, asynchronous requests completed from interrupt context, several in
// flight, and an error per request. A request's data is one buffer or, for
// the pager writing several kernel stacks to consecutive sectors at once, a
// list of buffers (scatter-gather).
#pragma once

#include "lib/list.h"
#include "lib/result.h"

#include <cstddef>
#include <cstdint>

namespace dev {

enum class BlockOp : uint8_t { Read, Write, Flush };

constexpr uint32_t SECTOR_SIZE = 512;

struct BlockSegment {
    void* buf;       // kernel virtual address, 512-byte multiple length
    uint32_t bytes;  // multiple of 512
};

struct BlockRequest {
    BlockOp op = BlockOp::Read;
    uint64_t sector = 0;      // first 512-byte sector
    uint32_t nsectors = 0;
    void* buf = nullptr;      // kernel virtual address (direct map, KVA or a stack); any alignment of 512
    // Called once, from interrupt context (or from submit() on an immediate
    // error), with the request's result. Must not sleep. A function pointer
    // plus context, not a lib::FunctionRef: it runs after submit() returned,
    // so what it refers to must live with the request.
    void (*done)(BlockRequest* req, lib::Status st, void* ctx) = nullptr;
    void* ctx = nullptr;
    // The driver's own use while the request is in flight.
    lib::ListNode node;
    uint32_t driver_tag = 0;
    // Scatter-gather: when segs is non-null, the data is segs[0..nsegs) in order
    // (buf is ignored); the byte total must equal nsectors * 512.
    const BlockSegment* segs = nullptr;
    uint32_t nsegs = 0;
};

// A read or write's data has a usable shape: nsectors > 0 and either a
// non-null buf, or nsegs > 0 segments, each non-null and a non-zero multiple
// of 512 bytes, adding up to exactly nsectors * 512. Drivers refuse anything
// else with Error::Invalid (range and mapping are theirs to check).
[[nodiscard]] inline bool data_shape_ok(const BlockRequest& req)
{
    if (req.nsectors == 0)
        return false;
    if (!req.segs)
        return req.buf != nullptr;
    if (req.nsegs == 0)
        return false;
    uint64_t want = uint64_t(req.nsectors) * SECTOR_SIZE, total = 0;
    for (uint32_t i = 0; i < req.nsegs; i++) {
        const BlockSegment& s = req.segs[i];
        if (!s.buf || s.bytes == 0 || s.bytes % SECTOR_SIZE)
            return false;
        total += s.bytes;
        if (total > want) // also keeps the sum from wrapping
            return false;
    }
    return total == want;
}

// A request's data as (buf, bytes) pieces in order: segs[0..nsegs), or buf
// for nsectors * 512. fn(void* buf, uint64_t bytes) returns false to stop the
// walk; then so does for_each_piece.
template <typename Fn>
bool for_each_piece(const BlockRequest& req, Fn fn)
{
    if (!req.segs)
        return fn(req.buf, uint64_t(req.nsectors) * SECTOR_SIZE);
    for (uint32_t i = 0; i < req.nsegs; i++)
        if (!fn(req.segs[i].buf, uint64_t(req.segs[i].bytes)))
            return false;
    return true;
}

class BlockDevice {
public:
    [[nodiscard]] virtual const char* name() const = 0;
    [[nodiscard]] virtual uint64_t sectors() const = 0;
    // Queue a request. An error here (bad range, device gone) means `done` is
    // never called; otherwise it is called exactly once.
    [[nodiscard]] virtual lib::Status submit(BlockRequest& req) = 0;
    // Requests the device can have in flight at once.
    [[nodiscard]] virtual unsigned queue_depth() const = 0;
    // True when submit() returns at once and `done` comes later from the
    // device's interrupt (virtio-blk); false when submit() does the transfer
    // itself (a polled SD card): such a device must not be started from
    // interrupt context.
    [[nodiscard]] virtual bool completes_in_interrupt() const { return false; }

    // Synchronous helpers for thread context: submit and sleep until done.
    [[nodiscard]] lib::Status read(uint64_t sector, void* buf, uint32_t nsectors);
    [[nodiscard]] lib::Status write(uint64_t sector, const void* buf, uint32_t nsectors);
    // Scatter-gather: segs[0..nsegs) in order to or from consecutive sectors
    // from `sector` on (nsectors is their byte total / 512).
    [[nodiscard]] lib::Status transfer(BlockOp op, uint64_t sector, const BlockSegment* segs, uint32_t nsegs);

protected:
    ~BlockDevice() = default;
};

// Registered devices, in discovery order (the first virtio disk is "vda").
void register_block_device(BlockDevice* d);
BlockDevice* block_device(unsigned index);
BlockDevice* find_block_device(const char* name);
unsigned block_device_count();

} // namespace dev
