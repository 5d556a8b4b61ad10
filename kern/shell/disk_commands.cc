// Shell: disks (every block device; a virtio disk with its queue and
// request counters, dev::VirtioBlk::stats()).
#include "dev/block.h"
#include "dev/virtio_blk.h"
#include "kern/console/printf.h"
#include "kern/shell/shell.h"

SHELL_COMMAND(disks, "", "block devices: size, transport, queue, requests, errors, KiB moved, in flight, waiting")
{
    unsigned n = dev::block_device_count();
    if (n == 0) {
        kprintf("no block devices\n");
        return 0;
    }
    kprintf("%-6s %12s %10s  %-8s %5s %10s %7s %7s %8s %8s %7s %5s\n", "name", "sectors", "size", "virtio", "queue",
            "requests", "errors", "refused", "read KiB", "writ KiB", "flight", "wait");
    for (unsigned i = 0; i < n; i++) {
        dev::BlockDevice* b = dev::block_device(i);
        uint64_t mib = b->sectors() / 2048;
        dev::VirtioBlk* v = nullptr;
        for (unsigned j = 0; j < dev::virtio_blk_count(); j++)
            if (static_cast<dev::BlockDevice*>(dev::virtio_blk(j)) == b)
                v = dev::virtio_blk(j);
        if (!v) {
            kprintf("%-6s %12lu %6lu MiB  %-8s %5u\n", b->name(), b->sectors(), mib, "-", b->queue_depth());
            continue;
        }
        dev::VirtioBlkStats s = v->stats();
        kprintf("%-6s %12lu %6lu MiB  %-8s %5u %10lu %7lu %7lu %8lu %8lu %7u %5u%s\n", b->name(), b->sectors(), mib,
                v->modern() ? "modern" : "legacy", v->queue_size(), s.requests, s.errors, s.refused,
                s.sectors_read / 2, s.sectors_written / 2, s.in_flight, s.pending,
                v->broken() ? "  BROKEN" : v->read_only() ? "  ro" : "");
        if (s.bad_completions)
            kprintf("       %lu bad completions from the device\n", s.bad_completions);
    }
    return 0;
}
