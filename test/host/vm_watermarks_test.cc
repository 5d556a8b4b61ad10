// vm/watermarks: DragonFly's thresholds, and their order at every RAM size.
#include "vm/watermarks.h"

#include <doctest/doctest.h>

using namespace vm;

static constexpr uint64_t MiB_pages(uint64_t mib) { return mib * 256; }

TEST_CASE("watermarks at 256 MiB are DragonFly's figures")
{
    Watermarks w = compute_watermarks(MiB_pages(256));
    CHECK(w.free_min == 391);
    CHECK(w.free_reserved == 202);
    CHECK(w.system_min == 104);
    CHECK(w.interrupt_min == 55);
    CHECK(w.free_target == 1766);
}

TEST_CASE("watermarks are ordered from 32 MiB to 16 GiB")
{
    uint64_t checked = 0;
    Watermarks prev = compute_watermarks(MiB_pages(32) - 1);
    for (uint64_t p = MiB_pages(32); p <= MiB_pages(16 * 1024); p += p / 7 + 1) {
        Watermarks w = compute_watermarks(p);
        CAPTURE(p);
        // Strictly ordered: each class really has pages the weaker one may not take.
        CHECK(w.interrupt_min > 0);
        CHECK(w.interrupt_min < w.system_min);
        CHECK(w.system_min < w.free_reserved);
        CHECK(w.free_reserved < w.free_min);
        CHECK(w.free_min < w.free_target);
        CHECK(w.free_target < p / 8); // the reserve is a small part of RAM
        CHECK(watermarks_ordered(w, p));
        // Monotone in RAM.
        CHECK(w.free_min >= prev.free_min);
        CHECK(w.interrupt_min >= prev.interrupt_min);
        prev = w;
        checked++;
    }
    CHECK(checked > 20);
    Watermarks top = compute_watermarks(MiB_pages(16 * 1024));
    CHECK(top.free_min == 64 + MiB_pages(16 * 1024) / 200);
}

TEST_CASE("MIN_RAM_PAGES: about 32 MiB, and the formulas apply there")
{
    CHECK(MIN_RAM_PAGES * 4096 >= (28ul << 20));
    CHECK(MIN_RAM_PAGES * 4096 <= (32ul << 20));
    Watermarks w = compute_watermarks(MIN_RAM_PAGES);
    CHECK(w.free_min == 64 + MIN_RAM_PAGES / 200);
    CHECK(w.free_reserved == w.free_min / 2 + 7);
    CHECK(w.interrupt_min == w.free_min / 8 + 7);
    CHECK(watermarks_ordered(w, MIN_RAM_PAGES));
}

TEST_CASE("tiny RAM gives ordered thresholds that fit in RAM")
{
    for (uint64_t p = 0; p < 4096; p++) {
        Watermarks w = compute_watermarks(p);
        CAPTURE(p);
        REQUIRE(watermarks_ordered(w, p));
        if (p > 0)
            CHECK(compute_watermarks(p).free_min >= compute_watermarks(p - 1).free_min);
        if (p >= 64) {
            CHECK(w.interrupt_min > 0);
            CHECK(w.interrupt_min < w.free_reserved);
            CHECK(w.free_reserved < w.free_min);
        }
    }
    // The caps stop binding at about 1,000 pages.
    CHECK(compute_watermarks(2048).free_min == 74);
    CHECK(compute_watermarks(128).free_min == 16);
    CHECK(compute_watermarks(128).interrupt_min == 2);
}
