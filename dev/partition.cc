#include "dev/partition.h"

#include "kern/console/printf.h"
#include "lib/format.h"
#include "lib/string.h"

namespace dev {
namespace {

constexpr unsigned MAX_PARTS = 16;
Partition g_parts[MAX_PARTS];
unsigned g_nparts;

// What the scan found, per disk.
constexpr unsigned MAX_DISKS = 16;
struct DiskState {
    const BlockDevice* disk;
    PartitionTable table;
};
DiskState g_disks[MAX_DISKS];
unsigned g_ndisks;

gpt::Table g_table; // scan_partitions runs once, on one thread

// Linux's rule: "vda" + 1 -> "vda1", "mmcblk0" + 4 -> "mmcblk0p4".
void partition_name(const char* disk, unsigned n, char* buf, size_t size)
{
    size_t len = strlen(disk);
    bool digit = len && disk[len - 1] >= '0' && disk[len - 1] <= '9';
    ksnprintf(buf, size, "%s%s%u", disk, digit ? "p" : "", n);
}

void scan_disk(BlockDevice* d)
{
    gpt::Result r =
        gpt::parse([d](uint64_t lba, uint8_t* buf) { return d->read(lba, buf, 1).ok(); }, d->sectors(), g_table);
    // The header (LBA 1) is read first: a disk that fails that read may or
    // may not have a GPT, and is treated as having none (as before this scan
    // existed); once the signature was seen, any failure is a malformed GPT.
    bool unreadable = r.error == gpt::Error::ReadFailed && r.value == 1;
    PartitionTable state = PartitionTable::None;
    if (r.ok())
        state = PartitionTable::Gpt;
    else if (r.error != gpt::Error::NoGpt && r.error != gpt::Error::DiskTooSmall && !unreadable)
        state = PartitionTable::Malformed;
    if (g_ndisks < MAX_DISKS)
        g_disks[g_ndisks++] = {d, state};
    if (unreadable) {
        kprintf("%s: reading sector 1 for a partition table failed; no partitions\n", d->name());
        return;
    }
    if (state == PartitionTable::Malformed) {
        char why[128];
        kprintf("%s: bad GPT (%s); no partitions, the whole disk stays usable\n", d->name(),
                gpt::describe(r, why, sizeof why));
        return;
    }
    if (state != PartitionTable::Gpt)
        return;

    char line[512];
    size_t o = size_t(ksnprintf(line, sizeof line, "%s: GPT, %u partition%s%s", d->name(), g_table.count,
                                g_table.count == 1 ? "" : "s", g_table.count ? ":" : ""));
    for (unsigned i = 0; i < g_table.count; i++) {
        const gpt::Partition& gp = g_table.parts[i];
        unsigned before = block_device_count();
        if (g_nparts == MAX_PARTS) {
            kprintf("%s: no room for partition %u and on (at most %u partitions in all)\n", d->name(), gp.index,
                    MAX_PARTS);
            break;
        }
        Partition* p = &g_parts[g_nparts];
        p->init(d, gp);
        register_block_device(p);
        if (block_device_count() == before) {
            kprintf("%s: the block-device table is full: %s and the partitions after it are not registered\n",
                    d->name(), p->name());
            break;
        }
        g_nparts++;
        char size[24];
        lib::format_size(size, sizeof size, gp.sectors() * SECTOR_SIZE);
        if (o < sizeof line)
            o += size_t(ksnprintf(line + o, sizeof line - o, "%s %s%s%s (%s)", i ? "," : "", p->name(),
                                  gp.name[0] ? " " : "", gp.name, size));
    }
    kprintf("%s\n", line);
}

} // namespace

void Partition::init(BlockDevice* parent, const gpt::Partition& p)
{
    parent_ = parent;
    start_ = p.first_lba;
    sectors_ = p.sectors();
    number_ = p.index;
    memcpy(type_, p.type, sizeof type_);
    memcpy(label_, p.name, sizeof label_);
    label_[sizeof label_ - 1] = '\0';
    partition_name(parent->name(), p.index, name_, sizeof name_);
}

lib::Status Partition::submit(BlockRequest& req)
{
    if (req.op == BlockOp::Flush)
        return parent_->submit(req);
    if (req.nsectors == 0 || req.sector >= sectors_ || req.nsectors > sectors_ - req.sector)
        return lib::Error::Invalid;
    uint64_t sector = req.sector;
    req.sector = sector + start_;
    lib::Status st = parent_->submit(req);
    if (!st.ok())
        req.sector = sector; // refused: done is never called, the caller gets its request back as it was
    return st;
}

void scan_partitions()
{
    unsigned n = block_device_count();
    for (unsigned i = 0; i < n; i++) {
        BlockDevice* d = block_device(i);
        if (d && !as_partition(d))
            scan_disk(d);
    }
}

PartitionTable partition_table(const BlockDevice* d)
{
    for (unsigned i = 0; i < g_ndisks; i++)
        if (g_disks[i].disk == d)
            return g_disks[i].table;
    return PartitionTable::None;
}

Partition* as_partition(BlockDevice* d)
{
    for (unsigned i = 0; i < g_nparts; i++)
        if (static_cast<BlockDevice*>(&g_parts[i]) == d)
            return &g_parts[i];
    return nullptr;
}

unsigned partition_count() { return g_nparts; }
Partition* partition(unsigned i) { return i < g_nparts ? &g_parts[i] : nullptr; }

} // namespace dev
