// Kernel tests of dev/partition.cc: a partition device shifts requests by its
// start and refuses anything past its end before the disk sees it. The first
// test uses a fake disk and always runs; the others need a disk with a GPT
// (test/run_all.py's virt-gpt and sifive_u-gpt boots) and otherwise pass
// saying so. Every sector written is saved first and put back at the end.
#include "dev/partition.h"
#include "test/kernel/ktest.h"
#include "kern/console/printf.h"
#include "lib/string.h"
#include "test/kernel/block_pattern.h"
#include "vm/swap.h"

namespace {

using ktest::blockpat::SECTOR;

// Remembers the last request and completes every one at once.
class FakeDisk final : public dev::BlockDevice {
public:
    explicit FakeDisk(const char* name) : name_(name) {}
    [[nodiscard]] const char* name() const override { return name_; }
    [[nodiscard]] uint64_t sectors() const override { return 100000; }
    [[nodiscard]] lib::Status submit(dev::BlockRequest& req) override
    {
        submits++;
        last_sector = req.sector;
        last_n = req.nsectors;
        last_op = req.op;
        if (req.done)
            req.done(&req, {}, req.ctx);
        return {};
    }
    [[nodiscard]] unsigned queue_depth() const override { return 7; }

    unsigned submits = 0;
    uint64_t last_sector = 0;
    uint32_t last_n = 0;
    dev::BlockOp last_op = dev::BlockOp::Read;

private:
    const char* name_;
};

struct Done {
    unsigned calls = 0;
    uint64_t sector_seen = 0;
};

void count_done(dev::BlockRequest* req, lib::Status, void* ctx)
{
    auto* d = static_cast<Done*>(ctx);
    d->calls++;
    d->sector_seen = req->sector;
}

dev::gpt::Partition entry(unsigned index, uint64_t first, uint64_t last)
{
    dev::gpt::Partition p {};
    p.index = index;
    p.first_lba = first;
    p.last_lba = last;
    memcpy(p.type, dev::gpt::LINUX_SWAP, sizeof p.type);
    memcpy(p.name, "test", 5);
    return p;
}

// A partition of a registered disk to write to: not the swap device (its
// contents are live), the smallest, which on the test images is vda1/mmcblk0p1.
dev::Partition* scratch_partition(const char* test)
{
    dev::Partition* best = nullptr;
    for (unsigned i = 0; dev::partition(i); i++) {
        dev::Partition* p = dev::partition(i);
        if (static_cast<dev::BlockDevice*>(p) == vm::swap::device() || p->sectors() < 16)
            continue;
        if (!best || p->sectors() < best->sectors())
            best = p;
    }
    if (!best)
        kprintf("ktest: %s: no partition to write to in this boot, nothing to check\n", test);
    return best;
}

struct Buffers {
    static constexpr uint32_t MAX = 8;
    alignas(8) uint8_t saved[MAX * SECTOR];
    alignas(8) uint8_t data[MAX * SECTOR];
    alignas(8) uint8_t check[MAX * SECTOR];
};
Buffers g_buf;

} // namespace

// Names, the shift by the start, the range check, flushes and queue depth,
// over a fake disk that records what reaches it.
KTEST(partition_forwards_with_offset)
{
    FakeDisk vd("vdq"), mmc("mmcblk7");
    dev::Partition p, q;
    p.init(&vd, entry(2, 1000, 1999));
    q.init(&mmc, entry(4, 5000, 5009));
    KEXPECT(strcmp(p.name(), "vdq2") == 0);
    KEXPECT(strcmp(q.name(), "mmcblk7p4") == 0);
    KEXPECT(strcmp(p.label(), "test") == 0);
    KEXPECT_EQ(p.sectors(), 1000u);
    KEXPECT_EQ(p.start(), 1000u);
    KEXPECT_EQ(p.number(), 2u);
    KEXPECT(p.is_linux_swap());
    KEXPECT(p.parent() == &vd);
    KEXPECT_EQ(p.queue_depth(), 7u);
    KEXPECT(dev::as_partition(&p) == nullptr); // not registered: not one of the scan's

    uint8_t buf[2 * SECTOR];
    struct Case { uint64_t sector; uint32_t n; bool ok; };
    const Case cases[] = {{0, 1, true}, {999, 1, true}, {998, 2, true}, {500, 1, true},
                          {999, 2, false}, {1000, 1, false}, {~0ull, 1, false}, {~0ull - 1, 2, false},
                          {5, 0, false}};
    for (const Case& c : cases) {
        Done done;
        dev::BlockRequest req;
        req.op = dev::BlockOp::Write;
        req.sector = c.sector;
        req.nsectors = c.n;
        req.buf = buf;
        req.done = count_done;
        req.ctx = &done;
        unsigned before = vd.submits;
        lib::Status st = p.submit(req);
        if (c.ok) {
            if (!st.ok())
                t.failf("%u sectors at %lu refused", c.n, c.sector);
            KEXPECT_EQ(vd.submits, before + 1);
            KEXPECT_EQ(vd.last_sector, c.sector + 1000);
            KEXPECT_EQ(vd.last_n, c.n);
            KEXPECT_EQ(done.calls, 1u);
            KEXPECT_EQ(done.sector_seen, c.sector + 1000); // the disk's numbering, as documented
        } else {
            if (st.ok() || st.error() != lib::Error::Invalid)
                t.failf("%u sectors at %lu past a 1000-sector partition: not refused with Invalid", c.n, c.sector);
            KEXPECT_EQ(vd.submits, before); // never reached the disk
            KEXPECT_EQ(done.calls, 0u);
            KEXPECT_EQ(req.sector, c.sector); // left as it was
        }
    }
    // The synchronous helpers go the same way.
    KEXPECT(q.read(9, buf, 1).ok());
    KEXPECT_EQ(mmc.last_sector, 5009u);
    KEXPECT(q.read(10, buf, 1).error() == lib::Error::Invalid);
    KEXPECT(q.read(9, buf, 2).error() == lib::Error::Invalid);
    KEXPECT_EQ(mmc.submits, 1u);
    // A flush goes to the disk as it is.
    dev::BlockRequest f;
    f.op = dev::BlockOp::Flush;
    Done done;
    f.done = count_done;
    f.ctx = &done;
    KEXPECT(p.submit(f).ok());
    KEXPECT(vd.last_op == dev::BlockOp::Flush);
    KEXPECT_EQ(done.calls, 1u);
}

