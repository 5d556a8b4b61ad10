// Kernel tests of the SD-card-over-SPI driver (dev/sdcard_spi.*, dev/sifive_spi.*).
// They need a card: on QEMU sifive_u, -drive file=sd.img,if=sd,format=raw.
// Without one they pass saying so. Every sector written is read first and
// put back at the end, so a card that also holds swap or a file system keeps
// its contents (the test does not stop other users of the card meanwhile).
#include "dev/block.h"
#include "test/kernel/ktest.h"
#include "kern/console/printf.h"
#include "lib/string.h"
#include "test/kernel/block_pattern.h"

namespace {

using ktest::blockpat::SECTOR;

dev::BlockDevice* card(const char* test)
{
    dev::BlockDevice* d = dev::find_block_device("mmcblk0");
    if (!d)
        kprintf("ktest: %s: no SD card, nothing to check\n", test);
    return d;
}

using ktest::blockpat::fill;

bool matches(const uint8_t* p, uint64_t sector, uint32_t n, uint64_t seed)
{
    return ktest::blockpat::verify(p, sector, n, seed) == n;
}

// Static: the tests run one at a time, and a stack this size is not wanted.
struct Buffers {
    static constexpr uint32_t MAX = 8;
    alignas(8) uint8_t saved[MAX * SECTOR];
    alignas(8) uint8_t data[MAX * SECTOR + 8];
    alignas(8) uint8_t check[MAX * SECTOR];
};
Buffers g_buf;

} // namespace

// Patterns written to sectors spread over the whole card (first, last,
// scattered, a multi-sector run, an odd-aligned buffer), read back, then the
// old contents restored and checked.
KTEST(sdcard_rw)
{
    dev::BlockDevice* d = card("sdcard_rw");
    if (!d)
        return;
    KEXPECT_EQ(d->queue_depth(), 1u);
    uint64_t n = d->sectors();
    KEXPECT(n >= 64);
    if (n < 64)
        return;
    Buffers& b = g_buf;
    struct Run { uint64_t sector; uint32_t count; };
    const Run runs[] = {{0, 1}, {1, 1}, {n - 1, 1}, {n / 2, 8}, {n / 3, 3}, {n - 8, 8}, {17, 2}, {n / 7, 1},
                        {n / 5 + 3, 5}, {(n * 3) / 4, 1}, {63, 1}, {n - 2, 2}};
    uint64_t seed = 0x5d5d;
    for (const Run& r : runs) {
        seed += 0x1000193;
        if (!d->read(r.sector, b.saved, r.count).ok()) {
            t.failf("reading %u sectors at %lu (to save them) failed", r.count, r.sector);
            return;
        }
        fill(b.data, r.sector, r.count, seed);
        if (!d->write(r.sector, b.data, r.count).ok()) {
            t.failf("writing %u sectors at %lu failed", r.count, r.sector);
            return;
        }
        memset(b.data, 0, size_t(r.count) * SECTOR);
        if (!d->read(r.sector, b.data, r.count).ok()) {
            t.failf("reading back %u sectors at %lu failed", r.count, r.sector);
            return;
        }
        if (!matches(b.data, r.sector, r.count, seed))
            t.failf("%u sectors at %lu: data read back differs from data written", r.count, r.sector);
        if (!d->write(r.sector, b.saved, r.count).ok()) {
            t.failf("restoring %u sectors at %lu failed", r.count, r.sector);
            return;
        }
        if (!d->read(r.sector, b.data, r.count).ok() || memcmp(b.data, b.saved, size_t(r.count) * SECTOR) != 0)
            t.failf("%u sectors at %lu: old contents not restored", r.count, r.sector);
    }

    // A buffer at an odd address (PIO copies bytes: any alignment works).
    uint64_t s = n / 2 + 100;
    uint8_t* odd = b.data + 1;
    if (!d->read(s, b.saved, 1).ok()) {
        t.failf("reading sector %lu failed", s);
        return;
    }
    fill(odd, s, 1, 0xabcdef);
    KEXPECT(d->write(s, odd, 1).ok());
    memset(b.data, 0, 2 * SECTOR);
    KEXPECT(d->read(s, odd, 1).ok());
    KEXPECT(matches(odd, s, 1, 0xabcdef));
    KEXPECT(d->write(s, b.saved, 1).ok());
}

