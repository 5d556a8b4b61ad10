// lib/owned.h: a handle is given back exactly once, on every path, unless it
// was released; moves hand it over without a give-back.
#include "lib/owned.h"
#include "lib/result.h"

#include <doctest/doctest.h>

#include <cstdint>
#include <vector>

namespace {
std::vector<uint64_t> g_freed;

struct FakePage {
    using Handle = uint64_t;
    static constexpr Handle null = 0;
    static void free(Handle h) { g_freed.push_back(h); }
};
using Page = lib::Owned<FakePage>;

struct Obj {
    int refs = 1;
};
struct FakeRef {
    using Handle = Obj*;
    static constexpr Handle null = nullptr;
    static void free(Handle o) { o->refs--; }
};
using Ref = lib::Owned<FakeRef>;

lib::Result<Page> alloc(bool ok, uint64_t pa)
{
    if (!ok)
        return lib::Error::NoMemory;
    return Page(pa);
}

// The shape the owners are for: two allocations, a step that may fail, and
// the pages handed on only at the end.
lib::Status set_up(bool second_ok, bool step_ok, uint64_t& kept_a, uint64_t& kept_b)
{
    Page a = TRY(alloc(true, 0x1000));
    Page b = TRY(alloc(second_ok, 0x2000));
    if (!step_ok)
        return lib::Error::IO;
    kept_a = a.release();
    kept_b = b.release();
    return {};
}
} // namespace

static_assert(sizeof(Page) == sizeof(uint64_t));
static_assert(!std::is_copy_constructible_v<Page>);

TEST_CASE("owned: freed at the end of its scope, not when empty")
{
    g_freed.clear();
    {
        Page p(0x5000);
        Page none;
        CHECK(bool(p));
        CHECK_FALSE(bool(none));
        CHECK(p.get() == 0x5000);
    }
    CHECK(g_freed == std::vector<uint64_t> {0x5000});
}

TEST_CASE("owned: release hands the handle on and nothing is freed")
{
    g_freed.clear();
    uint64_t pa;
    {
        Page p(0x6000);
        pa = p.release();
        CHECK_FALSE(bool(p));
    }
    CHECK(pa == 0x6000);
    CHECK(g_freed.empty());
}

TEST_CASE("owned: a move transfers, assignment frees what was held")
{
    g_freed.clear();
    {
        Page a(0x1000);
        Page b(std::move(a));
        CHECK_FALSE(bool(a));
        CHECK(b.get() == 0x1000);
        Page c(0x2000);
        c = std::move(b);
        CHECK(g_freed == std::vector<uint64_t> {0x2000});
        c.reset(0x3000);
        CHECK(g_freed == std::vector<uint64_t> {0x2000, 0x1000});
    }
    CHECK(g_freed == std::vector<uint64_t> {0x2000, 0x1000, 0x3000});
}

TEST_CASE("owned: every error path gives back what it had, success keeps all")
{
    uint64_t a = 0, b = 0;
    g_freed.clear();
    CHECK(set_up(false, true, a, b).error() == lib::Error::NoMemory);
    CHECK(g_freed == std::vector<uint64_t> {0x1000});
    g_freed.clear();
    CHECK(set_up(true, false, a, b).error() == lib::Error::IO);
    CHECK(g_freed == std::vector<uint64_t> {0x2000, 0x1000});
    g_freed.clear();
    CHECK(set_up(true, true, a, b).ok());
    CHECK(g_freed.empty());
    CHECK(a == 0x1000);
    CHECK(b == 0x2000);
}

TEST_CASE("owned: a reference is dropped once, and reached through ->")
{
    Obj o;
    o.refs = 2;
    {
        Ref r(&o);
        CHECK(r->refs == 2);
        Ref moved = std::move(r);
    }
    CHECK(o.refs == 1);
}
