// Kernel tests of the virtio-blk driver (dev/virtio_blk.*). They need a disk:
// without one each passes saying "no disk". The runner attaches an 8 MiB
// scratch image (contents are overwritten), legacy and modern.
//
// virtio_blk_ioerror (explicit) needs a disk behind QEMU's blkdebug with a
// read error injected at sector 100 (see test/run_all.py).
#include "dev/block.h"
#include "dev/virtio_blk.h"
#include "test/kernel/ktest.h"
#include "kern/console/printf.h"
#include "kern/sync/spinlock.h"
#include "kern/sched/thread.h"
#include "kern/sync/wait.h"
#include "lib/string.h"
#include "vm/kmem.h"
#include "vm/layout.h"
#include "test/kernel/block_pattern.h"
#include "zalloc/kmalloc.h"

using namespace kern;

namespace {

using ktest::blockpat::SECTOR;

dev::BlockDevice* disk(const char* test)
{
    dev::BlockDevice* d = dev::find_block_device("vda");
    if (!d)
        kprintf("ktest: %s: no disk (attach one to test the driver); nothing to do\n", test);
    return d;
}

using ktest::blockpat::fill;
using ktest::blockpat::verify;

// Write n sectors from buf at sector, clear buf, read them back, check.
// Returns an error text or nullptr.
const char* round_trip(dev::BlockDevice* d, void* buf, uint64_t sector, uint32_t n, uint64_t seed)
{
    fill(buf, sector, n, seed);
    if (!d->write(sector, buf, n).ok())
        return "write failed";
    memset(buf, 0, size_t(n) * SECTOR);
    if (!d->read(sector, buf, n).ok())
        return "read failed";
    if (verify(buf, sector, n, seed) != n)
        return "data read back differs from data written";
    return nullptr;
}

} // namespace

// Many sectors through a physically contiguous buffer in the direct map.
KTEST(virtio_blk_rw_direct)
{
    dev::BlockDevice* d = disk("virtio_blk_rw_direct");
    if (!d)
        return;
    KEXPECT(d->sectors() >= 8192);
    constexpr unsigned ORDER = 4; // 64 KiB, 128 sectors
    auto run = vm::kmem::phys().alloc_run(ORDER, vm::PageClass::Normal);
    KEXPECT(run.ok());
    void* buf = vm::kmem::phys_to_virt(run.value());
    const char* err = nullptr;
    uint64_t bad = 0;
    // 48 requests of varying length and position over the first 6000 sectors:
    // all written first, then all read back.
    for (unsigned pass = 0; pass < 2 && !err; pass++) {
        for (unsigned i = 0; i < 48; i++) {
            uint64_t sector = i * 125 + (i % 7);
            uint32_t n = 1 + (i * 37) % 128;
            if (pass == 0) {
                fill(buf, sector, n, 0xd1);
                if (!d->write(sector, buf, n).ok()) {
                    err = "write failed", bad = sector;
                    break;
                }
            } else {
                memset(buf, 0xee, size_t(n) * SECTOR);
                if (!d->read(sector, buf, n).ok()) {
                    err = "read failed", bad = sector;
                    break;
                }
                uint32_t v = verify(buf, sector, n, 0xd1);
                if (v != n) {
                    err = "mismatch", bad = sector + v;
                    break;
                }
            }
        }
    }
    vm::kmem::phys().free_run(run.value(), ORDER);
    if (err)
        t.failf("%s at sector %lu", err, bad);
}

ZALLOC_MALLOC_DEFINE(M_VBLKTEST, "ktest-vblk", 0);

// A multi-page kmalloc buffer: a page run in KVA, 64-byte aligned, whose pages
// need not be physically adjacent: the request must be split per page.
KTEST(virtio_blk_rw_kva)
{
    dev::BlockDevice* d = disk("virtio_blk_rw_kva");
    if (!d)
        return;
    constexpr uint32_t N = 26; // 13 KiB: four pages touched
    void* buf = zalloc::kmalloc(N * SECTOR, M_VBLKTEST, zalloc::M_WAITOK);
    KEXPECT(buf);
    bool in_kva = vm::layout::is_kva(reinterpret_cast<uintptr_t>(buf));
    const char* err = nullptr;
    uint64_t at = 0;
    for (unsigned i = 0; i < 12 && !err; i++) {
        at = 6200 + i * 40;
        err = round_trip(d, buf, at, N - (i % 3), 0xa5 + i);
    }
    // Also an odd offset inside the run (still 512-byte granular).
    if (!err) {
        at = 6800;
        err = round_trip(d, static_cast<uint8_t*>(buf) + SECTOR, at, N - 1, 0x77);
    }
    zalloc::kfree(buf, M_VBLKTEST);
    KEXPECT(in_kva);
    if (err)
        t.failf("%s at sector %lu", err, at);
}

