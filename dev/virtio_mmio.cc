#include "dev/virtio_mmio.h"

#include "kern/arch/riscv/mmio.h"
#include "kern/arch/riscv/timer.h"

namespace dev::virtio {
namespace {

// Register offsets (virtio 1.x, 4.2.2 and 4.2.4 for the legacy ones).
enum : unsigned {
    R_MAGIC = 0x000,
    R_VERSION = 0x004,
    R_DEVICE_ID = 0x008,
    R_VENDOR_ID = 0x00c,
    R_DEVICE_FEATURES = 0x010,
    R_DEVICE_FEATURES_SEL = 0x014,
    R_DRIVER_FEATURES = 0x020,
    R_DRIVER_FEATURES_SEL = 0x024,
    R_LEGACY_GUEST_PAGE_SIZE = 0x028,
    R_QUEUE_SEL = 0x030,
    R_QUEUE_NUM_MAX = 0x034,
    R_QUEUE_NUM = 0x038,
    R_LEGACY_QUEUE_ALIGN = 0x03c,
    R_LEGACY_QUEUE_PFN = 0x040,
    R_QUEUE_READY = 0x044,
    R_QUEUE_NOTIFY = 0x050,
    R_INTERRUPT_STATUS = 0x060,
    R_INTERRUPT_ACK = 0x064,
    R_STATUS = 0x070,
    R_QUEUE_DESC_LOW = 0x080,
    R_QUEUE_DESC_HIGH = 0x084,
    R_QUEUE_DRIVER_LOW = 0x090,
    R_QUEUE_DRIVER_HIGH = 0x094,
    R_QUEUE_DEVICE_LOW = 0x0a0,
    R_QUEUE_DEVICE_HIGH = 0x0a4,
    R_CONFIG_GENERATION = 0x0fc,
    R_CONFIG = 0x100,
};

constexpr uint32_t LEGACY_PAGE = 4096;

} // namespace

uint32_t MmioTransport::rd(unsigned off) const { return mmio::read32(base_ + off); }
void MmioTransport::wr(unsigned off, uint32_t v) const { mmio::write32(base_ + off, v); }

lib::Status MmioTransport::probe(uintptr_t base)
{
    base_ = base;
    if (rd(R_MAGIC) != MAGIC)
        return lib::Error::NotFound;
    version_ = rd(R_VERSION);
    device_id_ = rd(R_DEVICE_ID);
    vendor_id_ = rd(R_VENDOR_ID);
    if (version_ != 1 && version_ != 2)
        return lib::Error::Unsupported;
    return {};
}

lib::Status MmioTransport::reset()
{
    wr(R_STATUS, 0);
    // A modern device may take a while; QEMU resets synchronously.
    uint64_t start = kern::timer::now_us();
    while (rd(R_STATUS) != 0) {
        if (kern::timer::now_us() - start > 100000)
            return lib::Error::TimedOut;
    }
    return {};
}

uint32_t MmioTransport::status() { return rd(R_STATUS); }
void MmioTransport::add_status(uint32_t bits) { wr(R_STATUS, rd(R_STATUS) | bits); }

uint64_t MmioTransport::device_features()
{
    wr(R_DEVICE_FEATURES_SEL, 0);
    uint64_t lo = rd(R_DEVICE_FEATURES);
    if (!modern())
        return lo;
    wr(R_DEVICE_FEATURES_SEL, 1);
    uint64_t hi = rd(R_DEVICE_FEATURES);
    return lo | (hi << 32);
}

lib::Status MmioTransport::set_driver_features(uint64_t f)
{
    wr(R_DRIVER_FEATURES_SEL, 0);
    wr(R_DRIVER_FEATURES, uint32_t(f));
    if (!modern())
        return f >> 32 ? lib::Status(lib::Error::Invalid) : lib::Status();
    wr(R_DRIVER_FEATURES_SEL, 1);
    wr(R_DRIVER_FEATURES, uint32_t(f >> 32));
    add_status(S_FEATURES_OK);
    if (!(rd(R_STATUS) & S_FEATURES_OK))
        return lib::Error::Unsupported;
    return {};
}

uint32_t MmioTransport::queue_max_size(unsigned q)
{
    wr(R_QUEUE_SEL, q);
    return rd(R_QUEUE_NUM_MAX);
}

lib::Status MmioTransport::setup_queue(unsigned q, uint32_t size, uint64_t desc_pa, uint64_t avail_pa,
                                       uint64_t used_pa, uint32_t legacy_align)
{
    wr(R_QUEUE_SEL, q);
    if (modern()) {
        if (rd(R_QUEUE_READY) != 0)
            return lib::Error::Busy;
        wr(R_QUEUE_NUM, size);
        wr(R_QUEUE_DESC_LOW, uint32_t(desc_pa));
        wr(R_QUEUE_DESC_HIGH, uint32_t(desc_pa >> 32));
        wr(R_QUEUE_DRIVER_LOW, uint32_t(avail_pa));
        wr(R_QUEUE_DRIVER_HIGH, uint32_t(avail_pa >> 32));
        wr(R_QUEUE_DEVICE_LOW, uint32_t(used_pa));
        wr(R_QUEUE_DEVICE_HIGH, uint32_t(used_pa >> 32));
        wr(R_QUEUE_READY, 1);
        if (rd(R_QUEUE_READY) != 1)
            return lib::Error::IO;
        return {};
    }
    if (desc_pa % LEGACY_PAGE || (desc_pa / LEGACY_PAGE) >> 32 || legacy_align == 0 ||
        (legacy_align & (legacy_align - 1)))
        return lib::Error::Invalid;
    if (rd(R_LEGACY_QUEUE_PFN) != 0)
        return lib::Error::Busy;
    wr(R_LEGACY_GUEST_PAGE_SIZE, LEGACY_PAGE);
    wr(R_QUEUE_NUM, size);
    wr(R_LEGACY_QUEUE_ALIGN, legacy_align);
    wr(R_LEGACY_QUEUE_PFN, uint32_t(desc_pa / LEGACY_PAGE));
    return {};
}

void MmioTransport::notify(unsigned q) { wr(R_QUEUE_NOTIFY, q); }

uint32_t MmioTransport::ack_interrupt()
{
    uint32_t s = rd(R_INTERRUPT_STATUS);
    if (s)
        wr(R_INTERRUPT_ACK, s);
    return s;
}

uint8_t MmioTransport::config8(unsigned off) { return mmio::read8(base_ + R_CONFIG + off); }

uint32_t MmioTransport::config32(unsigned off)
{
    // Config fields may be unaligned for 32-bit access only in odd layouts;
    // every field read here is naturally aligned.
    return rd(R_CONFIG + off);
}

uint64_t MmioTransport::config64(unsigned off)
{
    for (;;) {
        uint32_t gen = modern() ? rd(R_CONFIG_GENERATION) : 0;
        uint64_t lo = rd(R_CONFIG + off);
        uint64_t hi = rd(R_CONFIG + off + 4);
        if (!modern() || rd(R_CONFIG_GENERATION) == gen)
            return lo | (hi << 32);
    }
}

} // namespace dev::virtio
