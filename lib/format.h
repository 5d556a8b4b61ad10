// The printf engine behind kprintf and ksnprintf, written once for the kernel
// and tested on the host against glibc's snprintf.
//
// Supports the C conversions the kernel uses: d i u x X o c s p %, flags
// '-' '+' ' ' '#' '0', width and precision (also '*'), and the length
// modifiers hh h l ll z t j. Floating point (f F e E g G) only through a
// FloatFormatter the caller passes: the kernel has none, the user library's
// printf passes one (user/lib/format_float.cc), so no double arithmetic is in
// this file.
#pragma once

#include "lib/function_ref.h"

#include <cstdarg>
#include <cstddef>
#include <cstdint>

namespace lib {

// Called for each run of output characters.
using FormatSink = lib::FunctionRef<void(const char* s, size_t n)>;

// A floating-point conversion: which one, its precision (-1: none given) and '#'.
struct FloatSpec {
    char conv;
    int precision;
    bool alt;
};
// What a FloatFormatter wrote: len characters of digits, point and exponent,
// without sign or padding, which the engine adds (zeros only for finite ones).
struct FloatDigits {
    size_t len;
    bool negative;
    bool finite;
};
// Takes the double from ap and writes its digits into buf (size >= 64).
using FloatFormatter = FloatDigits (*)(va_list& ap, const FloatSpec& spec, char* buf, size_t size);

// Returns the number of characters produced. Without a FloatFormatter a
// floating-point conversion is printed as written and takes no argument.
size_t vformat(FormatSink sink, const char* fmt, va_list ap, FloatFormatter ff = nullptr);

// snprintf semantics: always NUL-terminates when size > 0, returns the length
// the full output would have had.
size_t vformat_buf(char* buf, size_t size, const char* fmt, va_list ap, FloatFormatter ff = nullptr);

// A size for people, as the disk and partition lines print it: "N GiB" for a
// whole number of GiB, else "N MiB" from 1 MiB up, else "N KiB" (rounded
// down). Returns what vformat_buf returns.
size_t format_size(char* buf, size_t size, uint64_t bytes);

} // namespace lib