namespace {

struct StackJob {
    dev::BlockDevice* d;
    const char* err;
    bool in_stack;
    bool crosses;
};

__attribute__((noinline)) void stack_io(StackJob& j)
{
    uint8_t buf[12 * SECTOR]; // 6 KiB: always crosses a page boundary
    auto va = reinterpret_cast<uintptr_t>(buf);
    j.in_stack = vm::layout::is_kstack(va);
    j.crosses = (va / PAGE_SIZE) != ((va + sizeof buf - 1) / PAGE_SIZE);
    j.err = nullptr;
    for (unsigned i = 0; i < 8 && !j.err; i++)
        j.err = round_trip(j.d, buf, 7000 + i * 16, 12, 0x5eed + i);
}

void stack_entry(void* arg) { stack_io(*static_cast<StackJob*>(arg)); }

} // namespace

// A buffer on a thread's kernel stack, across a page boundary.
KTEST(virtio_blk_rw_stack)
{
    dev::BlockDevice* d = disk("virtio_blk_rw_stack");
    if (!d)
        return;
    static StackJob job;
    job = {d, "did not run", false, false};
    auto r = thread::spawn({.name = "vblk-stack", .entry = stack_entry, .arg = &job, .joinable = true});
    KEXPECT(r.ok());
    (void)thread::join(r.value());
    KEXPECT(job.in_stack);
    KEXPECT(job.crosses);
    if (job.err)
        t.failf("stack buffer: %s", job.err);
}

namespace {

constexpr unsigned ASYNC_N = 256;

struct Batch {
    ksync::SpinLock lock {"vblk-test-batch"};
    unsigned done = 0;
    unsigned errors = 0;
    unsigned order[ASYNC_N];     // completion order: request index per completion
    lib::Error result[ASYNC_N];
};

Batch g_batch;
dev::BlockRequest g_reqs[ASYNC_N + 1];

void batch_done(dev::BlockRequest* r, lib::Status st, void* ctx)
{
    auto* b = static_cast<Batch*>(ctx);
    ksync::SpinGuard g(b->lock);
    unsigned i = unsigned(r - g_reqs);
    if (i < ASYNC_N + 1) {
        if (i < ASYNC_N)
            b->result[i] = st.error();
        if (b->done < ASYNC_N)
            b->order[b->done] = i;
    }
    b->done++;
    if (!st.ok())
        b->errors++;
    ksync::wakeup(b);
}

void batch_reset()
{
    ksync::SpinGuard g(g_batch.lock);
    g_batch.done = 0;
    g_batch.errors = 0;
    for (unsigned i = 0; i < ASYNC_N; i++)
        g_batch.result[i] = lib::Error::Busy;
}

// Wait (5 s at most) until `n` completions arrived; false on timeout.
bool batch_wait(unsigned n)
{
    ksync::SpinGuard g(g_batch.lock);
    while (g_batch.done < n)
        if (!ksync::sleep_on(&g_batch, &g_batch.lock, 5000000).ok() && g_batch.done < n)
            return false;
    return true;
}

void prep(dev::BlockRequest& r, dev::BlockOp op, uint64_t sector, uint32_t n, void* buf)
{
    r.op = op;
    r.sector = sector;
    r.nsectors = n;
    r.buf = buf;
    r.done = batch_done;
    r.ctx = &g_batch;
}

struct SubmitJob {
    dev::BlockDevice* d;
    uint8_t* buf;
    bool ok;
};

void submit_all(void* arg)
{
    auto* j = static_cast<SubmitJob*>(arg);
    cpu::IrqGuard irqs_off;
    for (unsigned i = 0; i < ASYNC_N; i++)
        if (!j->d->submit(g_reqs[i]).ok())
            j->ok = false;
}

} // namespace

