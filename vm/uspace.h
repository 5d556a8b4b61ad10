// User address spaces: one Sv39 root per task, sharing the kernel's root
// entries (copied at creation; the kernel never adds one after boot) and
// owning [layout::USER_BASE, layout::USER_END), root indices 64..255.
//
// Pages are anonymous and zeroed, mapped eagerly with the U bit and never
// writable and executable at once. Page tables and pages come from the page
// allocator (Normal class) and go back on unmap and destroy; each address
// space counts its pages so a task's memory is bounded.
//
// ASIDs: probed at boot (write all ASID bits of satp, read back). With ASIDs
// each address space gets its own, so switching needs no flush; without (or
// when they run out) it gets ASID 0 and activate() flushes the whole TLB. An
// ASID is reused only after destroy() flushed every hart.
#pragma once

#include "kern/sync/wait.h"
#include "lib/result.h"
#include "vm/sv39.h"

#include <cstddef>
#include <cstdint>

namespace vm::uspace {

// The same values as user/abi.h's PROT_* (static_assert in vm/uspace.cc).
enum Prot : uint32_t { ProtRead = 1, ProtWrite = 2, ProtExec = 4 };

// Boot hart, paging on: probe ASIDs.
void init();
unsigned asid_bits();

// Who pays for a space's pages, user pages and page tables alike
// (kern/task/task_account.h): charge() before a page is taken, and it may refuse
// (the space's operation then fails with NoMemory); uncharge() once freed.
class PageAccount {
public:
    [[nodiscard]] virtual lib::Status charge(size_t pages) = 0;
    virtual void uncharge(size_t pages) = 0;

protected:
    ~PageAccount() = default;
};

class AddressSpace final : private sv39::TableSource {
public:
    AddressSpace() = default;
    AddressSpace(const AddressSpace&) = delete;
    AddressSpace& operator=(const AddressSpace&) = delete;

    // Root table (a copy of the kernel's) and an ASID. May sleep for memory,
    // within vm::kmem's bound (Wait::Bounded): NoMemory after it or on a kill.
    [[nodiscard]] lib::Status create();
    // Unmap and free every page and table, flush every hart, free the root and
    // the ASID. No thread of it may be running.
    void destroy();

    // Map zeroed pages over [va, va + len) (page aligned, inside user space,
    // nothing mapped there yet) with prot (not write+exec, not empty). On
    // failure nothing stays mapped. max_pages bounds the space's total. Waits
    // for pages at most vm::kmem::memwait_us() in all (NoMemory after, or at
    // once when the calling task is killed).
    [[nodiscard]] lib::Status map_anon(uintptr_t va, size_t len, uint32_t prot, size_t max_pages = SIZE_MAX);
    // Unmap whatever is mapped in [va, va + len), flush every hart, free the
    // pages. Returns the number of pages unmapped.
    size_t unmap(uintptr_t va, size_t len);
    // The physical address of va and its PTE flags, if mapped.
    [[nodiscard]] bool lookup(uintptr_t va, uint64_t& pa, uint64_t& flags);
    // Whether [va, va + len) holds any mapping.
    [[nodiscard]] bool any_mapped(uintptr_t va, size_t len);

    [[nodiscard]] uint64_t satp() const { return satp_; }
    [[nodiscard]] uint16_t asid() const { return asid_; }
    [[nodiscard]] size_t pages() const { return pages_; }
    [[nodiscard]] size_t table_pages() const { return tables_; }
    // Before create(); nullptr (the default): nobody is charged.
    void set_account(PageAccount* a) { account_ = a; }

private:
    // sv39::TableSource: this space's tables, from the page allocator.
    sv39::Pte* table(uint64_t pa) override;
    lib::Result<uint64_t> alloc_table() override;
    void free_table(uint64_t pa) override;

    sv39::PageTable& pt() { return *reinterpret_cast<sv39::PageTable*>(pt_storage_); }
    size_t unmap_locked(uintptr_t va, size_t len);

    ksync::Mutex lock_ {"uspace"};
    alignas(sv39::PageTable) unsigned char pt_storage_[sizeof(sv39::PageTable)] = {};
    uint64_t root_ = 0;
    uint64_t satp_ = 0;
    uint16_t asid_ = 0;
    size_t pages_ = 0;  // user pages mapped
    size_t tables_ = 0; // page-table pages below the root
    [[nodiscard]] lib::Status charge(size_t n) { return account_ ? account_->charge(n) : lib::Status(); }
    void uncharge(size_t n)
    {
        if (account_ && n)
            account_->uncharge(n);
    }

    PageAccount* account_ = nullptr;
    uint64_t wait_deadline_ = 0; // map_anon's bound on waiting for pages (under lock_)
};

// Load `satp` on this hart if it is not loaded already (the scheduler calls
// this before switching to a thread of another address space; kernel threads
// use vm::kmem::kernel_satp()). Interrupts off.
void activate(uint64_t satp);

// Pages in all user address spaces (tests compare against a baseline).
uint64_t total_pages();

} // namespace vm::uspace
