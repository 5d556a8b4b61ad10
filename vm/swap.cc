#include "vm/swap.h"

#include "dev/block.h"
#include "dev/partition.h"
#include "boot/bootargs.h"
#include "kern/console/printf.h"
#include "lib/string.h"
#include "zalloc/kmalloc.h"

#include <atomic>

namespace vm::swap {
namespace {

ZALLOC_MALLOC_DEFINE(g_swap_type, "swap", 0);
dev::BlockDevice* g_dev;
SwapSpace g_space;
constexpr uint64_t PAGE_BYTES = SECTORS_PER_BLOCK * 512;
std::atomic<uint64_t> g_write_errors, g_read_errors, g_pages_out, g_pages_in;

lib::Status transfer(dev::BlockOp op, uint64_t first, const dev::BlockSegment* segs, uint32_t nsegs)
{
    if (!g_dev)
        return lib::Error::NotFound;
    uint64_t bytes = 0;
    for (uint32_t i = 0; i < nsegs; i++) {
        if (segs[i].bytes % PAGE_BYTES)
            return lib::Error::Invalid;
        bytes += segs[i].bytes;
    }
    uint64_t pages = bytes / PAGE_BYTES;
    if (pages == 0 || first + pages > g_space.total())
        return lib::Error::Invalid;
    lib::Status st = g_dev->transfer(op, first * SECTORS_PER_BLOCK, segs, nsegs);
    account_io(op, st, pages);
    return st;
}

lib::Status transfer_pages(dev::BlockOp op, uint64_t first, void* const* pages, uint32_t n)
{
    constexpr uint32_t MAX = 32;
    if (n == 0 || n > MAX)
        return lib::Error::Invalid;
    dev::BlockSegment segs[MAX];
    for (uint32_t i = 0; i < n; i++)
        segs[i] = {pages[i], uint32_t(PAGE_BYTES)};
    return transfer(op, first, segs, n);
}

} // namespace

void account_io(dev::BlockOp op, lib::Status st, uint64_t pages)
{
    bool write = op == dev::BlockOp::Write;
    if (!st.ok())
        (write ? g_write_errors : g_read_errors).fetch_add(1, std::memory_order_relaxed);
    else
        (write ? g_pages_out : g_pages_in).fetch_add(pages, std::memory_order_relaxed);
}

void init()
{
    char name[16];
    bool named = kern::bootargs::get("swap", name, sizeof name);
    if (named && strcmp(name, "none") == 0) {
        kprintf("swap: off (swap=none): kernel stacks stay resident\n");
        return;
    }
    // A named device may be anything, a partition included. By default: the
    // first Linux swap partition of a virtio disk, else the first virtio disk
    // without a partition table (dev::scan_partitions ran before). A disk with
    // a GPT, even a malformed one, is never swapped over whole unless named,
    // and an SD card (on a board it holds the boot partitions) or its
    // partitions only when named.
    dev::BlockDevice* d = nullptr;
    auto virtio = [](const dev::BlockDevice* b) { return strncmp(b->name(), "vd", 2) == 0; };
    if (named) {
        d = dev::find_block_device(name);
    } else {
        for (unsigned i = 0; !d && dev::partition(i); i++) {
            dev::Partition* p = dev::partition(i);
            if (p->is_linux_swap() && virtio(p->parent()))
                d = p;
        }
        for (unsigned i = 0; !d && dev::block_device(i); i++) {
            dev::BlockDevice* b = dev::block_device(i);
            if (virtio(b) && !dev::as_partition(b) && dev::partition_table(b) == dev::PartitionTable::None)
                d = b;
        }
    }
    if (!d) {
        if (named)
            kprintf("swap: no block device '%s'; no swapping: kernel stacks stay resident\n", name);
        else
            kprintf("swap: no swap device (a virtio disk's Linux swap partition or a virtio disk without a "
                    "partition table; anything else only when named: swap=NAME); kernel stacks stay resident\n");
        return;
    }
    uint64_t blocks = d->sectors() / SECTORS_PER_BLOCK;
    if (blocks == 0) {
        kprintf("swap: %s is smaller than one page; no swapping\n", d->name());
        return;
    }
    char what[64] = "";
    if (dev::Partition* p = dev::as_partition(d)) {
        if (p->is_linux_swap())
            ksnprintf(what, sizeof what, " (Linux swap partition of %s)", p->parent()->name());
        else
            ksnprintf(what, sizeof what, " (partition %u of %s)", p->number(), p->parent()->name());
    }
    auto* bits = static_cast<uint64_t*>(
        zalloc::kmalloc(SwapSpace::bitmap_words(blocks) * sizeof(uint64_t), g_swap_type, zalloc::M_WAITOK));
    g_space.init(bits, blocks);
    g_dev = d;
    kprintf("swap: %s%s, %lu KiB (%lu pages)\n", d->name(), what, blocks * 4, blocks);
}

bool enabled() { return g_dev != nullptr; }
dev::BlockDevice* device() { return g_dev; }
SwapSpace& space() { return g_space; }

lib::Status write_run(uint64_t first, const dev::BlockSegment* segs, uint32_t nsegs)
{
    return transfer(dev::BlockOp::Write, first, segs, nsegs);
}
lib::Status read_run(uint64_t first, const dev::BlockSegment* segs, uint32_t nsegs)
{
    return transfer(dev::BlockOp::Read, first, segs, nsegs);
}
lib::Status write_pages(uint64_t first, void* const* pages, uint32_t n)
{
    return transfer_pages(dev::BlockOp::Write, first, pages, n);
}
lib::Status read_pages(uint64_t first, void* const* pages, uint32_t n)
{
    return transfer_pages(dev::BlockOp::Read, first, pages, n);
}

Stats stats()
{
    return {g_dev ? g_space.total() : 0, g_dev ? g_space.used() : 0, g_write_errors.load(), g_read_errors.load(),
            g_dev ? g_space.failures() : 0, g_pages_out.load(), g_pages_in.load()};
}

} // namespace vm::swap