// 256 one-sector requests at once (more than the queue holds: the rest wait
// on the pending list), then 256 reads at once, then a flush; completions may
// come in any order.
KTEST(virtio_blk_async_many)
{
    dev::BlockDevice* d = disk("virtio_blk_async_many");
    if (!d)
        return;
    dev::VirtioBlk* v = dev::virtio_blk(0);
    KEXPECT(v);
    dev::VirtioBlkStats s0 = v->stats();
    constexpr unsigned ORDER = 5; // 128 KiB = 256 sectors
    auto run = vm::kmem::phys().alloc_run(ORDER, vm::PageClass::Normal);
    KEXPECT(run.ok());
    auto* buf = static_cast<uint8_t*>(vm::kmem::phys_to_virt(run.value()));
    auto sector_of = [](unsigned i) { return uint64_t(8000 + (i * 97) % 4096); }; // distinct: 97 odd
    for (unsigned i = 0; i < ASYNC_N; i++)
        fill(buf + i * SECTOR, sector_of(i), 1, 0xa51c);

    batch_reset();
    // The writes go in from a thread on hart 0 (which takes the disk's
    // interrupt) with interrupts off: nothing completes until all are
    // submitted, so the queue fills and the rest wait on the pending list.
    static SubmitJob job;
    job = {d, buf, true};
    for (unsigned i = 0; i < ASYNC_N; i++)
        prep(g_reqs[i], dev::BlockOp::Write, sector_of(i), 1, buf + i * SECTOR);
    auto th = thread::spawn({.name = "vblk-submit", .entry = submit_all, .arg = &job, .flags = TF_BOUND,
                             .hart = 0, .joinable = true});
    KEXPECT(th.ok());
    (void)thread::join(th.value());
    bool submitted = job.ok;
    bool w_ok = batch_wait(ASYNC_N);
    unsigned w_err = g_batch.errors;
    dev::VirtioBlkStats s1 = v->stats();

    memset(buf, 0, ASYNC_N * SECTOR);
    batch_reset();
    // Submit the reads in reverse order, just to mix things up.
    for (unsigned k = ASYNC_N; k-- > 0;) {
        prep(g_reqs[k], dev::BlockOp::Read, sector_of(k), 1, buf + k * SECTOR);
        if (!d->submit(g_reqs[k]).ok())
            submitted = false;
    }
    bool r_ok = batch_wait(ASYNC_N);
    unsigned r_err = g_batch.errors;
    unsigned bad = ASYNC_N;
    for (unsigned i = 0; i < ASYNC_N && bad == ASYNC_N; i++)
        if (g_batch.result[i] != lib::Error::None || verify(buf + i * SECTOR, sector_of(i), 1, 0xa51c) != 1)
            bad = i;
    unsigned in_order = 0;
    for (unsigned i = 0; i < ASYNC_N; i++)
        if (g_batch.order[i] == ASYNC_N - 1 - i)
            in_order++;

    batch_reset();
    prep(g_reqs[ASYNC_N], dev::BlockOp::Flush, 0, 0, nullptr);
    bool f_sub = d->submit(g_reqs[ASYNC_N]).ok();
    bool f_ok = f_sub && batch_wait(1) && g_batch.errors == 0;

    vm::kmem::phys().free_run(run.value(), ORDER);
    kprintf("ktest: virtio_blk_async_many: most in flight %u requests, %lu waited for descriptors, "
            "%u of %u reads completed in submission order (reads submitted as usual)\n",
            s1.max_in_flight, s1.queued - s0.queued, in_order, ASYNC_N);
    KEXPECT(submitted);
    KEXPECT(w_ok && r_ok);
    KEXPECT_EQ(w_err, 0u);
    KEXPECT_EQ(r_err, 0u);
    if (bad != ASYNC_N)
        t.failf("request %u (sector %lu) read back wrong", bad, sector_of(bad));
    KEXPECT(s1.max_in_flight > 1);
    KEXPECT(s1.queued > s0.queued);
    KEXPECT(f_ok);
    dev::VirtioBlkStats s2 = v->stats();
    KEXPECT_EQ(s2.in_flight, 0u);
    KEXPECT_EQ(s2.pending, 0u);
}

