// Stack slot arithmetic: guards on both sides, the one-bit overflow test, and
// a stack object index with no holes.
#include "kstack/layout.h"

#include <doctest/doctest.h>

#include <set>

using namespace kstack;

TEST_CASE("kstack layout: slot halves, guards on both sides")
{
    constexpr uintptr_t base = 0xffffffd000000000ul;
    constexpr SlotLayout L(base, 64);
    static_assert(SLOT_SIZE == 2 * STACK_SIZE);
    CHECK(L.end() == base + 64 * SLOT_SIZE);
    for (size_t s = 0; s < L.nslots(); s++) {
        CHECK(L.stack_top(s) - L.stack_bottom(s) == STACK_SIZE);
        // Below the stack: its own guard half.
        CHECK(SlotLayout::in_guard(L.stack_bottom(s) - 1));
        CHECK_FALSE(SlotLayout::in_guard(L.stack_bottom(s)));
        CHECK_FALSE(SlotLayout::in_guard(L.stack_top(s) - 1));
        // Above the stack: the next slot's guard half.
        CHECK(SlotLayout::in_guard(L.stack_top(s)));
        CHECK(L.slot_of(L.stack_top(s) - 1) == s);
        CHECK(L.slot_of(L.slot_base(s)) == s);
    }
    CHECK(L.contains(base));
    CHECK_FALSE(L.contains(base - 1));
    CHECK_FALSE(L.contains(L.end()));
}

TEST_CASE("kstack layout: one bit of sp detects an overflow before anything is stored")
{
    constexpr SlotLayout L(0xffffffd000000000ul, 4);
    const uintptr_t top = L.stack_top(2), bottom = L.stack_bottom(2);
    constexpr size_t frame = 288; // kern::TrapFrame
    CHECK_FALSE(frame_overflows(top, frame));
    CHECK_FALSE(frame_overflows(bottom + frame, frame));
    CHECK(frame_overflows(bottom + frame - 8, frame));
    CHECK(frame_overflows(bottom + 16, frame));
    CHECK(frame_overflows(bottom, frame));
}

TEST_CASE("kstack layout: the stack object has no holes and round-trips")
{
    constexpr SlotLayout L(0xffffffd000000000ul, 16);
    std::set<size_t> seen;
    for (size_t s = 0; s < L.nslots(); s++) {
        for (size_t p = 0; p < STACK_PAGES; p++) {
            uintptr_t va = L.stack_bottom(s) + p * PAGE_SIZE + 123;
            size_t idx = L.object_index_of(va);
            CHECK(idx == s * STACK_PAGES + p);
            CHECK(L.va_of_index(idx) == L.stack_bottom(s) + p * PAGE_SIZE);
            CHECK(SlotLayout::slot_of_index(idx) == s);
            seen.insert(idx);
        }
    }
    // Dense: every index from 0 to slots*pages-1, nothing skipped for guards.
    CHECK(seen.size() == L.nslots() * STACK_PAGES);
    CHECK(*seen.begin() == 0);
    CHECK(*seen.rbegin() == L.nslots() * STACK_PAGES - 1);
}
