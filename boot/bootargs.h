// Kernel command line (/chosen/bootargs, QEMU -append): space-separated
// words, each "key" or "key=value".
#pragma once

#include <cstddef>
#include <cstdint>

namespace kern::bootargs {

void set(const char* cmdline);
const char* raw();
// Copies the value of `key` into buf (NUL-terminated); false if absent.
[[nodiscard]] bool get(const char* key, char* buf, size_t size);
[[nodiscard]] bool has(const char* key);
// The leading decimal digits of `key`'s value (0 if none) into out; false if
// the key is absent.
[[nodiscard]] bool get_number(const char* key, uint64_t& out);

} // namespace kern::bootargs