// Requests outside the card are refused with Invalid, done never called.
KTEST(sdcard_range)
{
    dev::BlockDevice* d = card("sdcard_range");
    if (!d)
        return;
    uint64_t n = d->sectors();
    static uint8_t buf[2 * SECTOR];
    KEXPECT(d->read(n, buf, 1).error() == lib::Error::Invalid);
    KEXPECT(d->write(n, buf, 1).error() == lib::Error::Invalid);
    KEXPECT(d->read(n - 1, buf, 2).error() == lib::Error::Invalid);
    KEXPECT(d->read(~uint64_t(0), buf, 1).error() == lib::Error::Invalid);
    KEXPECT(d->read(0, buf, 0).error() == lib::Error::Invalid);
    KEXPECT(d->read(0, nullptr, 1).error() == lib::Error::Invalid);

    static bool called;
    called = false;
    dev::BlockRequest req;
    req.op = dev::BlockOp::Write;
    req.sector = n;
    req.nsectors = 1;
    req.buf = buf;
    req.done = [](dev::BlockRequest*, lib::Status, void*) { called = true; };
    KEXPECT(d->submit(req).error() == lib::Error::Invalid);
    KEXPECT(!called);

    // The last sector itself is fine.
    KEXPECT(d->read(n - 1, buf, 1).ok());
    // Flush completes at once.
    dev::BlockRequest fl;
    fl.op = dev::BlockOp::Flush;
    fl.done = [](dev::BlockRequest*, lib::Status st, void*) { called = st.ok(); };
    KEXPECT(d->submit(fl).ok());
    KEXPECT(called);
}

// Scatter-gather: three pieces of one buffer, out of order and one at an odd
// address, written in one request to consecutive sectors; a plain read must
// find them in order. A malformed segment list (a piece not a multiple of 512,
// a total that is not nsectors) is refused with Invalid and writes nothing.
KTEST(sdcard_sg)
{
    dev::BlockDevice* d = card("sdcard_sg");
    if (!d)
        return;
    Buffers& b = g_buf;
    const uint64_t s = d->sectors() / 2 + 200;
    constexpr uint32_t N = 6;
    if (!d->read(s, b.saved, N).ok()) {
        t.failf("reading %u sectors at %lu (to save them) failed", N, s);
        return;
    }
    // In data: one sector at byte 1 (odd), three at 1024, two at 3072.
    uint8_t* one = b.data + 1;
    uint8_t* three = b.data + 2 * SECTOR;
    uint8_t* two = b.data + 6 * SECTOR;
    const dev::BlockSegment segs[] = {{two, 2 * SECTOR}, {one, SECTOR}, {three, 3 * SECTOR}};
    fill(two, s, 2, 0x56);
    fill(one, s + 2, 1, 0x56);
    fill(three, s + 3, 3, 0x56);
    lib::Status w = d->transfer(dev::BlockOp::Write, s, segs, 3);
    memset(b.check, 0, N * SECTOR);
    lib::Status r = d->read(s, b.check, N);
    bool same = matches(b.check, s, N, 0x56);

    // Refused: the card keeps what the good request wrote.
    static bool called;
    called = false;
    const dev::BlockSegment odd[] = {{two, 700}, {one, 324}};
    dev::BlockRequest req;
    req.op = dev::BlockOp::Write;
    req.sector = s;
    req.nsectors = 2;
    req.segs = odd;
    req.nsegs = 2;
    req.done = [](dev::BlockRequest*, lib::Status, void*) { called = true; };
    fill(b.data, s, N, 0xbad);
    lib::Error e_odd = d->submit(req).error();
    req.segs = segs;
    req.nsegs = 3;
    req.nsectors = N - 1;
    lib::Error e_short = d->submit(req).error();
    req.nsectors = N + 1;
    lib::Error e_long = d->submit(req).error();
    memset(b.check, 0, N * SECTOR);
    lib::Status r2 = d->read(s, b.check, N);
    bool kept = matches(b.check, s, N, 0x56);

    lib::Status restored = d->write(s, b.saved, N);
    KEXPECT(w.ok());
    KEXPECT(r.ok());
    KEXPECT(same);
    KEXPECT(e_odd == lib::Error::Invalid);
    KEXPECT(e_short == lib::Error::Invalid);
    KEXPECT(e_long == lib::Error::Invalid);
    KEXPECT(!called);
    KEXPECT(r2.ok());
    KEXPECT(kept);
    KEXPECT(restored.ok());
}

// Explicit: the card image was prepared so that each sector's first 8 bytes
// hold its number (little endian) and sector 0 starts with "ZESTSDLY" in
// bytes 8..15: checks the driver's addressing against the host's view.
KTEST_EXPLICIT(sdcard_layout)
{
    dev::BlockDevice* d = card("sdcard_layout");
    if (!d)
        return;
    uint8_t* buf = g_buf.data;
    KEXPECT(d->read(0, buf, 1).ok());
    if (memcmp(buf + 8, "ZESTSDLY", 8) != 0) {
        t.failf("sector 0 does not carry the layout marker: image not prepared");
        return;
    }
    uint64_t n = d->sectors();
    const uint64_t probes[] = {1, 2, 7, 8, 9, 255, 256, 4097, n / 2, n - 2, n - 1};
    for (uint64_t s : probes) {
        if (!d->read(s, buf, 1).ok()) {
            t.failf("reading sector %lu failed", s);
            return;
        }
        uint64_t got;
        memcpy(&got, buf, 8);
        if (got != s)
            t.failf("sector %lu carries the number %lu", s, got);
    }
}
