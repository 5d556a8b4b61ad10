// virtio-mmio transport (the virtio 1.x MMIO layout): the register window of one
// virtio,mmio device-tree node. Both register layouts QEMU offers:
//   version 2 ("modern"): 64-bit features, FEATURES_OK, per-queue ring addresses;
//   version 1 ("legacy", QEMU's default): 32-bit features, one page-frame
//     number per queue, the rings laid out contiguously with a used-ring
//     alignment the driver chooses.
// The device-specific parts (feature bits, config layout, queues' use) belong
// to the drivers (dev/virtio_blk.*). Every register access is an mmio:: access
// with its fences.
#pragma once

#include "lib/result.h"

#include <cstdint>

namespace dev::virtio {

constexpr uint32_t MAGIC = 0x74726976; // "virt"

enum DeviceId : uint32_t { ID_NONE = 0, ID_NET = 1, ID_BLOCK = 2 };

// Device status bits.
enum : uint32_t {
    S_ACKNOWLEDGE = 1,
    S_DRIVER = 2,
    S_DRIVER_OK = 4,
    S_FEATURES_OK = 8,
    S_NEEDS_RESET = 64,
    S_FAILED = 128,
};

// Transport-level feature bits (above 32 exist only on modern devices).
constexpr unsigned F_RING_INDIRECT_DESC = 28;
constexpr unsigned F_RING_EVENT_IDX = 29;
constexpr unsigned F_VERSION_1 = 32;

// InterruptStatus bits.
enum : uint32_t { INT_USED_RING = 1, INT_CONFIG = 2 };

class MmioTransport {
public:
    // Reads magic, version and device id; no write. Error::NotFound: no virtio
    // device here (bad magic); Error::Unsupported: a version other than 1 or 2.
    [[nodiscard]] lib::Status probe(uintptr_t base);

    [[nodiscard]] uintptr_t base() const { return base_; }
    [[nodiscard]] uint32_t version() const { return version_; }
    [[nodiscard]] bool modern() const { return version_ == 2; }
    [[nodiscard]] uint32_t device_id() const { return device_id_; }
    [[nodiscard]] uint32_t vendor_id() const { return vendor_id_; }

    // Write 0 to the status register and (modern) wait until the device reads
    // back 0. Error::TimedOut if it never does.
    [[nodiscard]] lib::Status reset();
    [[nodiscard]] uint32_t status();
    void add_status(uint32_t bits);
    void set_failed() { add_status(S_FAILED); }

    // Legacy devices offer only the low 32 bits.
    [[nodiscard]] uint64_t device_features();
    // Modern: writes both halves, sets FEATURES_OK and checks the device kept
    // it (Error::Unsupported otherwise). Legacy: writes the low half.
    [[nodiscard]] lib::Status set_driver_features(uint64_t f);

    // Queue setup. max_size() is QueueNumMax of queue q (0: no such queue).
    [[nodiscard]] uint32_t queue_max_size(unsigned q);
    // Modern: the three ring addresses and QueueReady. Legacy: the rings must be
    // contiguous (desc at desc_pa, avail right after, used at the next
    // `legacy_align` boundary) starting page aligned: only desc_pa and the
    // alignment are given to the device. Error::Busy if the queue is already
    // live, Error::Invalid for addresses legacy cannot express.
    [[nodiscard]] lib::Status setup_queue(unsigned q, uint32_t size, uint64_t desc_pa, uint64_t avail_pa,
                                          uint64_t used_pa, uint32_t legacy_align);
    void notify(unsigned q);

    // Read and acknowledge the interrupt causes.
    uint32_t ack_interrupt();

    // Device configuration space (offset from 0x100). Multi-byte fields are
    // little-endian on modern devices and guest-endian (also little on RISC-V)
    // on legacy ones. config64 retries on a generation change (modern).
    [[nodiscard]] uint8_t config8(unsigned off);
    [[nodiscard]] uint32_t config32(unsigned off);
    [[nodiscard]] uint64_t config64(unsigned off);

private:
    [[nodiscard]] uint32_t rd(unsigned off) const;
    void wr(unsigned off, uint32_t v) const;

    uintptr_t base_ = 0;
    uint32_t version_ = 0;
    uint32_t device_id_ = 0;
    uint32_t vendor_id_ = 0;
};

} // namespace dev::virtio
