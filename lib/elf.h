// ELF64 executable parsing for the program loader: hardware-free, host-tested
// (test/host/elf_test.cc). parse() checks every header field the loader relies
// on and every loadable segment, and returns the segments and entry point, or
// an error naming the problem (one short phrase, and the segment it concerns):
// a bad image is refused, never half-loaded and never a fault.
#pragma once

#include "lib/page.h"
#include "lib/result.h"

#include <cstddef>
#include <cstdint>

namespace lib::elf {

enum SegFlags : uint32_t { PF_X = 1, PF_W = 2, PF_R = 4 };

struct Segment {
    uint64_t vaddr;
    uint64_t memsz;
    uint64_t offset; // of the file bytes
    uint64_t filesz; // the rest, up to memsz, is zero
    uint32_t flags;  // PF_*
};

constexpr size_t MAX_SEGMENTS = 8;
constexpr size_t MAX_PHDRS = 64;

struct Image {
    uint64_t entry = 0;
    size_t nsegments = 0;
    Segment seg[MAX_SEGMENTS] = {};
};

struct ParseError {
    const char* what = nullptr; // e.g. "segment is writable and executable"
    int phdr = -1;              // program header index it concerns, or -1
};

// Parse an ET_EXEC RISC-V ELF64 image of `size` bytes whose loadable
// segments must lie inside [lo, hi). On failure err says why.
[[nodiscard]] Result<Image> parse(const void* data, size_t size, uint64_t lo, uint64_t hi, ParseError& err);

} // namespace lib::elf
