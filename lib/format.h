// The printf engine behind kprintf and ksnprintf, written once for the kernel
// and tested on the host against glibc's snprintf.
//
// Supports the C conversions the kernel uses: d i u x X o c s p %, flags
// '-' '+' ' ' '#' '0', width and precision (also '*'), and the length
// modifiers hh h l ll z t j. No floating point: the kernel has none.
#pragma once

#include "lib/function_ref.h"

#include <cstdarg>
#include <cstddef>
#include <cstdint>

namespace lib {

// Called for each run of output characters.
using FormatSink = lib::FunctionRef<void(const char* s, size_t n)>;

// Returns the number of characters produced.
size_t vformat(FormatSink sink, const char* fmt, va_list ap);

// snprintf semantics: always NUL-terminates when size > 0, returns the length
// the full output would have had.
size_t vformat_buf(char* buf, size_t size, const char* fmt, va_list ap);

// A size for people, as the disk and partition lines print it: "N GiB" for a
// whole number of GiB, else "N MiB" from 1 MiB up, else "N KiB" (rounded
// down). Returns what vformat_buf returns.
size_t format_size(char* buf, size_t size, uint64_t bytes);

} // namespace lib
