// Doubles for the user printf: lib/format's FloatFormatter (lib/format.h).
// User code only: the kernel has no floating point, and lib/format.cc
// itself does no double arithmetic.
//
// %f %e %g and their capitals, with precision (default 6) and '#', as C
// prints them (test/host/format_float_test.cc compares with glibc), within
// two limits of a freestanding formatter: at most 17 digits after the point
// are computed (a larger precision is taken as 17), and %f of a magnitude of
// 1e18 or more prints as %e. Rounding is to nearest, ties to even, on the
// exact value for %f and, for %e and %g, for magnitudes between about 1e-22
// and 1e22 (beyond, the powers of ten used to scale are rounded themselves
// and the last digit printed may be off by one).
#pragma once

#include "lib/format.h"

namespace zest {

lib::FloatDigits format_double(va_list& ap, const lib::FloatSpec& spec, char* buf, size_t size);

} // namespace zest
