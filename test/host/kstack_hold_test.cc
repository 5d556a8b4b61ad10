// Stack hold counting: RAII holds nest, release below zero is caught.
#include "kstack/hold.h"
#include "test/host/host_kernel.h"

#include <doctest/doctest.h>

#include <thread>
#include <vector>

TEST_CASE("kstack hold: RAII holds nest and release")
{
    kstack::HoldCount c;
    CHECK_FALSE(c.held());
    {
        kstack::Hold a(c);
        CHECK(c.count() == 1);
        {
            kstack::Hold b(c);
            CHECK(c.count() == 2);
        }
        CHECK(c.count() == 1);
        CHECK(c.held());
    }
    CHECK(c.count() == 0);
    CHECK_FALSE(c.held());
}

TEST_CASE("kstack hold: an unbalanced release panics")
{
    kstack::HoldCount c;
    CHECK_THROWS_AS(c.release(), HostPanic);
}

TEST_CASE("kstack hold: concurrent holders from many harts balance")
{
    kstack::HoldCount c;
    std::vector<std::thread> ts;
    for (int h = 0; h < 4; h++)
        ts.emplace_back([&] {
            for (int i = 0; i < 10000; i++) {
                kstack::Hold x(c);
                kstack::Hold y(c);
            }
        });
    for (auto& t : ts)
        t.join();
    CHECK(c.count() == 0);
}
