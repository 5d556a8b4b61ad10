// Kernel command line (/chosen/bootargs, QEMU -append): space-separated
// words, each "key" or "key=value".
#pragma once

#include <cstddef>

namespace kern::bootargs {

void set(const char* cmdline);
const char* raw();
// Copies the value of `key` into buf (NUL-terminated); false if absent.
[[nodiscard]] bool get(const char* key, char* buf, size_t size);
[[nodiscard]] bool has(const char* key);

} // namespace kern::bootargs
