// lib/function_ref.h: calls reach the referenced callable with its state, and
// the type stays two trivially copyable words.
#include "lib/function_ref.h"

#include <doctest/doctest.h>

#include <type_traits>

namespace {
int twice(int x) { return 2 * x; }

int call(lib::FunctionRef<int(int)> f, int x) { return f(x); }

void count_to(int n, lib::FunctionRef<void(int)> f)
{
    for (int i = 0; i < n; i++)
        f(i);
}
} // namespace

static_assert(std::is_trivially_copyable_v<lib::FunctionRef<int(int)>>);
static_assert(sizeof(lib::FunctionRef<int(int)>) == 2 * sizeof(void*));

TEST_CASE("function_ref: a lambda sees and changes the caller's state")
{
    int sum = 0;
    count_to(5, [&](int i) { sum += i; });
    CHECK(sum == 10);
}

TEST_CASE("function_ref: a plain function")
{
    CHECK(call(twice, 21) == 42);
    CHECK(call(&twice, 4) == 8);
}

TEST_CASE("function_ref: a const callable and a copy refer to the same object")
{
    struct Add {
        int k;
        int operator()(int x) const { return x + k; }
    };
    const Add add {3};
    lib::FunctionRef<int(int)> f = add;
    lib::FunctionRef<int(int)> g = f;
    CHECK(g(4) == 7);
}

TEST_CASE("function_ref: a reference argument is passed through, not copied")
{
    int v = 1;
    auto bump = [](int& x) { x++; };
    lib::FunctionRef<void(int&)> f = bump;
    f(v);
    f(v);
    CHECK(v == 3);
}

TEST_CASE("function_ref: a result convertible to R")
{
    lib::FunctionRef<bool(int)> even = [](int x) { return x % 2 == 0 ? 1 : 0; };
    CHECK(even(4));
    CHECK_FALSE(even(3));
}