namespace {
std::atomic<unsigned> g_refused_done;
void refused_done(dev::BlockRequest*, lib::Status, void*) { g_refused_done.fetch_add(1); }
} // namespace

// Requests outside the disk, empty ones and unmapped buffers fail in submit;
// their callbacks are never called.
KTEST(virtio_blk_out_of_range)
{
    dev::BlockDevice* d = disk("virtio_blk_out_of_range");
    if (!d)
        return;
    static uint8_t buf[2 * SECTOR];
    g_refused_done = 0;
    uint64_t n = d->sectors();
    struct Case {
        uint64_t sector;
        uint32_t count;
        void* buf;
        lib::Error want;
    } cases[] = {
        {n, 1, buf, lib::Error::Invalid},
        {n - 1, 2, buf, lib::Error::Invalid},
        {~0ull, 1, buf, lib::Error::Invalid},
        {~0ull - 1, 4, buf, lib::Error::Invalid},
        {0, 0, buf, lib::Error::Invalid},
        {0, 1, nullptr, lib::Error::Invalid},
        {0, 1, reinterpret_cast<void*>(0xfffffff000000000ul), lib::Error::Fault},
    };
    for (auto& c : cases) {
        for (auto op : {dev::BlockOp::Read, dev::BlockOp::Write}) {
            dev::BlockRequest r;
            r.op = op;
            r.sector = c.sector;
            r.nsectors = c.count;
            r.buf = c.buf;
            r.done = refused_done;
            lib::Status st = d->submit(r);
            if (st.error() != c.want) {
                t.failf("%s of %u at sector %lu: got '%s', want '%s'", op == dev::BlockOp::Read ? "read" : "write",
                        c.count, c.sector, lib::error_name(st.error()), lib::error_name(c.want));
                return;
            }
        }
    }
    // The last sector itself is fine.
    KEXPECT(d->write(n - 1, buf, 1).ok());
    KEXPECT(d->read(n - 1, buf, 1).ok());
    KEXPECT_EQ(g_refused_done.load(), 0u);
}

// Needs QEMU's blkdebug failing reads that touch sector 100 with EIO:
// those fail with Error::IO, every other request succeeds, one by one and
// mixed in one batch.
KTEST_EXPLICIT(virtio_blk_ioerror)
{
    dev::BlockDevice* d = disk("virtio_blk_ioerror");
    KEXPECT(d);
    dev::VirtioBlk* v = dev::virtio_blk(0);
    KEXPECT(v);
    dev::VirtioBlkStats s0 = v->stats();
    static uint8_t buf[32 * SECTOR];
    fill(buf, 90, 20, 0xe10);
    KEXPECT(d->write(90, buf, 20).ok()); // the rule is for reads only
    KEXPECT_EQ(int(d->read(100, buf, 1).error()), int(lib::Error::IO));
    KEXPECT_EQ(int(d->read(96, buf, 8).error()), int(lib::Error::IO));
    memset(buf, 0, sizeof buf);
    KEXPECT(d->read(99, buf, 1).ok());
    KEXPECT(d->read(101, buf + SECTOR * 2, 1).ok());
    KEXPECT_EQ(verify(buf, 99, 1, 0xe10), 1u);
    KEXPECT_EQ(verify(buf + SECTOR * 2, 101, 1, 0xe10), 1u);

    // Sectors 90..109 at once: only 100 fails.
    batch_reset();
    for (unsigned i = 0; i < 20; i++) {
        prep(g_reqs[i], dev::BlockOp::Read, 90 + i, 1, buf + i * SECTOR);
        KEXPECT(d->submit(g_reqs[i]).ok());
    }
    KEXPECT(batch_wait(20));
    for (unsigned i = 0; i < 20; i++) {
        lib::Error want = 90 + i == 100 ? lib::Error::IO : lib::Error::None;
        if (g_batch.result[i] != want) {
            t.failf("sector %u: got '%s', want '%s'", 90 + i, lib::error_name(g_batch.result[i]),
                    lib::error_name(want));
            return;
        }
        if (want == lib::Error::None && verify(buf + i * SECTOR, 90 + i, 1, 0xe10) != 1) {
            t.failf("sector %u read back wrong", 90 + i);
            return;
        }
    }
    dev::VirtioBlkStats s1 = v->stats();
    KEXPECT_EQ(s1.errors - s0.errors, 3ul);
    KEXPECT_EQ(s1.bad_completions, s0.bad_completions);
}

