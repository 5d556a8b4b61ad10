#include "lib/elf.h"

#include "lib/string.h"

namespace lib::elf {
namespace {

// The on-disk layouts (ELF-64 Object File Format, version 1.5).
struct Ehdr {
    uint8_t ident[16];
    uint16_t type, machine;
    uint32_t version;
    uint64_t entry, phoff, shoff;
    uint32_t flags;
    uint16_t ehsize, phentsize, phnum, shentsize, shnum, shstrndx;
};
struct Phdr {
    uint32_t type, flags;
    uint64_t offset, vaddr, paddr, filesz, memsz, align;
};
static_assert(sizeof(Ehdr) == 64 && sizeof(Phdr) == 56, "ELF64 header sizes");

constexpr uint16_t ET_EXEC = 2;
constexpr uint16_t EM_RISCV = 243;
constexpr uint32_t PT_LOAD = 1, PT_DYNAMIC = 2, PT_INTERP = 3;

Error fail(ParseError& err, const char* what, int phdr = -1)
{
    err.what = what;
    err.phdr = phdr;
    return Error::Invalid;
}

uint64_t page_down(uint64_t x) { return x & ~(PAGE_SIZE - 1); }

} // namespace

Result<Image> parse(const void* data, size_t size, uint64_t lo, uint64_t hi, ParseError& err)
{
    err = {};
    const auto* bytes = static_cast<const uint8_t*>(data);
    if (!data || size < sizeof(Ehdr))
        return fail(err, "file too small for an ELF header");
    Ehdr eh;
    memcpy(&eh, bytes, sizeof eh); // the image need not be aligned
    if (eh.ident[0] != 0x7f || eh.ident[1] != 'E' || eh.ident[2] != 'L' || eh.ident[3] != 'F')
        return fail(err, "bad magic: not an ELF file");
    if (eh.ident[4] != 2)
        return fail(err, "not a 64-bit ELF file");
    if (eh.ident[5] != 1)
        return fail(err, "not little-endian");
    if (eh.ident[6] != 1 || eh.version != 1)
        return fail(err, "unknown ELF version");
    if (eh.type != ET_EXEC)
        return fail(err, "not a static executable (ELF type is not EXEC)");
    if (eh.machine != EM_RISCV)
        return fail(err, "not a RISC-V executable");
    if (eh.phentsize != sizeof(Phdr))
        return fail(err, "bad program header size");
    if (eh.phnum == 0)
        return fail(err, "no program headers");
    if (eh.phnum > MAX_PHDRS)
        return fail(err, "too many program headers");
    if (eh.phoff > size || uint64_t(eh.phnum) * sizeof(Phdr) > size - eh.phoff)
        return fail(err, "program header table outside the file");

    Image img;
    for (int i = 0; i < eh.phnum; i++) {
        Phdr ph;
        memcpy(&ph, bytes + eh.phoff + size_t(i) * sizeof(Phdr), sizeof ph);
        if (ph.type == PT_INTERP || ph.type == PT_DYNAMIC)
            return fail(err, "dynamically linked (needs an interpreter)", i);
        if (ph.type != PT_LOAD || ph.memsz == 0)
            continue;
        if (ph.filesz > ph.memsz)
            return fail(err, "segment file size larger than its memory size", i);
        if (ph.offset > size || ph.filesz > size - ph.offset)
            return fail(err, "segment data outside the file", i);
        if (ph.vaddr < lo || ph.vaddr > hi || ph.memsz > hi - ph.vaddr)
            return fail(err, "segment outside user space", i);
        if ((ph.flags & PF_W) && (ph.flags & PF_X))
            return fail(err, "segment is writable and executable", i);
        if (!(ph.flags & (PF_R | PF_W | PF_X)))
            return fail(err, "segment has no access permissions", i);
        if (img.nsegments == MAX_SEGMENTS)
            return fail(err, "too many loadable segments", i);
        // Pages are mapped per segment: two segments may not share a page.
        uint64_t a0 = page_down(ph.vaddr), a1 = page_down(ph.vaddr + ph.memsz - 1);
        for (size_t j = 0; j < img.nsegments; j++) {
            const Segment& s = img.seg[j];
            uint64_t b0 = page_down(s.vaddr), b1 = page_down(s.vaddr + s.memsz - 1);
            if (a0 <= b1 && b0 <= a1)
                return fail(err, "segments overlap (or share a page)", i);
        }
        img.seg[img.nsegments++] = {ph.vaddr, ph.memsz, ph.offset, ph.filesz, ph.flags & (PF_R | PF_W | PF_X)};
    }
    if (img.nsegments == 0)
        return fail(err, "no loadable segment");
    bool entry_ok = false;
    for (size_t j = 0; j < img.nsegments; j++) {
        const Segment& s = img.seg[j];
        if ((s.flags & PF_X) && eh.entry >= s.vaddr && eh.entry - s.vaddr < s.memsz)
            entry_ok = true;
    }
    if (!entry_ok)
        return fail(err, "entry point outside every executable segment");
    img.entry = eh.entry;
    return img;
}

} // namespace lib::elf
