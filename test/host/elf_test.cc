// lib/elf: a good image built in memory parses to the right segments; every
// kind of corruption is refused with an error naming it (and the program
// header concerned), never a crash (ASan/UBSan watch the parser's reads).
#include "lib/elf.h"

#include <doctest/doctest.h>

#include <cstring>
#include <string>
#include <vector>

using namespace lib::elf;

namespace {

constexpr uint64_t LO = 0x1000000000ull, HI = 0x4000000000ull;

struct Ph {
    uint32_t type = 1, flags = PF_R | PF_X;
    uint64_t offset = 0, vaddr = 0, paddr = 0, filesz = 0, memsz = 0, align = 4096;
};

// An executable with text (r-x, 0x300 bytes) at LO and data (rw-, 0x80 bytes
// of file, 0x2000 in memory) at LO + 0x1000; entry at LO + 0x10.
struct Builder {
    uint8_t ident[16] = {0x7f, 'E', 'L', 'F', 2, 1, 1};
    uint16_t type = 2, machine = 243;
    uint32_t version = 1;
    uint64_t entry = LO + 0x10, phoff = 64;
    uint16_t phentsize = 56;
    std::vector<Ph> ph;
    size_t file_size = 0x2000;

    Builder()
    {
        ph.push_back({1, PF_R | PF_X, 0x1000, LO, LO, 0x300, 0x300, 4096});
        ph.push_back({1, PF_R | PF_W, 0x1300, LO + 0x1000, LO + 0x1000, 0x80, 0x2000, 4096});
    }

    std::vector<uint8_t> build() const
    {
        std::vector<uint8_t> f(file_size, 0xcc);
        auto put = [&](size_t off, const void* p, size_t n) {
            if (off <= f.size() && n <= f.size() - off)
                std::memcpy(f.data() + off, p, n);
        };
        put(0, ident, 16);
        put(16, &type, 2);
        put(18, &machine, 2);
        put(20, &version, 4);
        put(24, &entry, 8);
        put(32, &phoff, 8);
        uint16_t ehsize = 64, phnum = static_cast<uint16_t>(ph.size());
        put(52, &ehsize, 2);
        put(54, &phentsize, 2);
        put(56, &phnum, 2);
        for (size_t i = 0; i < ph.size(); i++)
            put(phoff + i * 56, &ph[i], 56);
        return f;
    }
};
static_assert(sizeof(Ph) == 56);

// Parse and return the error text ("" if it parsed).
std::string error_of(const std::vector<uint8_t>& f, int* phdr = nullptr)
{
    ParseError err;
    lib::Result<Image> r = parse(f.data(), f.size(), LO, HI, err);
    if (phdr)
        *phdr = err.phdr;
    if (r.ok()) {
        CHECK(err.what == nullptr);
        return "";
    }
    REQUIRE(err.what != nullptr);
    return err.what;
}

} // namespace

TEST_CASE("elf: a good image gives its segments and entry")
{
    Builder b;
    auto f = b.build();
    ParseError err;
    lib::Result<Image> r = parse(f.data(), f.size(), LO, HI, err);
    REQUIRE(r.ok());
    CHECK(r->entry == LO + 0x10);
    REQUIRE(r->nsegments == 2);
    CHECK(r->seg[0].vaddr == LO);
    CHECK(r->seg[0].flags == (PF_R | PF_X));
    CHECK(r->seg[1].memsz == 0x2000);
    CHECK(r->seg[1].filesz == 0x80);
    CHECK(r->seg[1].offset == 0x1300);
    // Other program header types (GNU_STACK, RISC-V attributes) are ignored.
    b.ph.push_back({0x6474e551, PF_R | PF_W | PF_X, 0, 0, 0, 0, 0, 16});
    CHECK(error_of(b.build()) == "");
}

TEST_CASE("elf: header corruption")
{
    auto with = [](auto edit) {
        Builder b;
        edit(b);
        return error_of(b.build());
    };
    CHECK(with([](Builder& b) { b.ident[1] = 'X'; }) == "bad magic: not an ELF file");
    CHECK(with([](Builder& b) { b.ident[4] = 1; }) == "not a 64-bit ELF file");
    CHECK(with([](Builder& b) { b.ident[5] = 2; }) == "not little-endian");
    CHECK(with([](Builder& b) { b.version = 2; }) == "unknown ELF version");
    CHECK(with([](Builder& b) { b.type = 3; }) == "not a static executable (ELF type is not EXEC)");
    CHECK(with([](Builder& b) { b.machine = 62; }) == "not a RISC-V executable");
    CHECK(with([](Builder& b) { b.phentsize = 32; }) == "bad program header size");
    CHECK(with([](Builder& b) { b.ph.clear(); }) == "no program headers");
    CHECK(with([](Builder& b) { b.ph.resize(65); }) == "too many program headers");
    CHECK(with([](Builder& b) { b.phoff = 0x1ff0; }) == "program header table outside the file");
    CHECK(with([](Builder& b) { b.phoff = 1ull << 40; }) == "program header table outside the file");
    CHECK(with([](Builder& b) { b.entry = LO + 0x1010; }) == "entry point outside every executable segment");
    CHECK(with([](Builder& b) { b.entry = LO + 0x300; }) == "entry point outside every executable segment");
    // Too small, and nothing at all.
    auto f = Builder().build();
    f.resize(40);
    CHECK(error_of(f) == "file too small for an ELF header");
    ParseError err;
    CHECK(!parse(nullptr, 0, LO, HI, err).ok());
}

