// Partitions of the registered disks, as block devices of their own.
//
// dev::scan_partitions() runs once at boot, in thread context after the disk
// drivers registered their disks (it reads with BlockDevice::read, which
// sleeps). For each disk it parses the primary GPT (dev/gpt.h) and registers
// every partition as a BlockDevice named the way Linux names them: "vda1",
// "vda4", "mmcblk0p4" (a 'p' when the disk's name ends in a digit). It prints
//   vda: GPT, 4 partitions: vda1 spl (1 MiB), vda2 uboot (4 MiB), ...
// A disk without a GPT registers nothing and prints nothing; one whose GPT is
// malformed gets one line naming the disk and the reason
//   vda: bad GPT (GPT header CRC mismatch); no partitions, the whole disk stays usable
// and no partitions. A disk whose sector 1 cannot be read is reported in one
// line and treated as having no partition table. The backup GPT is never read.
//
// A partition's submit() checks the request against the partition's size (a
// request past its end, or of zero sectors, is refused with Error::Invalid
// and never reaches the disk), adds the partition's first sector to
// req.sector and hands the request to the disk. After a successful submit
// req.sector is in the disk's numbering (also in the done callback); after a
// refused one it is unchanged. Flushes go to the disk as they are.
#pragma once

#include "dev/block.h"
#include "dev/gpt.h"

#include <cstdint>

namespace dev {

class Partition final : public BlockDevice {
public:
    [[nodiscard]] const char* name() const override { return name_; }
    [[nodiscard]] uint64_t sectors() const override { return sectors_; }
    [[nodiscard]] lib::Status submit(BlockRequest& req) override;
    [[nodiscard]] unsigned queue_depth() const override { return parent_->queue_depth(); }
    [[nodiscard]] bool completes_in_interrupt() const override { return parent_->completes_in_interrupt(); }

    [[nodiscard]] BlockDevice* parent() const { return parent_; }
    [[nodiscard]] uint64_t start() const { return start_; }   // first sector on the disk
    [[nodiscard]] unsigned number() const { return number_; } // GPT entry number, 1-based
    [[nodiscard]] const uint8_t* type() const { return type_; }
    [[nodiscard]] const char* label() const { return label_; } // GPT name
    [[nodiscard]] bool is_linux_swap() const { return gpt::guid_equal(type_, gpt::LINUX_SWAP); }

    // Internal: set up by scan_partitions.
    void init(BlockDevice* parent, const gpt::Partition& p);

private:
    BlockDevice* parent_ = nullptr;
    uint64_t start_ = 0, sectors_ = 0;
    unsigned number_ = 0;
    gpt::Guid type_ = {};
    char name_[16] = {};
    char label_[37] = {};
};

enum class PartitionTable : uint8_t {
    None,      // no GPT (or not scanned: partitions and devices added later)
    Gpt,       // a valid GPT: its partitions are registered
    Malformed, // something that says GPT but is broken: nothing registered
};

// Scan every registered disk (call once, thread context, before swap init).
void scan_partitions();
// What the scan found on disk d (None for a partition itself).
PartitionTable partition_table(const BlockDevice* d);
// d as a partition, or nullptr when d is a whole disk.
Partition* as_partition(BlockDevice* d);
// The partitions registered, in registration order.
unsigned partition_count();
Partition* partition(unsigned i);

} // namespace dev
