// The user programs embedded in the kernel image (user/, built by the
// Makefile into $(BUILD)/user/*.elf and pulled in by a generated
// $(BUILD)/user_programs.S with .incbin), found by name.
#pragma once

#include <cstddef>
#include <cstdint>

namespace kern::programs {

struct Program {
    const char* name;
    const uint8_t* image;
    uint64_t size;
};

// nullptr if no program has that name.
const Program* find(const char* name);
size_t count();
const Program& at(size_t i);

} // namespace kern::programs
