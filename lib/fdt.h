// Flattened device tree (FDT, "DTB"): validation and a read-only, bounds-checked walk.
//
// The boot firmware hands the kernel a pointer to a blob it has no reason to trust
// blindly (a bad bootloader, a truncated copy, a stray write). Blob::open() checks
// the whole blob once -- header, memory reservation block, every structure token,
// every property name and length -- and explains any problem in words. After that
// the navigation calls walk the structure block again, still checking every read,
// so no call ever touches a byte outside [data, data + min(totalsize, max_len)).
//
// Nodes are named by the offset of their BEGIN_NODE token in the structure block;
// there is no heap and nothing is copied. boot/machine.h builds the kernel's
// MachineInfo from this; lib/ranges.h does the memory-range arithmetic.
//
// Everything in the blob is big-endian and only 4-byte aligned (the blob itself
// may be at any address in the host tests), so all reads go byte by byte.
#pragma once

#include "lib/result.h"

#include <cstddef>
#include <cstdint>

namespace fdt {

inline constexpr uint32_t kMagic = 0xd00dfeed;
inline constexpr uint32_t kMinVersion = 16;     // oldest layout we read
inline constexpr uint32_t kMaxCompVersion = 17; // newest layout we understand
inline constexpr uint32_t kMaxDepth = 16;       // root is depth 1; real trees use < 6
inline constexpr size_t kErrorLen = 160;        // room for one error message

// The on-disk header (all fields big-endian). Only used for its layout.
struct Header {
    uint32_t magic;
    uint32_t totalsize;
    uint32_t off_dt_struct;
    uint32_t off_dt_strings;
    uint32_t off_mem_rsvmap;
    uint32_t version;
    uint32_t last_comp_version;
    uint32_t boot_cpuid_phys;
    uint32_t size_dt_strings; // version >= 3
    uint32_t size_dt_struct;  // version >= 17
};
static_assert(sizeof(Header) == 40, "FDT header is ten 32-bit words");

// A memory reservation block entry (two big-endian 64-bit words).
struct ReserveEntry {
    uint64_t address;
    uint64_t size;
};
static_assert(sizeof(ReserveEntry) == 16);

enum class Token : uint32_t {
    BeginNode = 1,
    EndNode = 2,
    Prop = 3,
    Nop = 4,
    End = 9,
};

// A human-readable error, always NUL-terminated; empty when there was none.
struct ErrorText {
    char text[kErrorLen] = {};

    [[nodiscard]] bool empty() const { return text[0] == '\0'; }
};

// Appends to a fixed buffer, truncating silently (messages are best effort; the
// error code is what callers act on). Kept public so boot/machine.cc words its
// messages the same way.
class MsgWriter {
public:
    explicit MsgWriter(ErrorText& e) : buf_(e.text), len_(0) { buf_[0] = '\0'; }
    MsgWriter& str(const char* s);
    MsgWriter& strn(const char* s, size_t n);
    MsgWriter& hex(uint64_t v); // 0x1f4
    MsgWriter& dec(uint64_t v);

private:
    void put(char c);
    char* buf_;
    size_t len_;
};

// A node handle: offset of the node's BEGIN_NODE token in the structure block.
struct Node {
    uint32_t off = 0;
    bool operator==(const Node&) const = default;
};

// A property as it sits in the blob. data points into the blob.
struct Property {
    const char* name = nullptr;
    const uint8_t* data = nullptr;
    uint32_t len = 0;

    // 32-bit cell i; false if the property is too short.
    [[nodiscard]] bool cell(uint32_t i, uint32_t& out) const;
    // `n` (1 or 2) cells starting at cell i, as one number; false if out of range.
    [[nodiscard]] bool cells(uint32_t i, uint32_t n, uint64_t& out) const;
    // A single u32 or u64 value (len 4 or 8), as properties like clock-frequency are.
    [[nodiscard]] bool number(uint64_t& out) const;
    // The value as one NUL-terminated string, or nullptr if it is not one.
    [[nodiscard]] const char* string() const;
    // True if the value is a string list containing s (e.g. "compatible").
    [[nodiscard]] bool has_string(const char* s) const;
};

// Iterates the properties of one node: `PropCursor c{node}; while (blob.next_prop(c, p))`.
struct PropCursor {
    explicit PropCursor(Node n) : node(n) {}
    Node node;
    uint32_t next = 0; // 0 = not started
};

class Blob {
public:
    // Validate the blob at `data`, of which at most max_len bytes may be read.
    // On failure returns Error::Corrupt (or Invalid for a null pointer) and fills err.
    [[nodiscard]] lib::Status open(const void* data, size_t max_len, ErrorText& err);

