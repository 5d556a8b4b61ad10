// A page source for zalloc host tests: aligned host memory with a page budget,
// vm/'s class floors, counters and failure injection.
//
// avail is what vm/ would call free pages. Class Normal may allocate while
// at least normal_floor pages would remain, System while system_floor would,
// Interrupt down to zero: set avail = floors to model "zero free pages with
// the page reserve intact". A blocking call with too few pages calls on_block (a
// test can hand pages back there, modelling the pagedaemon) and retries once;
// without on_block it fails, which models "truly cannot wait".
// Interrupt-zone VA is real reserved address space (mmap PROT_NONE): touching a
// page that map_page has not mapped crashes the test, as it would fault the kernel.
#pragma once

#include "zalloc/backend.h"

#include <sys/mman.h>

#include <atomic>
#include <cstdlib>
#include <functional>
#include <map>
#include <mutex>
#include <stdexcept>

struct FakeBackend final : zalloc::Backend {
    using PageClass = zalloc::PageClass;
    static constexpr size_t PG = PAGE_SIZE;

    size_t avail = 1u << 20; // free pages
    size_t normal_floor = 0;
    size_t system_floor = 0;
    long fail_after = -1; // fail every alloc_pages/map_page call after this many succeed (-1: never)
    std::function<void()> on_block;

    // Counters.
    std::atomic<size_t> alloc_calls {0}, alloc_failures {0}, blocking_calls {0}, frees {0};
    std::atomic<size_t> map_calls {0}, replenish_requests {0};
    std::atomic<size_t> pages_out {0}; // pages handed out and not freed (runs + mapped)

    FakeBackend() = default;
    FakeBackend(const FakeBackend&) = delete;
    ~FakeBackend()
    {
        for (auto& [va, n] : runs_)
            std::free(va);
        for (auto& [va, n] : vas_)
            munmap(va, n * PG);
    }

    void set_free(size_t n)
    {
        std::lock_guard g(m_);
        avail = n;
    }
    void give_pages(size_t n)
    {
        std::lock_guard g(m_);
        avail += n;
    }
    size_t free_now()
    {
        std::lock_guard g(m_);
        return avail;
    }

    void* alloc_pages(size_t n, size_t align, PageClass cls, bool may_block) override
    {
        alloc_calls++;
        if (may_block)
            blocking_calls++;
        for (int attempt = 0; attempt < 2; attempt++) {
            {
                std::lock_guard g(m_);
                if (fail_after == 0) {
                    alloc_failures++;
                    return nullptr;
                }
                if (fits(n, cls)) {
                    if (fail_after > 0)
                        fail_after--;
                    void* va = nullptr;
                    if (posix_memalign(&va, align * PG, n * PG) != 0)
                        throw std::bad_alloc();
                    avail -= n;
                    pages_out += n;
                    runs_[va] = n;
                    return va;
                }
            }
            if (!may_block || !on_block)
                break;
            on_block();
        }
        alloc_failures++;
        return nullptr;
    }

    void free_run(void* va, size_t n)
    {
        std::lock_guard g(m_);
        auto it = runs_.find(va);
        if (it == runs_.end() || it->second != n)
            throw std::logic_error("FakeBackend: free of a run it did not hand out");
        runs_.erase(it);
        std::free(va);
        avail += n;
        pages_out -= n;
        frees++;
    }
    void free_pages(void* va, size_t n) override { free_run(va, n); }

    void* reserve_va(size_t n) override
    {
        void* va = mmap(nullptr, n * PG, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
        if (va == MAP_FAILED)
            return nullptr;
        std::lock_guard g(m_);
        vas_[va] = n;
        return va;
    }

    void release_va(void* va, size_t n) override
    {
        std::lock_guard g(m_);
        auto it = vas_.find(va);
        if (it == vas_.end() || it->second != n)
            throw std::logic_error("FakeBackend: release of VA it did not reserve");
        for (size_t i = 0; i < n; i++) {
            auto m = mapped_.find(static_cast<char*>(va) + i * PG);
            if (m != mapped_.end()) {
                mapped_.erase(m);
                avail++;
                pages_out--;
            }
        }
        munmap(va, n * PG);
        vas_.erase(it);
    }

    bool map_page(void* va, PageClass cls, bool) override
    {
        map_calls++;
        std::lock_guard g(m_);
        if (fail_after == 0 || !fits(1, cls))
            return false;
        if (fail_after > 0)
            fail_after--;
        if (mapped_.count(va))
            throw std::logic_error("FakeBackend: page mapped twice");
        if (mprotect(va, PG, PROT_READ | PROT_WRITE) != 0)
            return false;
        mapped_[va] = true;
        avail--;
        pages_out++;
        return true;
    }

    void request_replenish() override { replenish_requests++; }

private:
    bool fits(size_t n, PageClass cls) const
    {
        size_t floor = cls == PageClass::Normal ? normal_floor : cls == PageClass::System ? system_floor : 0;
        return avail >= n && avail - n >= floor;
    }

    std::mutex m_;
    std::map<void*, size_t> runs_;
    std::map<void*, size_t> vas_;
    std::map<void*, bool> mapped_;
};

// The default Backend: every request fails (a kernel before its page allocator).
struct NullBackend final : zalloc::Backend {};
