#include "kstack/shrink.h"

#include "kstack/stack.h"
#include "kstack/swap_internal.h"

#include "kern/arch/riscv/hart.h"
#include "kern/sched/sched.h"
#include "kern/sched/thread.h"
#include "kern/arch/riscv/timer.h"
#include "vm/kmem.h"
#include "vm/tlb.h"

namespace kstack {
namespace {

constexpr size_t MAX_BATCH = 64;
// Sleepers looked at per call: bounds the time with interrupts off when many
// have nothing below their sp to give (they are the swap-out's business).
constexpr unsigned MAX_VISITS = 1024;

// The first page that must stay: the one holding the saved sp (nothing below
// sp is live: the RISC-V ABI has no red zone).
size_t keep_from(const kern::Thread& t) { return SlotLayout::page_in_stack(kern::saved_sp(t.ctx)); }

struct Found {
    kern::Thread* t[MAX_BATCH];
    uint64_t seq[MAX_BATCH];
    size_t n;
    uint64_t cutoff; // sleeps that began after this are too recent
    unsigned visits;
};

// Each hart's swap candidates, oldest first (sched::for_each_sleeper): the
// walk ends at a sleep too recent, or with a full batch.
bool find(Found& f, kern::Thread& t)
{
    if (f.n == MAX_BATCH || t.sleep_since > f.cutoff || ++f.visits > MAX_VISITS)
        return false;
    if (!t.stack || (t.flags & kern::TF_NO_SWAP) || t.state != kern::ThreadState::Sleeping ||
        t.stack_holds.held() || t.stack->state != StackState::Resident || keep_from(t) <= t.stack->mapped_from)
        return true;
    f.t[f.n] = &t;
    f.seq[f.n++] = t.sleep_seq;
    return true;
}

} // namespace

GiveBackResult give_back(swap::Scratch&, uint64_t need_pages, uint64_t idle_us)
{
    GiveBackResult r;
    Found f {};
    uint64_t now = kern::timer::now_ticks();
    uint64_t idle = idle_us * kern::timer::timebase_hz() / 1000000;
    uint64_t cutoff = now >= idle ? now - idle : 0;
    f.cutoff = cutoff;
    for (unsigned h = 0; h < cpu::MAX_HARTS && f.n < MAX_BATCH && f.visits <= MAX_VISITS; h++)
        if (kern::hart(h).online.load(std::memory_order_relaxed))
            kern::sched::for_each_sleeper(h, [&f](kern::Thread& t) { return find(f, t); });
    Stack* claimed[MAX_BATCH];
    size_t keep[MAX_BATCH];
    size_t m = 0;
    uint64_t pages = 0;
    for (size_t i = 0; i < f.n && pages < need_pages; i++) {
        Stack* s = swap::detail::claim(f.t[i], f.seq[i], cutoff);
        if (!s)
            continue;
        // Claimed: the thread cannot run, its saved sp is final.
        size_t from = keep_from(*f.t[i]);
        if (from <= s->mapped_from) {
            swap::detail::keep_resident(f.t[i], s);
            continue;
        }
        claimed[m] = s;
        keep[m] = from;
        f.t[m] = f.t[i];
        pages += from - s->mapped_from;
        m++;
    }
    vm::tlb::Batch batch;
    for (size_t i = 0; i < m; i++) {
        uintptr_t bottom = LAYOUT.stack_bottom(claimed[i]->slot);
        for (size_t p = claimed[i]->mapped_from; p < keep[i]; p++) {
            (void)vm::kmem::unmap_stack_page(bottom + p * PAGE_SIZE);
            batch.add(bottom + p * PAGE_SIZE);
        }
    }
    batch.flush();
    for (size_t i = 0; i < m; i++) {
        Stack* s = claimed[i];
        size_t n = keep[i] - s->mapped_from;
        for (size_t p = s->mapped_from; p < keep[i]; p++) {
            vm::kmem::free_page(s->pages[p]);
            s->pages[p] = 0;
        }
        s->mapped_from = uint32_t(keep[i]);
        detail::update_limit(s);
        detail::note_given_back(n);
        r.pages += n;
        r.stacks++;
        swap::detail::keep_resident(f.t[i], s);
    }
    return r;
}

} // namespace kstack