// A device that names a descriptor heading no request in flight (out of
// range, free, or one already completed) is reported and ignored: no request
// completes twice, no descriptor is freed twice, and the disk keeps working.
KTEST(virtio_blk_bogus_completion)
{
    dev::BlockDevice* d = disk("virtio_blk_bogus_completion");
    if (!d)
        return;
    dev::VirtioBlk* v = dev::virtio_blk(0);
    KEXPECT(v);
    static uint8_t buf[4 * SECTOR];
    KEXPECT(d->write(300, buf, 4).ok()); // descriptors 0.. have been used and freed
    dev::VirtioBlkStats s0 = v->stats();
    KEXPECT_EQ(s0.in_flight, 0u);
    const uint32_t ids[] = {0, 1, 5, v->queue_size() - 1, v->queue_size(), 0xffffffffu};
    kprintf("ktest: virtio_blk_bogus_completion: %zu made-up used-ring entries follow, each must be reported\n",
            sizeof ids / sizeof ids[0]);
    for (uint32_t id : ids)
        v->inject_completion_for_test(id);
    dev::VirtioBlkStats s1 = v->stats();
    KEXPECT_EQ(s1.bad_completions - s0.bad_completions, uint64_t(sizeof ids / sizeof ids[0]));
    KEXPECT_EQ(s1.in_flight, 0u);
    KEXPECT_EQ(s1.completed, s0.completed);
    KEXPECT_EQ(s1.errors, s0.errors);
    const char* err = round_trip(d, buf, 300, 4, 0xb0);
    if (err)
        t.failf("after bogus completions: %s", err);
}

namespace {

// One request straight to submit(); its callback must never run when refused.
lib::Error submit_sg(dev::BlockDevice* d, dev::BlockOp op, uint64_t sector, uint32_t n, const dev::BlockSegment* segs,
                     uint32_t nsegs)
{
    dev::BlockRequest r;
    r.op = op;
    r.sector = sector;
    r.nsectors = n;
    r.segs = segs;
    r.nsegs = nsegs;
    r.done = refused_done;
    return d->submit(r).error();
}

} // namespace

// Scatter-gather: three buffers from different places (8 and 12 KiB kmalloc
// runs in KVA, a direct-map page between them) go to consecutive sectors in
// one request; one plain read must find them there in order, and one
// scatter-gather read must give each its own sectors back.
KTEST(virtio_blk_sg_rw)
{
    dev::BlockDevice* d = disk("virtio_blk_sg_rw");
    if (!d)
        return;
    dev::VirtioBlk* v = dev::virtio_blk(0);
    KEXPECT(v);
    constexpr uint64_t AT = 12800;
    constexpr uint32_t N = 48; // 24 KiB
    void* a = zalloc::kmalloc(8192, M_VBLKTEST, zalloc::M_WAITOK);
    void* c = zalloc::kmalloc(12288, M_VBLKTEST, zalloc::M_WAITOK);
    auto bp = vm::kmem::alloc_page(vm::kmem::Class::Normal, true);
    auto run = vm::kmem::phys().alloc_run(3, vm::PageClass::Normal); // 32 KiB: the plain read
    KEXPECT(a && c && bp.ok() && run.ok());
    void* b = vm::kmem::phys_to_virt(bp.value());
    auto* all = static_cast<uint8_t*>(vm::kmem::phys_to_virt(run.value()));
    const dev::BlockSegment segs[] = {{a, 8192}, {b, 4096}, {c, 12288}};

    const char* err = nullptr;
    uint32_t bad = N;
    memset(all, 0, N * SECTOR);
    if (!d->write(AT, all, N).ok())
        err = "clearing the sectors failed";
    fill(a, AT, 16, 0x5c1);
    fill(b, AT + 16, 8, 0x5c1);
    fill(c, AT + 24, 24, 0x5c1);
    dev::VirtioBlkStats s0 = v->stats();
    if (!err && !d->transfer(dev::BlockOp::Write, AT, segs, 3).ok())
        err = "scatter-gather write failed";
    dev::VirtioBlkStats s1 = v->stats();
    memset(all, 0xee, N * SECTOR);
    if (!err && !d->read(AT, all, N).ok())
        err = "plain read failed";
    if (!err && (bad = verify(all, AT, N, 0x5c1)) != N)
        err = "plain read differs from the scatter-gather write";
    memset(a, 0, 8192), memset(b, 0, 4096), memset(c, 0, 12288);
    if (!err && !d->transfer(dev::BlockOp::Read, AT, segs, 3).ok())
        err = "scatter-gather read failed";
    if (!err && (verify(a, AT, 16, 0x5c1) != 16 || verify(b, AT + 16, 8, 0x5c1) != 8 ||
                 verify(c, AT + 24, 24, 0x5c1) != 24))
        err = "scatter-gather read gave a buffer the wrong sectors";

    zalloc::kfree(a, M_VBLKTEST);
    zalloc::kfree(c, M_VBLKTEST);
    vm::kmem::free_page(bp.value());
    vm::kmem::phys().free_run(run.value(), 3);
    if (err) {
        t.failf("%s (first bad sector %lu)", err, AT + bad);
        return;
    }
    // One request, all of it.
    KEXPECT_EQ(s1.requests - s0.requests, 1ul);
    KEXPECT_EQ(s1.sectors_written - s0.sectors_written, uint64_t(N));
}

