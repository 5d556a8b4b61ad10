// The user printf's doubles (user/lib/format_float.cc through lib/format's
// FloatFormatter) against glibc's snprintf, within the documented limits
// (%f below 1e18, precision at most 17).
#include "lib/format.h"
#include "user/lib/format_float.h"

#include <doctest/doctest.h>

#include <cstdarg>
#include <cstdio>
#include <string>

namespace {
std::string ours(const char* fmt, ...)
{
    char buf[256];
    va_list ap;
    va_start(ap, fmt);
    size_t n = lib::vformat_buf(buf, sizeof buf, fmt, ap, zest::format_double);
    va_end(ap);
    REQUIRE(n < sizeof buf);
    return std::string(buf, n);
}

std::string theirs(const char* fmt, double v)
{
    char buf[256];
    int n = snprintf(buf, sizeof buf, fmt, v);
    return std::string(buf, n);
}
} // namespace

TEST_CASE("format_float: %f %e %g of many values match glibc")
{
    const double values[] = {0.0, -0.0, 0.5, 1.0, 2.5, 3.5, 0.125, 1.0 / 3, 2.0 / 3, 3.14159265358979, 123.456,
                             1e-5, 1.5e-7, 12345.678, 1e10, 6.02e23, 1e-300, 1e300, 9.9996, 0.95, -1.5, 99.5,
                             1e17, 4.9406564584124654e-324, 1.7976931348623157e308, 0.1, 0.7, 1234.5, 100.0,
                             -273.15, 65536.0, 1e-4, 0.00015, 9999.95, 0.0625, 2.675};
    const char* fixed[] = {"%f", "%.0f", "%.1f", "%.3f", "%.10f", "%-10.2f|", "%+08.2f", "%#.0f", "% .4f"};
    const char* other[] = {"%e", "%.0e", "%.3e", "%12.4E", "%#.0e", "%g", "%.3g", "%#g", "%G", "%.10g", "%-12g|"};
    for (double v : values) {
        if (v < 1e18 && v > -1e18)
            for (const char* f : fixed) {
                INFO(f, " of ", v);
                CHECK(ours(f, v) == theirs(f, v));
            }
        for (const char* f : other) {
            INFO(f, " of ", v);
            CHECK(ours(f, v) == theirs(f, v));
        }
    }
}

TEST_CASE("format_float: infinities and NaN are padded with spaces, never zeros")
{
    const double inf = __builtin_inf();
    for (const char* f : {"%f", "%5.1f", "%05.1f", "%-6e|", "%+g", "%F", "%E"}) {
        INFO(f);
        CHECK(ours(f, inf) == theirs(f, inf));
        CHECK(ours(f, -inf) == theirs(f, -inf));
    }
    CHECK(ours("%f", __builtin_nan("")) == "nan");
    CHECK(ours("%5G", __builtin_nan("")) == "  NAN");
}

TEST_CASE("format_float: without a formatter a float conversion is printed as written")
{
    char buf[32];
    auto call = [&](const char* fmt, ...) {
        va_list ap;
        va_start(ap, fmt);
        lib::vformat_buf(buf, sizeof buf, fmt, ap);
        va_end(ap);
    };
    call("[%.2f] %d", 7);
    CHECK(std::string(buf) == "[%.2f] 7");
}