TEST_CASE("elf: segment corruption names the program header")
{
    auto seg = [](int which, auto edit, int expect_phdr = -2) {
        Builder b;
        edit(b.ph[size_t(which)]);
        int phdr = -1;
        std::string e = error_of(b.build(), &phdr);
        CHECK(phdr == (expect_phdr == -2 ? which : expect_phdr));
        return e;
    };
    CHECK(seg(1, [](Ph& p) { p.filesz = p.memsz + 1; }) == "segment file size larger than its memory size");
    CHECK(seg(1, [](Ph& p) { p.offset = 0x1ff0; }) == "segment data outside the file");
    CHECK(seg(1, [](Ph& p) { p.offset = ~0ull - 0x10; }) == "segment data outside the file");
    CHECK(seg(0, [](Ph& p) { p.vaddr = 0x80200000; }) == "segment outside user space");
    CHECK(seg(0, [](Ph& p) { p.vaddr = 0xffffffc000000000ull; }) == "segment outside user space");
    CHECK(seg(1, [](Ph& p) { p.vaddr = HI - 0x1000; }) == "segment outside user space");
    // Huge sizes that wrap around.
    CHECK(seg(1, [](Ph& p) { p.memsz = ~0ull - 0x800; }) == "segment outside user space");
    CHECK(seg(1, [](Ph& p) { p.memsz = ~0ull; p.filesz = 0x80; }) == "segment outside user space");
    CHECK(seg(1, [](Ph& p) { p.flags = PF_R | PF_W | PF_X; }) == "segment is writable and executable");
    CHECK(seg(1, [](Ph& p) { p.flags = PF_W | PF_X; }) == "segment is writable and executable");
    CHECK(seg(1, [](Ph& p) { p.flags = 0; }) == "segment has no access permissions");
    CHECK(seg(1, [](Ph& p) { p.vaddr = LO + 0x200; }) == "segments overlap (or share a page)");
    CHECK(seg(1, [](Ph& p) { p.vaddr = LO + 0x800; }) == "segments overlap (or share a page)"); // same page
    CHECK(seg(1, [](Ph& p) { p.type = 3; }) == "dynamically linked (needs an interpreter)");
    CHECK(seg(0, [](Ph& p) { p.type = 6; }, -1) == "entry point outside every executable segment");
    CHECK(seg(0, [](Ph& p) { p.flags = PF_R; }, -1) == "entry point outside every executable segment");
}

TEST_CASE("elf: no loadable segment, too many of them")
{
    Builder b;
    b.ph[0].type = 4;
    b.ph[1].type = 4;
    CHECK(error_of(b.build()) == "no loadable segment");
    Builder m;
    m.ph.clear();
    for (int i = 0; i < 9; i++)
        m.ph.push_back({1, PF_R, 0x1000, LO + uint64_t(i) * 0x1000, 0, 0x10, 0x10, 4096});
    int phdr = -1;
    CHECK(error_of(m.build(), &phdr) == "too many loadable segments");
    CHECK(phdr == 8);
}

TEST_CASE("elf: random byte flips never crash the parser")
{
    auto good = Builder().build();
    uint64_t x = 12345;
    int refused = 0;
    for (int round = 0; round < 20000; round++) {
        auto f = good;
        for (int k = 0; k < 4; k++) {
            x = x * 6364136223846793005ull + 1442695040888963407ull;
            size_t at = (x >> 33) % 0x200; // headers and program headers
            f[at] ^= static_cast<uint8_t>(x >> 24);
        }
        ParseError err;
        lib::Result<Image> r = parse(f.data(), f.size(), LO, HI, err);
        if (!r.ok()) {
            refused++;
            continue;
        }
        // Whatever parsed keeps every rule.
        for (size_t i = 0; i < r->nsegments; i++) {
            const Segment& s = r->seg[i];
            CHECK(s.vaddr >= LO);
            CHECK(s.memsz <= HI - s.vaddr);
            CHECK(s.filesz <= s.memsz);
            CHECK(s.offset + s.filesz <= f.size());
            CHECK(!((s.flags & PF_W) && (s.flags & PF_X)));
        }
    }
    CHECK(refused > 1000);
}