// The device's segment limit counts device segments over all buffers:
// max_segments() sectors that are not physically adjacent go in one request,
// one more is refused; twice as many sectors that are adjacent merge across
// the buffer boundaries and go in one request too.
KTEST(virtio_blk_sg_segments)
{
    dev::BlockDevice* d = disk("virtio_blk_sg_segments");
    if (!d)
        return;
    dev::VirtioBlk* v = dev::virtio_blk(0);
    KEXPECT(v);
    constexpr uint64_t AT = 13000;
    constexpr unsigned ORDER = 5; // 128 KiB: 256 sectors
    static dev::BlockSegment segs[256];
    unsigned max = v->max_segments();
    KEXPECT(max >= 1 && 2 * (max + 1) <= 256);
    auto run = vm::kmem::phys().alloc_run(ORDER, vm::PageClass::Normal);
    auto rb = vm::kmem::phys().alloc_run(ORDER, vm::PageClass::Normal);
    KEXPECT(run.ok() && rb.ok());
    auto* buf = static_cast<uint8_t*>(vm::kmem::phys_to_virt(run.value()));
    auto* back = static_cast<uint8_t*>(vm::kmem::phys_to_virt(rb.value()));
    g_refused_done = 0;

    // Every other sector of the run: no two pieces touch.
    for (unsigned i = 0; i <= max; i++) {
        segs[i] = {buf + 2 * i * SECTOR, SECTOR};
        fill(segs[i].buf, AT + i, 1, 0x5e6);
    }
    lib::Error over = submit_sg(d, dev::BlockOp::Write, AT, max + 1, segs, max + 1);
    lib::Status at_max = d->transfer(dev::BlockOp::Write, AT, segs, max);
    memset(back, 0, max * SECTOR);
    bool read1 = d->read(AT, back, max).ok();
    uint32_t v1 = verify(back, AT, max, 0x5e6);

    // 2 * max adjacent sectors, each its own piece.
    uint32_t n2 = 2 * max;
    for (unsigned i = 0; i < n2; i++)
        segs[i] = {buf + i * SECTOR, SECTOR};
    fill(buf, AT, n2, 0x5e7);
    lib::Status merged = d->transfer(dev::BlockOp::Write, AT, segs, n2);
    memset(back, 0, n2 * SECTOR);
    bool read2 = d->read(AT, back, n2).ok();
    uint32_t v2 = verify(back, AT, n2, 0x5e7);

    vm::kmem::phys().free_run(run.value(), ORDER);
    vm::kmem::phys().free_run(rb.value(), ORDER);
    if (over != lib::Error::Invalid)
        t.failf("%u separate pieces (max_segments %u): got '%s', want 'invalid'", max + 1, max,
                lib::error_name(over));
    if (!at_max.ok())
        t.failf("%u separate pieces (max_segments %u) refused: '%s'", max, max, lib::error_name(at_max.error()));
    KEXPECT(read1);
    KEXPECT_EQ(v1, max);
    if (!merged.ok())
        t.failf("%u adjacent pieces refused ('%s'): not merged across pieces", n2, lib::error_name(merged.error()));
    KEXPECT(read2);
    KEXPECT_EQ(v2, n2);
    KEXPECT_EQ(g_refused_done.load(), 0u);
}

