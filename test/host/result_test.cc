// lib/result.h: TRY returns the error from the enclosing function and yields the
// value otherwise, for Result<T> and for Status.
#include "lib/result.h"

#include <doctest/doctest.h>

namespace {
using lib::Error;
using lib::Result;
using lib::Status;

int g_evaluations;

Result<int> number(bool ok, int v)
{
    g_evaluations++;
    if (!ok)
        return Error::NotFound;
    return v;
}

Status check(bool ok) { return ok ? Status() : Status(Error::IO); }

Result<int> sum(bool a_ok, bool b_ok)
{
    int a = TRY(number(a_ok, 2));
    int b = TRY(number(b_ok, 3));
    return a + b;
}

Status both(bool first, bool second, int& reached)
{
    TRY(check(first));
    reached = 1;
    TRY(check(second));
    reached = 2;
    return {};
}

Status value_into_status(bool ok, int& out)
{
    out = TRY(number(ok, 7));
    return {};
}

struct MoveOnly {
    MoveOnly() = default;
    explicit MoveOnly(int v) : v(v) {}
    MoveOnly(MoveOnly&& o) : v(o.v) { o.v = -1; }
    MoveOnly& operator=(MoveOnly&& o)
    {
        v = o.v;
        o.v = -1;
        return *this;
    }
    int v = 0;
};

Result<MoveOnly> make(bool ok)
{
    if (!ok)
        return Error::NoMemory;
    return MoveOnly(5);
}

Result<int> unwrap_move_only(bool ok)
{
    MoveOnly m = TRY(make(ok));
    return m.v;
}
} // namespace

TEST_CASE("TRY: a value on success, the first error otherwise")
{
    g_evaluations = 0;
    auto r = sum(true, true);
    REQUIRE(r.ok());
    CHECK(r.value() == 5);
    CHECK(g_evaluations == 2);

    g_evaluations = 0;
    auto e = sum(false, true);
    CHECK(e.error() == Error::NotFound);
    CHECK(g_evaluations == 1); // returned before the second call

    CHECK(sum(true, false).error() == Error::NotFound);
}

TEST_CASE("TRY: Status propagates and stops at the failure")
{
    int reached = 0;
    CHECK(both(true, true, reached).ok());
    CHECK(reached == 2);
    reached = 0;
    CHECK(both(true, false, reached).error() == Error::IO);
    CHECK(reached == 1);
    reached = 0;
    CHECK(both(false, true, reached).error() == Error::IO);
    CHECK(reached == 0);
}

TEST_CASE("TRY: a Result's error returned from a Status function")
{
    int out = 0;
    CHECK(value_into_status(true, out).ok());
    CHECK(out == 7);
    out = 0;
    CHECK(value_into_status(false, out).error() == Error::NotFound);
    CHECK(out == 0);
}

TEST_CASE("TRY: a move-only value is moved out of a temporary")
{
    auto r = unwrap_move_only(true);
    REQUIRE(r.ok());
    CHECK(r.value() == 5);
    CHECK(unwrap_move_only(false).error() == Error::NoMemory);
}
