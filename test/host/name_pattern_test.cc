// lib/name_pattern: the ktest= and kbench= patterns.
#include "lib/name_pattern.h"

#include <doctest/doctest.h>

TEST_CASE("name_pattern: full names, prefixes and all")
{
    CHECK(lib::name_matches("vm_phys", "vm_phys"));
    CHECK_FALSE(lib::name_matches("vm_phys", "vm_phy"));
    CHECK_FALSE(lib::name_matches("vm_phy", "vm_phys"));
    CHECK(lib::name_matches("vm_phys", "vm_*"));
    CHECK(lib::name_matches("vm_phys", "*"));
    CHECK_FALSE(lib::name_matches("zalloc_zone", "vm_*"));
    CHECK(lib::name_matches("anything", "all"));
    CHECK(lib::name_matches("al", "all")); // "all" is every name, not a name
    CHECK(lib::name_matches("all", "all"));
    CHECK_FALSE(lib::name_matches("vm_phys", ""));
}

TEST_CASE("name_pattern: comma-separated lists")
{
    CHECK(lib::name_matches("b", "a,b,c"));
    CHECK(lib::name_matches("c", "a,b,c"));
    CHECK(lib::name_matches("kstack_swap", "vm_*,kstack_*"));
    CHECK_FALSE(lib::name_matches("d", "a,b,c"));
    CHECK(lib::name_matches("a", ",a,"));
    CHECK(lib::name_matches("b", "a,,b"));
    CHECK_FALSE(lib::name_matches("ab", "a,b"));
}

TEST_CASE("name_pattern: explicit-only names need their full name")
{
    CHECK(lib::name_matches("slow", "slow", true));
    CHECK(lib::name_matches("slow", "fast,slow", true));
    CHECK_FALSE(lib::name_matches("slow", "all", true));
    CHECK_FALSE(lib::name_matches("slow", "sl*", true));
    CHECK_FALSE(lib::name_matches("slow", "*", true));
}

TEST_CASE("name_pattern: -ENTRY leaves names out, wherever it stands")
{
    CHECK_FALSE(lib::name_matches("threads_100k", "all,-threads_100k"));
    CHECK_FALSE(lib::name_matches("threads_100k", "-threads_100k,all"));
    CHECK(lib::name_matches("threads_small", "all,-threads_100k"));
    CHECK_FALSE(lib::name_matches("kswap_a", "all,-kswap_*"));
    CHECK(lib::name_matches("vm_phys", "all,-kswap_*"));
    CHECK_FALSE(lib::name_matches("vm_phys", "-vm_phys")); // nothing put in
    CHECK_FALSE(lib::name_matches("slow", "slow,-slow", true));
    CHECK_FALSE(lib::name_matches("x", "-"));
}
