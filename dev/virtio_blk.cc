#include "dev/virtio_blk.h"

#include "dev/plic.h"
#include "kern/arch/riscv/irq.h"
#include "boot/platform.h"
#include "kern/console/printf.h"
#include "boot/machine.h"
#include "lib/format.h"
#include "lib/string.h"
#include "vm/kmem.h"
#include "vm/owned_page.h"

#include <atomic>
#include <new>

namespace dev {
namespace {

// virtio-blk feature bits (virtio 1.x, 5.2.3).
constexpr unsigned F_SIZE_MAX = 1;
constexpr unsigned F_SEG_MAX = 2;
constexpr unsigned F_RO = 5;
constexpr unsigned F_BLK_SIZE = 6;
constexpr unsigned F_FLUSH = 9;

// Config space offsets (5.2.4).
constexpr unsigned CFG_CAPACITY = 0;
constexpr unsigned CFG_SIZE_MAX = 8;
constexpr unsigned CFG_SEG_MAX = 12;
constexpr unsigned CFG_BLK_SIZE = 20;

// Request types and status values (5.2.6).
constexpr uint32_t T_IN = 0;
constexpr uint32_t T_OUT = 1;
constexpr uint32_t T_FLUSH = 4;
constexpr uint8_t S_OK = 0;
constexpr uint8_t S_IOERR = 1;
constexpr uint8_t S_UNSUPP = 2;
constexpr uint8_t S_UNWRITTEN = 0xff; // set before issue: the device never wrote it

// Split-ring descriptor flags (2.7.5).
constexpr uint16_t D_NEXT = 1;
constexpr uint16_t D_WRITE = 2;

constexpr uint32_t MAX_QUEUE = 128; // headers and status bytes of every slot fit one page
constexpr uint32_t SECTOR = 512;
constexpr uint32_t DEFAULT_MAX_SEG_BYTES = 1u << 20;

constexpr uint64_t bit(unsigned n) { return uint64_t(1) << n; }

} // namespace

struct VirtioBlk::Desc { // 16 bytes, the split ring layout
    uint64_t addr;
    uint32_t len;
    uint16_t flags;
    uint16_t next;
};


struct VirtioBlk::Slot {
    BlockRequest* req;
    uint16_t ndesc;
    bool busy;
};

namespace {

struct Header {
    uint32_t type;
    uint32_t reserved;
    uint64_t sector;
};
static_assert(sizeof(Header) == 16);

// Walk a request's data in device segments: page boundaries always split
// (the next page may be anywhere physically), physically adjacent pieces are
// merged up to max_bytes, across the boundary between two of the request's
// buffers too. fn(pa, len) per segment; false if some page is not mapped.
template <typename Fn>
bool for_each_segment(const BlockRequest& req, uint32_t max_bytes, Fn fn)
{
    uint64_t seg_pa = 0;
    uint32_t seg_len = 0;
    bool mapped = for_each_piece(req, [&](const void* buf, uint64_t bytes) {
        auto va = reinterpret_cast<uintptr_t>(buf);
        while (bytes) {
            uintptr_t page = va & ~(uintptr_t(PAGE_SIZE) - 1);
            uint64_t page_pa = vm::kmem::virt_to_phys(reinterpret_cast<const void*>(page));
            if (page_pa == 0)
                return false;
            uint64_t off = va - page;
            uint64_t len = PAGE_SIZE - off;
            if (len > bytes)
                len = bytes;
            uint64_t pa = page_pa + off;
            while (len) {
                if (seg_len && seg_pa + seg_len == pa && seg_len < max_bytes) {
                    uint64_t take = max_bytes - seg_len < len ? max_bytes - seg_len : len;
                    seg_len += uint32_t(take);
                    pa += take, va += take, bytes -= take, len -= take;
                    continue;
                }
                if (seg_len)
                    fn(seg_pa, seg_len);
                uint64_t take = len < max_bytes ? len : max_bytes;
                seg_pa = pa;
                seg_len = uint32_t(take);
                pa += take, va += take, bytes -= take, len -= take;
            }
        }
        return true;
    });
    if (!mapped)
        return false;
    if (seg_len)
        fn(seg_pa, seg_len);
    return true;
}

inline void fence_rw() { std::atomic_thread_fence(std::memory_order_seq_cst); }

} // namespace

lib::Status VirtioBlk::check(const BlockRequest& req, unsigned& nsegs) const
{
    nsegs = 0;
    if (broken_)
        return lib::Error::IO;
    if (req.op == BlockOp::Flush)
        return {};
    if (req.op != BlockOp::Read && req.op != BlockOp::Write)
        return lib::Error::Invalid;
    if (!data_shape_ok(req) || req.sector >= capacity_ || req.nsectors > capacity_ - req.sector)
        return lib::Error::Invalid;
    if (req.op == BlockOp::Write && read_only_)
        return lib::Error::Unsupported;
    unsigned n = 0;
    bool mapped = for_each_segment(req, max_seg_bytes_, [&](uint64_t, uint32_t) { n++; });
    if (!mapped)
        return lib::Error::Fault;
    if (n > max_segs_)
        return lib::Error::Invalid;
    nsegs = n;
    return {};
}

bool VirtioBlk::issue_locked(BlockRequest& req, unsigned nsegs)
{
    unsigned need = nsegs + 2;
    if (nfree_ < need)
        return false;
    uint16_t ids[MAX_QUEUE];
    for (unsigned i = 0; i < need; i++)
        ids[i] = free_stack_[--nfree_];
    uint16_t head = ids[0];

    auto* hdr = reinterpret_cast<Header*>(hdr_page_ + head * sizeof(Header));
    hdr->type = req.op == BlockOp::Read ? T_IN : req.op == BlockOp::Write ? T_OUT : T_FLUSH;
    hdr->reserved = 0;
    hdr->sector = req.op == BlockOp::Flush ? 0 : req.sector;
    volatile uint8_t* status = hdr_page_ + qsize_ * sizeof(Header) + head;
    *status = S_UNWRITTEN;

    desc_[head] = {hdr_pa_ + head * sizeof(Header), sizeof(Header), D_NEXT, ids[1]};
    for (unsigned i = 0; i + 1 < need; i++)
        links_[ids[i]] = ids[i + 1];
    unsigned k = 1;
    if (nsegs) {
        uint16_t data_flags = D_NEXT | (req.op == BlockOp::Read ? D_WRITE : 0);
        // check() walked the same pages: all mapped, exactly nsegs segments.
        (void)for_each_segment(req, max_seg_bytes_, [&](uint64_t pa, uint32_t len) {
            desc_[ids[k]] = {pa, len, data_flags, ids[k + 1]};
            k++;
        });
    }
    desc_[ids[k]] = {hdr_pa_ + qsize_ * sizeof(Header) + head, 1, D_WRITE, 0};

    slots_[head] = {&req, uint16_t(need), true};
    avail_[2 + avail_idx_ % qsize_] = head;
    // Descriptors and the ring entry are visible before the index that publishes them.
    fence_rw();
    avail_idx_++;
    avail_[1] = avail_idx_;
    fence_rw();
    st_.in_flight++;
    if (st_.in_flight > st_.max_in_flight)
        st_.max_in_flight = st_.in_flight;
    return true;
}

void VirtioBlk::issue_pending_locked()
{
    bool any = false;
    while (BlockRequest* r = pending_.front()) {
        if (!issue_locked(*r, r->driver_tag))
            break;
        pending_.remove(*r);
        any = true;
    }
    if (any)
        t_.notify(0);
}

lib::Status VirtioBlk::submit(BlockRequest& req)
{
    unsigned nsegs;
    lib::Status s = check(req, nsegs);
    if (!s.ok()) {
        ksync::SpinGuard g(lock_);
        st_.refused++;
        return s;
    }
    if (req.op == BlockOp::Flush && !has_flush_) {
        // Without VIRTIO_BLK_F_FLUSH the device writes through: nothing to do.
        {
            ksync::SpinGuard g(lock_);
            st_.requests++;
            st_.completed++;
        }
        req.done(&req, lib::Status(), req.ctx);
        return {};
    }
    ksync::SpinGuard g(lock_);
    if (broken_) {
        st_.refused++;
        return lib::Error::IO;
    }
    st_.requests++;
    req.driver_tag = nsegs;
    if (pending_.empty() && issue_locked(req, nsegs)) {
        t_.notify(0);
        return {};
    }
    pending_.push_back(req);
    st_.queued++;
    st_.pending = unsigned(pending_.size());
    return {};
}

void VirtioBlk::break_device_locked(ReqList& done, const char* why)
{
    kprintf("virtio-blk %s: device error: %s; resetting it and failing every request\n", name_, why);
    broken_ = true;
    if (!t_.reset().ok())
        kprintf("virtio-blk %s: device does not reset\n", name_);
    for (uint32_t i = 0; i < qsize_; i++) {
        if (!slots_[i].busy)
            continue;
        slots_[i].busy = false;
        slots_[i].req->driver_tag = uint32_t(lib::Error::IO);
        done.push_back(*slots_[i].req);
        st_.errors++;
    }
    st_.in_flight = 0;
    while (BlockRequest* r = pending_.pop_front()) {
        r->driver_tag = uint32_t(lib::Error::IO);
        done.push_back(*r);
        st_.errors++;
    }
    st_.pending = 0;
}

void VirtioBlk::complete_locked(uint32_t id, ReqList& done)
{
    if (id >= qsize_ || !slots_[id].busy) {
        st_.bad_completions++;
        kprintf("virtio-blk %s: device completed descriptor %u, which heads no request in flight; ignored\n", name_,
                id);
        return;
    }
    Slot& s = slots_[id];
    BlockRequest* req = s.req;
    uint8_t status = hdr_page_[qsize_ * sizeof(Header) + id];
    // Give the chain back, following our private copy of the links: the
    // descriptor table is shared memory a device could scribble on.
    uint16_t d = uint16_t(id);
    for (unsigned i = 0; i < s.ndesc; i++) {
        free_stack_[nfree_++] = d;
        d = links_[d];
    }
    s.busy = false;
    s.req = nullptr;
    st_.in_flight--;
    lib::Error e = lib::Error::None;
    if (status == S_OK) {
        st_.completed++;
        if (req->op == BlockOp::Read)
            st_.sectors_read += req->nsectors;
        else if (req->op == BlockOp::Write)
            st_.sectors_written += req->nsectors;
    } else {
        e = status == S_UNSUPP ? lib::Error::Unsupported : lib::Error::IO;
        st_.errors++;
        if (status != S_IOERR && status != S_UNSUPP)
            kprintf("virtio-blk %s: request at sector %lu completed with status 0x%x%s\n", name_, req->sector, status,
                    status == S_UNWRITTEN ? " (never written by the device)" : "");
    }
    req->driver_tag = uint32_t(e);
    done.push_back(*req);
}

void VirtioBlk::inject_completion_for_test(uint32_t id)
{
    ReqList done;
    {
        ksync::SpinGuard g(lock_);
        complete_locked(id, done);
    }
    finish(done);
}

void VirtioBlk::collect_used_locked(ReqList& done)
{
    uint16_t used_idx = used_[1];
    // The entries are read after the index that covers them.
    fence_rw();
    if (uint16_t(used_idx - last_used_) > qsize_) {
        char why[96];
        ksnprintf(why, sizeof why, "used index %u ran more than the queue size ahead of %u", used_idx, last_used_);
        break_device_locked(done, why);
        return;
    }
    auto* ring = reinterpret_cast<volatile uint32_t*>(const_cast<uint16_t*>(used_) + 2);
    while (last_used_ != used_idx) {
        uint32_t id = ring[2 * (last_used_ % qsize_)];
        last_used_++;
        complete_locked(id, done);
    }
}

void VirtioBlk::finish(ReqList& done)
{
    while (BlockRequest* r = done.pop_front()) {
        auto e = static_cast<lib::Error>(r->driver_tag);
        r->done(r, lib::Status(e), r->ctx);
    }
}

void VirtioBlk::interrupt(void* self)
{
    auto* d = static_cast<VirtioBlk*>(self);
    ReqList done;
    {
        ksync::SpinGuard g(d->lock_);
        d->st_.interrupts++;
        uint32_t cause = d->t_.ack_interrupt();
        if (cause & virtio::INT_CONFIG) {
            uint64_t cap = d->t_.config64(CFG_CAPACITY);
            if (cap != d->capacity_)
                kprintf("virtio-blk %s: capacity changed from %lu to %lu sectors; keeping %lu\n", d->name_,
                        d->capacity_, cap, cap < d->capacity_ ? cap : d->capacity_);
            if (cap < d->capacity_)
                d->capacity_ = cap;
        }
        if (!d->broken_ && (d->t_.status() & virtio::S_NEEDS_RESET))
            d->break_device_locked(done, "device needs reset");
        if (!d->broken_) {
            d->collect_used_locked(done);
            if (!d->broken_)
                d->issue_pending_locked();
        }
        d->st_.pending = unsigned(d->pending_.size());
    }
    d->finish(done);
}

VirtioBlkStats VirtioBlk::stats()
{
    ksync::SpinGuard g(lock_);
    st_.pending = unsigned(pending_.size());
    return st_;
}

lib::Status VirtioBlk::init(uintptr_t base, unsigned irq, unsigned index)
{
    ksnprintf(name_, sizeof name_, "vd%c", char('a' + index));
    ksnprintf(irq_name_, sizeof irq_name_, "virtio-blk %s", name_);
    auto fail = [&](const char* why) {
        kprintf("virtio-blk at 0x%lx: %s; disk not used\n", base, why);
        t_.set_failed();
        return lib::Status(lib::Error::IO);
    };

    lib::Status s = t_.probe(base);
    if (!s.ok() || t_.device_id() != virtio::ID_BLOCK)
        return lib::Error::NotFound;
    if (irq == 0 || irq >= 128 || !plic::present()) {
        kprintf("virtio-blk at 0x%lx: no usable interrupt (irq %u); disk not used\n", base, irq);
        return lib::Error::Unsupported;
    }
    if (!t_.reset().ok())
        return fail("device does not reset");
    t_.add_status(virtio::S_ACKNOWLEDGE);
    t_.add_status(virtio::S_DRIVER);

    uint64_t offered = t_.device_features();
    uint64_t want = bit(F_SIZE_MAX) | bit(F_SEG_MAX) | bit(F_RO) | bit(F_BLK_SIZE) | bit(F_FLUSH);
    if (t_.modern()) {
        if (!(offered & bit(virtio::F_VERSION_1)))
            return fail("modern transport without VIRTIO_F_VERSION_1");
        want |= bit(virtio::F_VERSION_1);
    }
    features_ = offered & want;
    if (!t_.set_driver_features(features_).ok())
        return fail("device refused the features (FEATURES_OK not kept)");
    read_only_ = features_ & bit(F_RO);
    has_flush_ = features_ & bit(F_FLUSH);

    capacity_ = t_.config64(CFG_CAPACITY);
    uint32_t max = t_.queue_max_size(0);
    if (max == 0)
        return fail("queue 0 is not available (QueueNumMax 0)");
    qsize_ = MAX_QUEUE;
    while (qsize_ > max)
        qsize_ >>= 1;
    if (qsize_ < 4)
        return fail("queue too small (QueueNumMax < 4)");
    max_segs_ = qsize_ - 2;
    if (features_ & bit(F_SEG_MAX)) {
        uint32_t seg_max = t_.config32(CFG_SEG_MAX);
        if (seg_max == 0)
            return fail("seg_max is 0");
        if (seg_max < max_segs_)
            max_segs_ = seg_max;
    }
    max_seg_bytes_ = DEFAULT_MAX_SEG_BYTES;
    if (features_ & bit(F_SIZE_MAX)) {
        uint32_t size_max = t_.config32(CFG_SIZE_MAX) & ~(SECTOR - 1);
        if (size_max == 0)
            return fail("size_max is below one sector");
        if (size_max < max_seg_bytes_)
            max_seg_bytes_ = size_max;
    }
    if (features_ & bit(F_BLK_SIZE)) {
        uint32_t bs = t_.config32(CFG_BLK_SIZE);
        if (bs != SECTOR && bs != 0)
            kprintf("virtio-blk %s: logical block size %u; requests stay in 512-byte sectors\n", name_, bs);
    }

    // Rings: descriptors, then the avail ring, then the used ring at the next
    // page (the legacy layout with QueueAlign 4096; modern takes it as well).
    size_t avail_off = 16 * qsize_;
    size_t used_off = (avail_off + 6 + 2 * qsize_ + PAGE_SIZE - 1) & ~(PAGE_SIZE - 1);
    size_t ring_bytes = used_off + 6 + 8 * qsize_;
    ring_order_ = 0;
    while ((PAGE_SIZE << ring_order_) < ring_bytes)
        ring_order_++;
    auto ring = vm::kmem::phys().alloc_run(ring_order_, vm::PageClass::System);
    if (!ring.ok())
        return fail("no memory for the rings");
    // Owned until the driver keeps them: a page that came goes back if the other did not.
    auto hdr = vm::kmem::alloc_owned_page(vm::kmem::Class::System, false);
    auto meta = vm::kmem::alloc_owned_page(vm::kmem::Class::System, false);
    if (!hdr.ok() || !meta.ok()) {
        vm::kmem::phys().free_run(ring.value(), ring_order_);
        return fail("no memory for the request headers");
    }
    ring_pa_ = ring.value();
    hdr_pa_ = hdr->release();
    auto* rv = static_cast<uint8_t*>(vm::kmem::phys_to_virt(ring_pa_));
    memset(rv, 0, PAGE_SIZE << ring_order_);
    desc_ = reinterpret_cast<Desc*>(rv);
    avail_ = reinterpret_cast<volatile uint16_t*>(rv + avail_off);
    used_ = reinterpret_cast<volatile uint16_t*>(rv + used_off);
    hdr_page_ = static_cast<uint8_t*>(vm::kmem::phys_to_virt(hdr_pa_));
    memset(hdr_page_, 0, PAGE_SIZE);
    auto* mv = static_cast<uint8_t*>(vm::kmem::phys_to_virt(meta->release()));
    memset(mv, 0, PAGE_SIZE);
    static_assert(MAX_QUEUE * (sizeof(Slot) + 2 * sizeof(uint16_t)) <= PAGE_SIZE);
    static_assert(MAX_QUEUE * (sizeof(Header) + 1) <= PAGE_SIZE);
    slots_ = reinterpret_cast<Slot*>(mv);
    free_stack_ = reinterpret_cast<uint16_t*>(mv + MAX_QUEUE * sizeof(Slot));
    links_ = free_stack_ + MAX_QUEUE;
    nfree_ = 0;
    for (uint32_t i = qsize_; i-- > 0;)
        free_stack_[nfree_++] = uint16_t(i);

    s = t_.setup_queue(0, qsize_, ring_pa_, ring_pa_ + avail_off, ring_pa_ + used_off, PAGE_SIZE);
    if (!s.ok()) {
        // The device may hold the rings' address: leave the memory to it.
        return fail(s.error() == lib::Error::Busy ? "queue 0 already in use" : "queue setup refused");
    }
    t_.add_status(virtio::S_DRIVER_OK);
    uint32_t status = t_.status();
    if (status & (virtio::S_NEEDS_RESET | virtio::S_FAILED))
        return fail("device reports an error after DRIVER_OK");
    // No request has been made: nothing can complete before the handler is there.
    kern::irq::attach(irq, interrupt, this, irq_name_, 0);

    char size[24];
    lib::format_size(size, sizeof size, capacity_ * SECTOR);
    kprintf("virtio-blk %s: %lu sectors (%s), %s, queue %u%s%s (mmio 0x%lx, irq %u, up to %u segments)\n", name_,
            capacity_, size, t_.modern() ? "modern" : "legacy", qsize_, read_only_ ? ", read-only" : "",
            has_flush_ ? ", flush" : "", base, irq, max_segs_);
    return {};
}

namespace {

// A disk that failed to start keeps its storage: the device may still know
// its rings' addresses.
alignas(VirtioBlk) unsigned char g_storage[fdt::kMaxVirtio][sizeof(VirtioBlk)];
unsigned g_nstorage;
VirtioBlk* g_disks[fdt::kMaxVirtio];
unsigned g_ndisks;

} // namespace

void virtio_blk_probe_all()
{
    const fdt::MachineInfo& m = kern::platform::machine();
    // Slots in address order: vda is the lowest.
    unsigned order[fdt::kMaxVirtio];
    unsigned n = 0;
    for (size_t i = 0; i < m.nvirtio && i < fdt::kMaxVirtio; i++) {
        unsigned j = n++;
        while (j > 0 && m.virtio[order[j - 1]].base > m.virtio[i].base) {
            order[j] = order[j - 1];
            j--;
        }
        order[j] = unsigned(i);
    }
    for (unsigned k = 0; k < n; k++) {
        const fdt::Mmio& slot = m.virtio[order[k]];
        virtio::MmioTransport t;
        lib::Status s = t.probe(slot.base);
        if (s.error() == lib::Error::NotFound) {
            kprintf("virtio-mmio at 0x%lx: bad magic; skipped\n", slot.base);
            continue;
        }
        if (s.error() == lib::Error::Unsupported) {
            kprintf("virtio-mmio at 0x%lx: version %u not supported; skipped\n", slot.base, t.version());
            continue;
        }
        if (t.device_id() != virtio::ID_BLOCK)
            continue; // 0: empty slot; others: not ours
        auto* d = new (g_storage[g_nstorage++]) VirtioBlk();
        if (!d->init(slot.base, slot.irq, g_ndisks).ok())
            continue;
        g_disks[g_ndisks++] = d;
        register_block_device(d);
    }
    if (g_ndisks == 0)
        kprintf("virtio-blk: no disk found (%zu virtio-mmio slot%s)\n", m.nvirtio, m.nvirtio == 1 ? "" : "s");
}

unsigned virtio_blk_count() { return g_ndisks; }
VirtioBlk* virtio_blk(unsigned i) { return i < g_ndisks ? g_disks[i] : nullptr; }

} // namespace dev
