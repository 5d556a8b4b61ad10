// Block devices, as the swap pager (and anything else) sees them: 512-byte
// sectors, asynchronous requests completed from interrupt context, several in
// flight, and an error per request.
#pragma once

#include "lib/list.h"
#include "lib/result.h"

#include <cstddef>
#include <cstdint>

namespace dev {

enum class BlockOp : uint8_t { Read, Write, Flush };

struct BlockRequest {
    BlockOp op = BlockOp::Read;
    uint64_t sector = 0;      // first 512-byte sector
    uint32_t nsectors = 0;
    void* buf = nullptr;      // kernel virtual address (direct map, KVA or a stack); any alignment of 512
    // Called once, from interrupt context (or from submit() on an immediate
    // error), with the request's result. Must not sleep.
    void (*done)(BlockRequest* req, lib::Status st, void* ctx) = nullptr;
    void* ctx = nullptr;
    // The driver's own use while the request is in flight.
    lib::ListNode node;
    uint32_t driver_tag = 0;
};

class BlockDevice {
public:
    [[nodiscard]] virtual const char* name() const = 0;
    [[nodiscard]] virtual uint64_t sectors() const = 0;
    // Queue a request. An error here (bad range, device gone) means `done` is
    // never called; otherwise it is called exactly once.
    [[nodiscard]] virtual lib::Status submit(BlockRequest& req) = 0;
    // Requests the device can have in flight at once.
    [[nodiscard]] virtual unsigned queue_depth() const = 0;

    // Synchronous helpers for thread context: submit and sleep until done.
    [[nodiscard]] lib::Status read(uint64_t sector, void* buf, uint32_t nsectors);
    [[nodiscard]] lib::Status write(uint64_t sector, const void* buf, uint32_t nsectors);

protected:
    ~BlockDevice() = default;
};

// Registered devices, in discovery order (the first virtio disk is "vda").
void register_block_device(BlockDevice* d);
BlockDevice* block_device(unsigned index);
BlockDevice* find_block_device(const char* name);
unsigned block_device_count();

} // namespace dev
