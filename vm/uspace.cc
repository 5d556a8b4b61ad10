#include "vm/uspace.h"

#include "kern/arch/riscv/csr.h"
#include "boot/bootargs.h"
#include "kern/arch/riscv/hart.h"
#include "kern/console/panic.h"
#include "kern/console/printf.h"
#include "kern/sync/spinlock.h"
#include "kern/arch/riscv/timer.h"
#include "lib/string.h"
#include "vm/kmem.h"
#include "vm/owned_page.h"
#include "vm/layout.h"
#include "vm/tlb.h"
#include "user/abi.h"

#include <atomic>
#include <new>

static_assert(vm::uspace::ProtRead == PROT_READ && vm::uspace::ProtWrite == PROT_WRITE &&
              vm::uspace::ProtExec == PROT_EXEC, "user/abi.h");

namespace vm::uspace {
namespace {


// ASIDs 1..g_nasids-1 (0 is the kernel's and the fallback). At most 4096.
unsigned g_asid_bits;
unsigned g_nasids;
ksync::SpinLock g_asid_lock {"asid"};
uint64_t g_asid_map[4096 / 64];
std::atomic<uint64_t> g_total_pages;

uint16_t asid_alloc()
{
    ksync::SpinGuard g(g_asid_lock);
    for (unsigned a = 1; a < g_nasids; a++) {
        if (!(g_asid_map[a / 64] & (1ull << (a % 64)))) {
            g_asid_map[a / 64] |= 1ull << (a % 64);
            return static_cast<uint16_t>(a);
        }
    }
    return 0; // none free: share ASID 0, flushed on every switch
}

void asid_free(uint16_t a)
{
    if (!a)
        return;
    ksync::SpinGuard g(g_asid_lock);
    g_asid_map[a / 64] &= ~(1ull << (a % 64));
}

uint64_t pte_flags(uint32_t prot)
{
    uint64_t f = sv39::U;
    if (prot & ProtRead)
        f |= sv39::R;
    if (prot & ProtWrite)
        f |= sv39::W | sv39::R; // W alone is reserved in Sv39
    if (prot & ProtExec)
        f |= sv39::X;
    return f;
}

} // namespace

void init()
{
    unsigned long irq = cpu::irq_save();
    uint64_t old = csr_read(satp);
    csr_write(satp, old | SATP_ASID_MASK);
    uint64_t got = csr_read(satp);
    csr_write(satp, old);
    tlb::flush_local_all();
    cpu::irq_restore(irq);
    g_asid_bits = static_cast<unsigned>(__builtin_popcountll(got & SATP_ASID_MASK));
    // Bootarg noasid: behave as a hart without ASIDs (tests the flush path).
    if (kern::bootargs::has("noasid"))
        g_asid_bits = 0;
    g_nasids = g_asid_bits >= 12 ? 4096 : (1u << g_asid_bits);
    if (g_asid_bits)
        kprintf("uspace: %u ASID bits, %u address spaces without flushes\n", g_asid_bits, g_nasids - 1);
    else
        kprintf("uspace: no ASIDs; address-space switches flush the TLB\n");
}

unsigned asid_bits() { return g_asid_bits; }
uint64_t total_pages() { return g_total_pages.load(std::memory_order_relaxed); }

sv39::Pte* AddressSpace::table(uint64_t pa) { return static_cast<sv39::Pte*>(kmem::phys_to_virt(pa)); }

lib::Result<uint64_t> AddressSpace::alloc_table()
{
    TRY(charge(1));
    lib::Result<uint64_t> pa = kmem::alloc_page(kmem::Class::Normal, kmem::Wait::Bounded, wait_deadline_);
    if (pa.ok()) {
        memset(kmem::phys_to_virt(pa.value()), 0, PAGE_SIZE);
        tables_++;
    } else {
        uncharge(1);
    }
    return pa;
}

void AddressSpace::free_table(uint64_t pa)
{
    // Emptied by an unmap: the caller flushes every hart before the pages are
    // reused... which for a table means before this returns. Flush now.
    tlb::shootdown_all();
    kmem::free_page(pa);
    tables_--;
    uncharge(1);
}

lib::Status AddressSpace::create()
{
    TRY(charge(1));
    lib::Result<uint64_t> root = kmem::alloc_page(kmem::Class::Normal, kmem::Wait::Bounded);
    if (!root.ok()) {
        uncharge(1);
        return root.error();
    }
    root_ = root.value();
    kmem::copy_kernel_root(static_cast<uint64_t*>(kmem::phys_to_virt(root_)));
    new (pt_storage_) sv39::PageTable(root_, *this);
    asid_ = asid_alloc();
    satp_ = pt().satp() | (uint64_t(asid_) << SATP_ASID_SHIFT);
    return {};
}

void AddressSpace::destroy()
{
    if (!root_)
        return;
    // Free leaves and tables of the user range; the kernel's entries are shared.
    sv39::Pte* root = table(root_);
    uint64_t pages_freed = 0;
    size_t tables0 = tables_;
    uint64_t freed[64];
    size_t nfreed = 0;
    auto release = [&](uint64_t pa) {
        freed[nfreed++] = pa;
        if (nfreed == 64) {
            tlb::shootdown_all();
            for (size_t i = 0; i < nfreed; i++)
                kmem::free_page(freed[i]);
            nfreed = 0;
        }
    };
    for (unsigned i = sv39::index(layout::USER_BASE, 2); i <= sv39::index(layout::USER_END - 1, 2); i++) {
        if (!(root[i] & sv39::V))
            continue;
        sv39::Pte* l1 = table(sv39::pte_pa(root[i]));
        for (unsigned j = 0; j < sv39::ENTRIES; j++) {
            if (!(l1[j] & sv39::V))
                continue;
            sv39::Pte* l0 = table(sv39::pte_pa(l1[j]));
            for (unsigned k = 0; k < sv39::ENTRIES; k++) {
                if (l0[k] & sv39::V) {
                    release(sv39::pte_pa(l0[k]));
                    pages_freed++;
                    l0[k] = 0;
                }
            }
            release(sv39::pte_pa(l1[j]));
            tables_--;
            l1[j] = 0;
        }
        release(sv39::pte_pa(root[i]));
        tables_--;
        root[i] = 0;
    }
    release(root_);
    // Every hart forgets this space (and its ASID) before anything is reused.
    tlb::shootdown_all();
    for (size_t i = 0; i < nfreed; i++)
        kmem::free_page(freed[i]);
    g_total_pages.fetch_sub(pages_freed, std::memory_order_relaxed);
    pages_ -= pages_freed;
    uncharge(pages_freed + (tables0 - tables_) + 1); // and the root
    asid_free(asid_);
    root_ = 0;
    satp_ = 0;
    asid_ = 0;
}

bool AddressSpace::any_mapped(uintptr_t va, size_t len)
{
    for (uintptr_t a = va; a < va + len; a += PAGE_SIZE) {
        uint64_t pa, flags;
        if (pt().lookup(a, pa, flags))
            return true;
    }
    return false;
}

lib::Status AddressSpace::map_anon(uintptr_t va, size_t len, uint32_t prot, size_t max_pages)
{
    if ((va | len) % PAGE_SIZE || !len || !layout::is_user_range(va, len))
        return lib::Error::Invalid;
    if ((prot & ProtWrite) && (prot & ProtExec))
        return lib::Error::Invalid;
    if (!(prot & (ProtRead | ProtWrite | ProtExec)) || (prot & ~7u))
        return lib::Error::Invalid;
    ksync::MutexGuard g(lock_);
    size_t n = len / PAGE_SIZE;
    if (n > max_pages || pages_ > max_pages - n)
        return lib::Error::NoSpace;
    // Checking first is enough: the lock keeps anyone else from mapping here.
    if (any_mapped(va, len))
        return lib::Error::Exists;
    // Charged first, all of it (the tables are charged as they are made).
    TRY(charge(n));
    uint64_t flags = pte_flags(prot);
    // One bound for the whole request, tables included: an mmap of many pages
    // fails within memwait_us() however slowly pages trickle in.
    wait_deadline_ = kern::timer::now_us() + kmem::memwait_us();
    // One page, zeroed and mapped at `at`, or given back.
    auto map_one = [&](uintptr_t at) -> lib::Status {
        kmem::OwnedPage page = TRY(kmem::alloc_owned_page(kmem::Class::Normal, kmem::Wait::Bounded, wait_deadline_));
        memset(kmem::phys_to_virt(page.get()), 0, PAGE_SIZE);
        TRY(pt().map(at, page.get(), flags));
        (void)page.release(); // the page table's now
        return {};
    };
    for (size_t i = 0; i < n; i++) {
        if (lib::Status st = map_one(va + i * PAGE_SIZE); !st.ok()) {
            (void)unmap_locked(va, i * PAGE_SIZE); // uncharges the i mapped
            uncharge(n - i);
            return st;
        }
        pages_++;
        g_total_pages.fetch_add(1, std::memory_order_relaxed);
    }
    return {};
}

size_t AddressSpace::unmap_locked(uintptr_t va, size_t len)
{
    size_t done = 0;
    uint64_t pas[32];
    size_t n = 0;
    auto flush = [&] {
        if (!n)
            return;
        // Every hart drops the mappings before the pages go back.
        tlb::shootdown_all();
        for (size_t i = 0; i < n; i++)
            kmem::free_page(pas[i]);
        n = 0;
    };
    for (uintptr_t a = va; a < va + len; a += PAGE_SIZE) {
        uint64_t pa = pt().unmap(a, sv39::Prune::EmptyTables);
        if (!pa)
            continue;
        pas[n++] = pa;
        done++;
        if (n == 32)
            flush();
    }
    flush();
    pages_ -= done;
    g_total_pages.fetch_sub(done, std::memory_order_relaxed);
    uncharge(done);
    return done;
}

size_t AddressSpace::unmap(uintptr_t va, size_t len)
{
    if ((va | len) % PAGE_SIZE || !layout::is_user_range(va, len))
        return 0;
    ksync::MutexGuard g(lock_);
    return unmap_locked(va, len);
}

bool AddressSpace::lookup(uintptr_t va, uint64_t& pa, uint64_t& flags)
{
    if (!layout::is_user_range(va, 1))
        return false;
    ksync::MutexGuard g(lock_);
    return pt().lookup(va, pa, flags);
}

void activate(uint64_t satp)
{
    kern::HartLocal& h = kern::this_hart();
    if (h.satp == satp)
        return;
    csr_write(satp, satp);
    // ASID 0 is shared by the kernel's root (global mappings only) and the
    // spaces that got no ASID of their own: entering one of those, entries
    // another such space left under ASID 0 must go.
    if (!(satp & SATP_ASID_MASK) && satp != kmem::kernel_satp())
        tlb::flush_local_all();
    h.satp = satp;
}

} // namespace vm::uspace