    [[nodiscard]] uint32_t total_size() const { return total_; }
    [[nodiscard]] uint32_t version() const { return version_; }
    [[nodiscard]] uint32_t boot_cpuid() const { return boot_cpuid_; }
    [[nodiscard]] const uint8_t* data() const { return base_; }

    // The memory reservation block (/memreserve/ entries), terminator excluded.
    [[nodiscard]] uint32_t reserve_count() const { return rsv_count_; }
    [[nodiscard]] ReserveEntry reserve(uint32_t i) const;

    [[nodiscard]] Node root() const { return Node {0}; }
    // The node's name with unit address ("memory@80000000"); "" for the root.
    [[nodiscard]] const char* name(Node n) const;
    [[nodiscard]] bool first_child(Node parent, Node& child) const;
    [[nodiscard]] bool next_sibling(Node n, Node& sibling) const;
    [[nodiscard]] bool parent(Node n, Node& out) const; // false for the root
    [[nodiscard]] bool next_prop(PropCursor& c, Property& out) const;
    [[nodiscard]] bool find_prop(Node n, const char* name, Property& out) const;

    // A child by name: "cpus", or "memory" matching "memory@80000000" too.
    [[nodiscard]] bool find_child(Node parent, const char* name, size_t len, Node& out) const;
    // An absolute path, the first `len` bytes of `path` ("/soc/serial@10000000").
    [[nodiscard]] bool find_path(const char* path, size_t len, Node& out) const;
    // The node whose "phandle" (or legacy "linux,phandle") is ph.
    [[nodiscard]] bool find_phandle(uint32_t ph, Node& out) const;

    // Convenience: u32 property or a default when absent or malformed.
    [[nodiscard]] uint32_t u32_or(Node n, const char* name, uint32_t dflt) const;
    // status absent, "okay" or "ok".
    [[nodiscard]] bool enabled(Node n) const;
    // The node's phandle, 0 if it has none.
    [[nodiscard]] uint32_t phandle(Node n) const;
    // The full path, "/soc/serial@10000000", truncated to fit; for messages.
    void path(Node n, char* buf, size_t cap) const;

    // The low-level token reader behind everything above; exposed for tests.
    enum class TokenError {
        None,
        PastEnd,          // the token itself does not fit in the structure block
        BadToken,         // not one of the five tokens
        NameUnterminated, // node name runs past the structure block
        PropPastEnd,      // property header or value runs past the structure block
        NameOffset,       // property name offset outside the strings block
        PropNameUnterminated,
    };
    struct Tok {
        Token kind = Token::End;
        uint32_t off = 0;  // of the token, in the structure block
        uint32_t next = 0; // offset of the following token
        const char* name = nullptr; // node or property name
        const uint8_t* data = nullptr;
        uint32_t len = 0;
        uint32_t nameoff = 0;
    };
    [[nodiscard]] TokenError read_token(uint32_t off, Tok& t) const;

private:
    [[nodiscard]] lib::Status check_header(size_t max_len, ErrorText& err);
    [[nodiscard]] lib::Status check_reserve_map(ErrorText& err);
    [[nodiscard]] lib::Status check_structure(ErrorText& err);
    [[nodiscard]] bool skip_node(Node n, uint32_t& after) const;
    [[nodiscard]] bool props_end(Node n, uint32_t& off) const;

    const uint8_t* base_ = nullptr;
    const uint8_t* struct_ = nullptr;
    const char* strings_ = nullptr;
    uint32_t total_ = 0;
    uint32_t version_ = 0;
    uint32_t boot_cpuid_ = 0;
    uint32_t struct_off_ = 0;
    uint32_t struct_size_ = 0;
    uint32_t strings_size_ = 0;
    uint32_t rsv_off_ = 0;
    uint32_t rsv_count_ = 0;
};

// Big-endian loads from possibly unaligned bytes.
[[nodiscard]] inline uint32_t be32(const uint8_t* p)
{
    return uint32_t(p[0]) << 24 | uint32_t(p[1]) << 16 | uint32_t(p[2]) << 8 | uint32_t(p[3]);
}
[[nodiscard]] inline uint64_t be64(const uint8_t* p) { return uint64_t(be32(p)) << 32 | be32(p + 4); }

} // namespace fdt
