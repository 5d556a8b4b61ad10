// Doubles for the user printf (user/lib/format_float.h says what it prints).
#include "user/lib/format_float.h"

#include <cstdint>

namespace zest {
namespace {

constexpr int MAX_PRECISION = 17;
// %f prints the integer part as a uint64_t: below this, it fits, and so does
// the rounding carry.
constexpr double FIXED_LIMIT = 1e18;

constexpr uint64_t pow10(int n) { return n == 0 ? 1 : 10 * pow10(n - 1); }

struct Out {
    char* p;
    size_t cap;
    size_t n = 0;
    void put(char c)
    {
        if (n + 1 < cap)
            p[n++] = c;
    }
    void put(const char* s)
    {
        while (*s)
            put(*s++);
    }
    // v in decimal, at least `min` digits.
    void number(uint64_t v, int min)
    {
        char t[24];
        int k = 0;
        do {
            t[k++] = char('0' + v % 10);
            v /= 10;
        } while (v);
        while (k < min)
            t[k++] = '0';
        while (k)
            put(t[--k]);
    }
};

// (hi + lo) * scale rounded to an integer, ties to even (0 <= it < 2^64;
// lo is hi's error, far below its last bit). The product t is rounded, and
// hi may be too: how far the exact value lies above q + 0.5 is (t - q - 0.5),
// exact, plus the fused multiply-add's exact remainder of t and lo's share.
// That tells a true tie from a product that only rounded onto one (0.95 * 10
// gives 9.5, but 0.95 is below it) or off one (1234.5 / 1000 * 1000). Within
// rounding noise of lo (2^-80 of the product) it is a true tie.
uint64_t round_product(double hi, double lo, double scale)
{
    double t = hi * scale;
    double err = __builtin_fma(hi, scale, -t) + lo * scale;
    uint64_t q = uint64_t(t);
    double above = (t - double(q) - 0.5) + err;
    if (above < t * 0x1p-80 && above > -t * 0x1p-80)
        above = 0;
    if (above > 0 || (above == 0 && (q & 1)))
        q++;
    return q;
}

// x > 0 as (hi + lo) * 10^e with 1 <= hi < 10: divided or multiplied by
// powers of ten greedily, largest first (at most 9 steps). lo carries each
// step's exact remainder (fma), so up to 1e22, whose powers of ten are exact
// doubles, the tie decisions of round_product are exact; beyond, the powers
// themselves are rounded and the last digit may be off by one.
void decompose(double x, double& hi, double& lo, int& e)
{
    static constexpr double POW[] = {1e256, 1e128, 1e64, 1e32, 1e16, 1e8, 1e4, 1e2, 1e1};
    static constexpr int EXP[] = {256, 128, 64, 32, 16, 8, 4, 2, 1};
    e = 0;
    lo = 0;
    for (int i = 0; i < 9; i++) {
        if (x >= 10) {
            if (x >= POW[i]) {
                double q = x / POW[i];
                lo = (__builtin_fma(-q, POW[i], x) + lo) / POW[i];
                x = q;
                e += EXP[i];
            }
        } else if (x < 1 && x * POW[i] < 10) {
            double p = x * POW[i];
            lo = __builtin_fma(x, POW[i], -p) + lo * POW[i];
            x = p;
            e -= EXP[i];
        }
    }
    hi = x;
}

// x >= 0 finite in fixed notation, x < FIXED_LIMIT.
void fixed(Out& o, double x, int prec, bool alt)
{
    // Without digits after the point a tie goes to the even integer part.
    uint64_t ip = prec ? uint64_t(x) : round_product(x, 0, 1.0);
    uint64_t frac = prec ? round_product(x - double(ip), 0, double(pow10(prec))) : 0;
    if (frac >= pow10(prec)) {
        ip++;
        frac -= pow10(prec);
    }
    o.number(ip, 1);
    if (prec || alt)
        o.put('.');
    if (prec)
        o.number(frac, prec);
}

// x >= 0 finite as the digits of d.ddd (prec after the point) and exponent e.
void scientific_digits(double x, int prec, uint64_t& digits, int& e)
{
    if (x == 0) {
        digits = 0;
        e = 0;
        return;
    }
    double hi, lo;
    decompose(x, hi, lo, e);
    digits = round_product(hi, lo, double(pow10(prec)));
    if (digits >= pow10(prec + 1)) { // 9.99... rounded up to 10
        digits = pow10(prec);
        e++;
    }
}

void scientific(Out& o, double x, int prec, bool alt, bool upper)
{
    uint64_t digits;
    int e;
    scientific_digits(x, prec, digits, e);
    o.number(digits / pow10(prec), 1);
    if (prec || alt)
        o.put('.');
    if (prec)
        o.number(digits % pow10(prec), prec);
    o.put(upper ? 'E' : 'e');
    o.put(e < 0 ? '-' : '+');
    o.number(uint64_t(e < 0 ? -e : e), 2);
}

// %g without '#': no trailing zeros in the fraction, no point without one.
void strip_zeros(Out& o)
{
    size_t point = o.n, exp = o.n;
    for (size_t i = 0; i < o.n; i++) {
        if (o.p[i] == '.')
            point = i;
        if (o.p[i] == 'e' || o.p[i] == 'E')
            exp = i;
    }
    if (point == o.n)
        return;
    size_t end = exp;
    while (end > point + 1 && o.p[end - 1] == '0')
        end--;
    if (end == point + 1)
        end = point;
    size_t k = end;
    for (size_t i = exp; i < o.n; i++)
        o.p[k++] = o.p[i];
    o.n = k;
}

void general(Out& o, double x, int prec, bool alt, bool upper)
{
    int p = prec == 0 ? 1 : prec;
    uint64_t digits;
    int e;
    scientific_digits(x, p - 1, digits, e);
    if (e < p && e >= -4 && x < FIXED_LIMIT)
        fixed(o, x, p - 1 - e > MAX_PRECISION ? MAX_PRECISION : p - 1 - e, alt);
    else
        scientific(o, x, p - 1, alt, upper);
    if (!alt)
        strip_zeros(o);
}

} // namespace

lib::FloatDigits format_double(va_list& ap, const lib::FloatSpec& spec, char* buf, size_t size)
{
    double v = va_arg(ap, double);
    Out o {buf, size};
    bool upper = spec.conv == 'F' || spec.conv == 'E' || spec.conv == 'G';
    bool negative = __builtin_signbit(v);
    double x = negative ? -v : v;
    if (x != x || x > __DBL_MAX__) {
        o.put(x != x ? (upper ? "NAN" : "nan") : (upper ? "INF" : "inf"));
        return {o.n, negative, false};
    }
    int prec = spec.precision < 0 ? 6 : spec.precision > MAX_PRECISION ? MAX_PRECISION : spec.precision;
    switch (spec.conv) {
    case 'f':
    case 'F':
        if (x < FIXED_LIMIT)
            fixed(o, x, prec, spec.alt);
        else
            scientific(o, x, prec, spec.alt, upper);
        break;
    case 'e':
    case 'E': scientific(o, x, prec, spec.alt, upper); break;
    default: general(o, x, prec, spec.alt, upper); break;
    }
    return {o.n, negative, true};
}

} // namespace zest