// What the scan registered is consistent: each partition inside its disk, a
// block device of its own under its name, the disk marked as having a GPT.
KTEST(partition_scan_registered)
{
    if (dev::partition_count() == 0) {
        kprintf("ktest: partition_scan_registered: no partitions in this boot, nothing to check\n");
        return;
    }
    for (unsigned i = 0; dev::partition(i); i++) {
        dev::Partition* p = dev::partition(i);
        KEXPECT(dev::find_block_device(p->name()) == p);
        KEXPECT(dev::as_partition(p) == p);
        KEXPECT(p->start() + p->sectors() <= p->parent()->sectors());
        KEXPECT(p->start() >= 2);
        KEXPECT(dev::partition_table(p->parent()) == dev::PartitionTable::Gpt);
        KEXPECT(dev::partition_table(p) == dev::PartitionTable::None);
    }
}

// A pattern written through the partition lands at start + offset on the
// disk (read back through the disk), at the first, a middle and the last
// sectors and a run ending at the end.
KTEST(partition_write_lands_on_disk)
{
    dev::Partition* p = scratch_partition("partition_write_lands_on_disk");
    if (!p)
        return;
    dev::BlockDevice* disk = p->parent();
    uint64_t n = p->sectors();
    struct Run { uint64_t off; uint32_t count; };
    const Run runs[] = {{0, 1}, {n / 2, 3}, {n - 1, 1}, {n - 8, 8}, {1, 2}};
    Buffers& b = g_buf;
    uint64_t seed = 0x9a27;
    for (const Run& r : runs) {
        seed += 0x10001;
        uint64_t at = p->start() + r.off;
        if (!disk->read(at, b.saved, r.count).ok()) {
            t.failf("%s: reading %u sectors at %lu (to save them) failed", disk->name(), r.count, at);
            return;
        }
        ktest::blockpat::fill(b.data, r.off, r.count, seed);
        lib::Status st = p->write(r.off, b.data, r.count);
        if (!st.ok()) {
            t.failf("%s: writing %u sectors at %lu failed (%s)", p->name(), r.count, r.off, lib::error_name(st.error()));
            return;
        }
        memset(b.check, 0, sizeof b.check);
        st = disk->read(at, b.check, r.count);
        bool same = st.ok() && ktest::blockpat::verify(b.check, r.off, r.count, seed) == r.count;
        memset(b.check, 0, sizeof b.check);
        bool same_through_partition = p->read(r.off, b.check, r.count).ok() &&
                                      ktest::blockpat::verify(b.check, r.off, r.count, seed) == r.count;
        if (!disk->write(at, b.saved, r.count).ok()) {
            t.failf("%s: restoring %u sectors at %lu failed", disk->name(), r.count, at);
            return;
        }
        if (!same)
            t.failf("%s sector %lu (written as %s sector %lu) does not hold the data written", disk->name(), at,
                    p->name(), r.off);
        if (!same_through_partition)
            t.failf("%s: %u sectors at %lu read back differ", p->name(), r.count, r.off);
        if (t.failed())
            return;
    }
}

// Requests past the end of a partition are refused and the disk's sector
// right after the partition is untouched.
KTEST(partition_refuses_past_end)
{
    dev::Partition* p = scratch_partition("partition_refuses_past_end");
    if (!p)
        return;
    dev::BlockDevice* disk = p->parent();
    uint64_t n = p->sectors(), after = p->start() + n;
    Buffers& b = g_buf;
    bool have_after = after < disk->sectors();
    if (have_after)
        KEXPECT(disk->read(after, b.saved, 1).ok());
    ktest::blockpat::fill(b.data, 0, 2, 0x77);
    KEXPECT(p->write(n, b.data, 1).error() == lib::Error::Invalid);
    KEXPECT(p->write(n - 1, b.data, 2).error() == lib::Error::Invalid);
    KEXPECT(p->read(n, b.check, 1).error() == lib::Error::Invalid);
    KEXPECT(p->read(~0ull, b.check, 1).error() == lib::Error::Invalid);
    if (have_after) {
        KEXPECT(disk->read(after, b.check, 1).ok());
        KEXPECT(memcmp(b.saved, b.check, SECTOR) == 0);
    }
}