// Malformed segment lists are refused in submit (Invalid; Fault for an
// unmapped page), their callbacks never called, and nothing reaches the disk.
KTEST(virtio_blk_sg_refused)
{
    dev::BlockDevice* d = disk("virtio_blk_sg_refused");
    if (!d)
        return;
    dev::VirtioBlk* v = dev::virtio_blk(0);
    KEXPECT(v);
    constexpr uint64_t AT = 13400;
    static uint8_t buf[16 * SECTOR], back[16 * SECTOR];
    uint8_t* a = buf;
    uint8_t* b = buf + 8 * SECTOR;
    auto* unmapped = reinterpret_cast<void*>(0xfffffff000000000ul);
    fill(back, AT, 16, 0x01d);
    KEXPECT(d->write(AT, back, 16).ok());
    fill(buf, AT, 16, 0xbad); // what must not arrive
    g_refused_done = 0;
    dev::VirtioBlkStats s0 = v->stats();

    struct Case {
        const char* what;
        dev::BlockSegment segs[3];
        uint32_t nsegs;
        uint32_t nsectors;
        lib::Error want;
    } cases[] = {
        {"a piece not a multiple of 512", {{a, 700}, {b, 324}}, 2, 2, lib::Error::Invalid},
        {"a piece not a multiple of 512 (total right)", {{a, 4096 - 100}, {b, 4096 + 100}}, 2, 16, lib::Error::Invalid},
        {"an empty piece", {{a, 4096}, {b, 0}, {b, 4096}}, 3, 16, lib::Error::Invalid},
        {"a null piece", {{a, 4096}, {nullptr, 4096}}, 2, 16, lib::Error::Invalid},
        {"no pieces", {{a, 4096}}, 0, 8, lib::Error::Invalid},
        {"total one sector short of nsectors", {{a, 4096}, {b, 4096}}, 2, 17, lib::Error::Invalid},
        {"total one sector over nsectors", {{a, 4096}, {b, 4096}}, 2, 15, lib::Error::Invalid},
        {"total far over nsectors", {{a, 4096}, {b, 4096}}, 2, 1, lib::Error::Invalid},
        {"nsectors 0", {{a, 4096}, {b, 4096}}, 2, 0, lib::Error::Invalid},
        {"an unmapped piece", {{a, 4096}, {unmapped, 4096}}, 2, 16, lib::Error::Fault},
    };
    unsigned refused = 0;
    for (auto& c : cases)
        for (auto op : {dev::BlockOp::Write, dev::BlockOp::Read}) {
            lib::Error e = submit_sg(d, op, AT, c.nsectors, c.segs, c.nsegs);
            refused++;
            if (e != c.want) {
                t.failf("%s %s: got '%s', want '%s'", op == dev::BlockOp::Read ? "read" : "write", c.what,
                        lib::error_name(e), lib::error_name(c.want));
                return;
            }
        }
    // Through the synchronous helper as well (the total is a whole number of
    // sectors; the driver sees the bad piece).
    const dev::BlockSegment odd[] = {{a, 700}, {b, 324}};
    KEXPECT(d->transfer(dev::BlockOp::Write, AT, odd, 2).error() == lib::Error::Invalid);
    KEXPECT(d->transfer(dev::BlockOp::Write, AT, odd, 1).error() == lib::Error::Invalid);
    KEXPECT(d->transfer(dev::BlockOp::Write, AT, odd, 0).error() == lib::Error::Invalid);
    refused += 1;
    dev::VirtioBlkStats s1 = v->stats();
    KEXPECT_EQ(g_refused_done.load(), 0u);
    KEXPECT_EQ(s1.refused - s0.refused, uint64_t(refused));
    KEXPECT_EQ(s1.requests, s0.requests);
    memset(back, 0, sizeof back);
    KEXPECT(d->read(AT, back, 16).ok());
    KEXPECT_EQ(verify(back, AT, 16, 0x01d), 16u);
}
