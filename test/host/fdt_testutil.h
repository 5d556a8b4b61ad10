// Shared by the fdt_*_test.cc files: loading QEMU's DTBs, exact-size heap copies
// (so ASan flags any read past the end), and a raw FDT builder for blobs libfdt
// would refuse to write.
#pragma once

#include "lib/fdt.h"
#include "lib/ranges.h"

#include <doctest/doctest.h>

#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <iterator>
#include <memory>
#include <ostream>
#include <string>
#include <vector>

#include <unistd.h>

namespace fdt {
// So doctest prints ranges in failed checks.
inline std::ostream& operator<<(std::ostream& os, const Range& r)
{
    return os << std::hex << "[0x" << r.base << ", 0x" << r.end() << ")" << std::dec;
}
} // namespace fdt

namespace fdt_test {

// The DTBs tools/dump-dtbs.sh makes (test/host/fdt.mk lists the same names).
inline const char* const kDtbs[] = {
    "virt-1-64M", "virt-4-256M", "virt-8-2G", "virt-bootargs",
    "virt-blk", "sifive_u-5", "sifive_u-2",
};

// $ZEST_DTB_DIR, else build/dtb (tests run from the repo root); failing that,
// the dtb/ directory next to this binary's host/ (a BUILD=elsewhere build).
inline std::string dtb_dir()
{
    const char* d = std::getenv("ZEST_DTB_DIR");
    if (d && *d)
        return d;
    std::ifstream probe("build/dtb/virt-1-64M.dtb");
    if (probe.good())
        return "build/dtb";
    char exe[4096];
    ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
    if (n > 0) {
        std::string dir(exe, size_t(n));
        dir = dir.substr(0, dir.rfind('/')); // .../host
        return dir.substr(0, dir.rfind('/')) + "/dtb";
    }
    return "build/dtb";
}

inline uint32_t get_be32(const std::vector<uint8_t>& b, size_t off)
{
    return uint32_t(b[off]) << 24 | uint32_t(b[off + 1]) << 16 | uint32_t(b[off + 2]) << 8 |
           b[off + 3];
}

inline void put_be32(std::vector<uint8_t>& b, size_t off, uint32_t v)
{
    b[off] = uint8_t(v >> 24);
    b[off + 1] = uint8_t(v >> 16);
    b[off + 2] = uint8_t(v >> 8);
    b[off + 3] = uint8_t(v);
}

// A DTB as QEMU dumped it, cut to its totalsize (QEMU writes a 1 MiB file).
inline std::vector<uint8_t> load_dtb(const std::string& name)
{
    std::string path = dtb_dir() + "/" + name + ".dtb";
    std::ifstream f(path, std::ios::binary);
    INFO("reading " << path << " (set ZEST_DTB_DIR or run make build/host/fdt_test)");
    REQUIRE(f.good());
    std::vector<uint8_t> b((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
    REQUIRE(b.size() >= 40);
    uint32_t total = get_be32(b, 4);
    REQUIRE(total <= b.size());
    b.resize(total);
    return b;
}

// A heap copy of exactly the bytes given: one byte more and ASan reports it.
struct Exact {
    explicit Exact(const std::vector<uint8_t>& b, size_t n)
        : len(n), mem(new uint8_t[n ? n : 1])
    {
        if (n)
            std::memcpy(mem.get(), b.data(), n);
    }
    explicit Exact(const std::vector<uint8_t>& b) : Exact(b, b.size()) {}
    size_t len;
    std::unique_ptr<uint8_t[]> mem;
};

// Builds blobs token by token, including malformed ones.
class RawFdt {
public:
    RawFdt& begin(const char* name)
    {
        word(1);
        size_t n = std::strlen(name) + 1;
        s_.insert(s_.end(), name, name + n);
        pad();
        return *this;
    }
    RawFdt& end_node() { return word(2); }
    RawFdt& nop() { return word(4); }
    RawFdt& end() { return word(9); }
    RawFdt& word(uint32_t w)
    {
        size_t at = s_.size();
        s_.resize(at + 4);
        put_be32(s_, at, w);
        return *this;
    }
    uint32_t name_off(const char* name)
    {
        std::string all(strings_.begin(), strings_.end());
        size_t at = all.find(std::string(name) + '\0');
        if (at != std::string::npos)
            return uint32_t(at);
        at = strings_.size();
        strings_.insert(strings_.end(), name, name + std::strlen(name) + 1);
        return uint32_t(at);
    }
    RawFdt& prop_raw(uint32_t nameoff, const void* data, uint32_t len)
    {
        word(3).word(len).word(nameoff);
        const uint8_t* d = static_cast<const uint8_t*>(data);
        s_.insert(s_.end(), d, d + len);
        pad();
        return *this;
    }
    RawFdt& prop(const char* name, const void* data, uint32_t len)
    {
        return prop_raw(name_off(name), data, len);
    }
    RawFdt& prop_str(const char* name, const char* v)
    {
        return prop(name, v, uint32_t(std::strlen(v) + 1));
    }
    RawFdt& prop_cells(const char* name, std::initializer_list<uint32_t> cells)
    {
        std::vector<uint8_t> d(cells.size() * 4);
        size_t i = 0;
        for (uint32_t c : cells)
            put_be32(d, 4 * i++, c);
        return prop(name, d.data(), uint32_t(d.size()));
    }
    RawFdt& reserve(uint64_t addr, uint64_t size)
    {
        rsv_.push_back(addr);
        rsv_.push_back(size);
        return *this;
    }
    // Header, reserve map, structure block, strings block, in that order.
    std::vector<uint8_t> build() const
    {
        std::vector<uint8_t> b(40);
        auto put64 = [&](uint64_t v) {
            size_t at = b.size();
            b.resize(at + 8);
            put_be32(b, at, uint32_t(v >> 32));
            put_be32(b, at + 4, uint32_t(v));
        };
        uint32_t rsv = uint32_t(b.size());
        for (uint64_t v : rsv_)
            put64(v);
        put64(0);
        put64(0);
        uint32_t st = uint32_t(b.size());
        b.insert(b.end(), s_.begin(), s_.end());
        uint32_t str = uint32_t(b.size());
        b.insert(b.end(), strings_.begin(), strings_.end());
        put_be32(b, 0, 0xd00dfeed);
        put_be32(b, 4, uint32_t(b.size()));
        put_be32(b, 8, st);
        put_be32(b, 12, str);
        put_be32(b, 16, rsv);
        put_be32(b, 20, 17);
        put_be32(b, 24, 16);
        put_be32(b, 28, 0);
        put_be32(b, 32, uint32_t(strings_.size()));
        put_be32(b, 36, uint32_t(s_.size()));
        return b;
    }
    size_t struct_size() const { return s_.size(); }

private:
    void pad()
    {
        while (s_.size() % 4)
            s_.push_back(0);
    }
    std::vector<uint8_t> s_;
    std::vector<uint8_t> strings_;
    std::vector<uint64_t> rsv_;
};

// A hand-built tree with what QEMU's lack: one-cell addresses, two memory banks,
// /memreserve/ and /reserved-memory, a per-cpu 64-bit timebase, sv39/sv57/none
// MMUs, linux,phandle, an alias for stdout, a 300-byte bootargs.
inline std::vector<uint8_t> rich_tree()
{
    RawFdt t;
    t.reserve(0x80100000, 0x1000);
    t.begin("").prop_cells("#address-cells", {1}).prop_cells("#size-cells", {1});
    t.begin("chosen");
    std::string longargs(300, 'a');
    t.prop_str("bootargs", longargs.c_str()).prop_str("linux,stdout-path", "serial0");
    t.end_node();
    t.begin("aliases").prop_str("serial0", "/soc/uart@10000000").end_node();
    t.begin("memory@80000000").prop_str("device_type", "memory");
    t.prop_cells("reg", {0x80000000, 0x1000000, 0xa0000000, 0x1000000}).end_node();
    t.begin("reserved-memory").prop_cells("#address-cells", {1}).prop_cells("#size-cells", {1});
    t.prop("ranges", nullptr, 0);
    t.begin("fw@a0000000").prop_cells("reg", {0xa0000000, 0x200000}).end_node().end_node();
    t.begin("cpus").prop_cells("#address-cells", {1}).prop_cells("#size-cells", {0});
    const char* mmus[] = {"riscv,sv39", "riscv,sv57", "riscv,none"};
    for (uint32_t h = 0; h < 3; h++) {
        std::string name = "cpu@" + std::to_string(h);
        t.begin(name.c_str()).prop_str("device_type", "cpu").prop_cells("reg", {h});
        t.prop_str("mmu-type", mmus[h]);
        if (h == 0)
            t.prop_cells("timebase-frequency", {0, 25000000}); // a 64-bit value
        t.begin("interrupt-controller").prop_str("compatible", "riscv,cpu-intc");
        t.prop_cells("linux,phandle", {0x10 + h}).end_node();
        t.end_node();
    }
    t.end_node();
    t.begin("soc").prop_cells("#address-cells", {1}).prop_cells("#size-cells", {1});
    t.prop("ranges", nullptr, 0);
    t.begin("uart@10000000").prop_str("compatible", "ns16550a");
    t.prop_cells("reg", {0x10000000, 0x100}).prop_cells("reg-shift", {2});
    t.prop_cells("reg-io-width", {4}).prop_cells("clock-frequency", {1843200}).end_node();
    t.begin("plic@c000000");
    static const char plic_compat[] = "sifive,plic-1.0.0\0riscv,plic0";
    t.prop("compatible", plic_compat, sizeof plic_compat);
    t.prop_cells("reg", {0xc000000, 0x4000000}).prop_cells("riscv,ndev", {31});
    t.prop_cells("interrupts-extended", {0x10, 11, 0x10, 9, 0x11, 11, 0x11, 9, 0x12, 9});
    t.end_node().end_node().end_node().end();
    return t.build();
}

} // namespace fdt_test
