// printf of doubles (user/lib/format_float.cc): each line's snprintf against
// what C's printf prints. Exits 0, or the number (from 1) of the first line
// that differs, after printing it.
#include "user/lib/zest.h"

using namespace zest;

namespace {

struct Case {
    const char* fmt;
    double v;
    const char* want;
};

// Built at run time: the kernel's printf engine has no floating point, so
// neither may the compiler's constant folding be what is tested here.
volatile double g_inf = __builtin_inf(), g_nan = __builtin_nan("");

} // namespace

int main(long)
{
    const Case cases[] = {
        {"%f", 3.14159265358979, "3.141593"},
        {"%.2f", 0.125, "0.12"},      // a tie: to even
        {"%.1f", 0.95, "0.9"},        // 0.95 is below the tie in binary
        {"%.0f", 2.5, "2"},
        {"%.0f", 3.5, "4"},
        {"%#.0f", 3.0, "3."},
        {"%8.3f", -1.5, "  -1.500"},
        {"%08.3f", -1.5, "-001.500"},
        {"%-8.1f|", 2.25, "2.2     |"},
        {"%+.1f", 1.0, "+1.0"},
        {"% .2f", 2.0, " 2.00"},
        {"%.10f", 1.0 / 3, "0.3333333333"},
        {"%f", 1e17, "100000000000000000.000000"},
        {"%f", 0.0, "0.000000"},
        {"%f", -0.0, "-0.000000"},
        {"%.3f", 9.9996, "10.000"},
        {"%e", 12345.678, "1.234568e+04"},
        {"%.3e", 0.000123456, "1.235e-04"},
        {"%E", 1e300, "1.000000E+300"},
        {"%e", 0.0, "0.000000e+00"},
        {"%.2e", 9.999, "1.00e+01"},
        {"%12.4e", -2.5e-10, " -2.5000e-10"},
        {"%g", 0.0001, "0.0001"},
        {"%g", 0.00001, "1e-05"},
        {"%g", 123456789.0, "1.23457e+08"},
        {"%g", 100.0, "100"},
        {"%g", 0.5, "0.5"},
        {"%G", 1.5e-7, "1.5E-07"},
        {"%#g", 1.0, "1.00000"},
        {"%.3g", 1234.5, "1.23e+03"},
        {"%f", g_inf, "inf"},
        {"%5.1f", -g_inf, " -inf"},
        {"%05.1f", g_inf, "  inf"},
        {"%F", g_nan, "NAN"},
        {"%e", 4.9406564584124654e-324, "4.940656e-324"},
        {"%e", 1.7976931348623157e308, "1.797693e+308"},
    };
    int n = int(sizeof cases / sizeof cases[0]);
    for (int i = 0; i < n; i++) {
        char got[64];
        snprintf(got, sizeof got, cases[i].fmt, cases[i].v);
        if (strcmp(got, cases[i].want) != 0) {
            printf("fpprint: line %d: \"%s\" of %s printed \"%s\"\n", i + 1, cases[i].fmt, cases[i].want, got);
            return i + 1;
        }
    }
    // Mixed with integer conversions: the argument list stays in step.
    char mixed[64];
    snprintf(mixed, sizeof mixed, "%d %.1f %s %e %x", 7, 0.5, "x", 2.0, 255u);
    if (strcmp(mixed, "7 0.5 x 2.000000e+00 ff") != 0) {
        printf("fpprint: mixed printed \"%s\"\n", mixed);
        return n + 1;
    }
    printf("fpprint: %d conversions of doubles as C prints them (pi = %.5f, e = %g)\n", n + 1, 3.14159265358979,
           2.718281828459045);
    return 0;
}
