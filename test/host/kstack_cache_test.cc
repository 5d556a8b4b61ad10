// The stack cache policy: the hart's cache first, then the global cache up to
// FreeBSD's max(128, 4 x harts), then teardown; trimmed only under pressure.
#include "kstack/cache_policy.h"

#include <doctest/doctest.h>

using kstack::CacheChoice;
using kstack::CachePolicy;

TEST_CASE("kstack cache policy: where a freed stack goes")
{
    const size_t limit = CachePolicy::global_limit(4);
    CHECK(limit == 128);
    CHECK(CachePolicy::global_limit(64) == 256);
    CHECK(CachePolicy::on_free(0, 0, limit) == CacheChoice::Hart);
    CHECK(CachePolicy::on_free(CachePolicy::HART_CACHE - 1, 500, limit) == CacheChoice::Hart);
    CHECK(CachePolicy::on_free(CachePolicy::HART_CACHE, 0, limit) == CacheChoice::Global);
    CHECK(CachePolicy::on_free(CachePolicy::HART_CACHE, limit - 1, limit) == CacheChoice::Global);
    CHECK(CachePolicy::on_free(CachePolicy::HART_CACHE, limit, limit) == CacheChoice::Destroy);
    CHECK(CachePolicy::on_free(CachePolicy::HART_CACHE, 0, 0) == CacheChoice::Destroy);
}

TEST_CASE("kstack cache policy: the cache costs nothing until memory is short")
{
    CHECK(CachePolicy::trim(100, false) == 0);
    CHECK(CachePolicy::trim(100, true) == 100);
    CHECK(CachePolicy::trim(0, true) == 0);
}
