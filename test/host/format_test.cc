// lib/format against glibc's snprintf: the same format and arguments must give
// the same bytes.
#include "lib/format.h"

#include <doctest/doctest.h>

#include <cstdarg>
#include <cstdint>
#include <cstdio>
#include <string>

namespace {
std::string ours(const char* fmt, ...)
{
    char buf[256];
    va_list ap;
    va_start(ap, fmt);
    size_t n = lib::vformat_buf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    REQUIRE(n < sizeof buf);
    return std::string(buf, n);
}

std::string theirs(const char* fmt, ...)
{
    char buf[256];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    return std::string(buf, n);
}
} // namespace

#define SAME(...) CHECK(ours(__VA_ARGS__) == theirs(__VA_ARGS__))

TEST_CASE("format: integers in every base, flag and width")
{
    SAME("%d %i %u", 42, -17, 4000000000u);
    SAME("[%5d] [%-5d] [%05d] [%+d] [% d]", 42, 42, 42, 42, 42);
    SAME("[%x] [%X] [%#x] [%#X] [%o] [%#o]", 0xbeef, 0xbeef, 0xbeef, 0xbeef, 8, 8);
    SAME("[%.3d] [%8.3d] [%-8.3d] [%08.3d]", 5, 5, 5, 5);
    SAME("[%.0d] [%.0x] [%#.0o]", 0, 0, 0);
    SAME("%ld %lu %lx", -1234567890123L, 18446744073709551615UL, 0xdeadbeefcafeUL);
    SAME("%lld %llu", -9223372036854775807LL - 1, 12345ULL);
    SAME("%hd %hu %hhd %hhu", 70000, 70000, 300, 300);
    SAME("%zu %zd %td %jd", size_t(99), ptrdiff_t(-5), ptrdiff_t(7), intmax_t(-8));
    SAME("[%*d] [%-*d] [%.*d]", 6, 1, 6, 1, 4, 1);
    SAME("[%016lx]", 0xffffffc000000000UL);
}

TEST_CASE("format: strings, chars, pointers, percent")
{
    SAME("[%s] [%10s] [%-10s] [%.2s]", "abc", "abc", "abc", "abc");
    SAME("[%c] [%3c] [%-3c]", 'x', 'y', 'z');
    SAME("100%%");
    SAME("%p", reinterpret_cast<void*>(0x80200000UL));
    CHECK(ours("%s", static_cast<const char*>(nullptr)) == "(null)");
}

TEST_CASE("format: truncation keeps snprintf's contract")
{
    char buf[8];
    auto f = [&](const char* fmt, ...) {
        va_list ap;
        va_start(ap, fmt);
        size_t n = lib::vformat_buf(buf, sizeof buf, fmt, ap);
        va_end(ap);
        return n;
    };
    CHECK(f("hello, %s", "world") == 12);
    CHECK(std::string(buf) == "hello, ");
    CHECK(f("%d", 7) == 1);
    CHECK(std::string(buf) == "7");
}

TEST_CASE("format_size: GiB when whole, else MiB from 1 MiB, else KiB, rounded down")
{
    auto size = [](uint64_t bytes) {
        char buf[24];
        size_t n = lib::format_size(buf, sizeof buf, bytes);
        CHECK(n == std::string(buf).size());
        return std::string(buf);
    };
    CHECK(size(0) == "0 KiB");
    CHECK(size(1023) == "0 KiB");
    CHECK(size(512 * 1024) == "512 KiB");
    CHECK(size((1ull << 20) - 1) == "1023 KiB");
    CHECK(size(1ull << 20) == "1 MiB");
    CHECK(size(8ull << 20) == "8 MiB");
    CHECK(size((8ull << 20) + 4096) == "8 MiB");
    CHECK(size(1ull << 30) == "1 GiB");
    CHECK(size(4ull << 30) == "4 GiB");
    CHECK(size((1ull << 30) + (1ull << 20)) == "1025 MiB");
    CHECK(size(3ull << 40) == "3072 GiB");
    char small[4];
    CHECK(lib::format_size(small, sizeof small, 8ull << 20) == 5);
    CHECK(std::string(small) == "8 M");
}

