// FDT validation: the header, the memory reservation block and the structure
// block's tokens. See lib/fdt.h; the walk is lib/fdt_walk.cc, the property
// readers and messages lib/fdt_prop.cc.
//
// One token reader, Blob::read_token(), does every bounds check; open() runs it
// over the whole structure block to enforce the nesting rules and word any
// problem, and the navigation functions run it again (cheaply) so that even a
// misuse after a failed open() cannot read outside the blob.
#include "lib/fdt.h"

#include "lib/fdt_internal.h"

namespace fdt {

using detail::align4;
using detail::bounded_strlen;

namespace {

constexpr uint32_t kHeaderSize = sizeof(Header); // version 17
constexpr uint32_t kHeaderSizeV16 = kHeaderSize - 4; // no size_dt_struct

} // namespace

// ---- validation -----------------------------------------------------------------------

lib::Status Blob::check_header(size_t max_len, ErrorText& err)
{
    MsgWriter m(err);
    // Version 16's header stops before size_dt_struct: 36 bytes, not 40, and its
    // first block may start right after it. Read the version before sizing it.
    if (max_len < kHeaderSizeV16) {
        m.str("fdt: only ").dec(max_len).str(" bytes available, less than the 36-byte header");
        return lib::Error::Corrupt;
    }
    const uint8_t* h = base_;
    uint32_t magic = be32(h + 0);
    if (magic != kMagic) {
        m.str("fdt: bad magic ").hex(magic).str(" at offset 0x0 (expected 0xd00dfeed)");
        return lib::Error::Corrupt;
    }
    total_ = be32(h + 4);
    version_ = be32(h + 20);
    uint32_t last_comp = be32(h + 24);
    boot_cpuid_ = be32(h + 28);
    if (version_ < kMinVersion) {
        m.str("fdt: version ").dec(version_).str(" is too old (need 16 or later)");
        return lib::Error::Corrupt;
    }
    if (last_comp > kMaxCompVersion) {
        m.str("fdt: last_comp_version ").dec(last_comp).str(" is newer than 17, the layout we read");
        return lib::Error::Corrupt;
    }
    // A blob cannot be readable only by a layout newer than its own version.
    if (last_comp > version_) {
        m.str("fdt: last_comp_version ").dec(last_comp).str(" is newer than the version ").dec(version_);
        return lib::Error::Corrupt;
    }
    uint32_t header_size = version_ >= 17 ? kHeaderSize : kHeaderSizeV16;
    if (max_len < header_size) {
        m.str("fdt: only ").dec(max_len).str(" bytes available, less than the ").dec(header_size)
            .str("-byte header");
        return lib::Error::Corrupt;
    }
    if (total_ < header_size) {
        m.str("fdt: totalsize ").hex(total_).str(" is smaller than the header");
        return lib::Error::Corrupt;
    }
    if (total_ > max_len) {
        m.str("fdt: totalsize ").hex(total_).str(" is larger than the ").hex(max_len)
            .str(" bytes available");
        return lib::Error::Corrupt;
    }

    // Each block must lie after the header and inside totalsize.
    rsv_off_ = be32(h + 16);
    struct_off_ = be32(h + 8);
    uint32_t strings_off = be32(h + 12);
    strings_size_ = be32(h + 32);
    // Version 16 has no size_dt_struct: the block may run to the end of the blob
    // (the END token marks where it really stops).
    struct_size_ = version_ >= 17 ? be32(h + 36) : total_ - (struct_off_ < total_ ? struct_off_ : total_);

    struct Block {
        const char* what;
        uint32_t off;
        uint64_t size;
        uint32_t align;
    } blocks[] = {
        {"memory reservation block", rsv_off_, 16, 8},
        {"structure block", struct_off_, struct_size_, 4},
        {"strings block", strings_off, strings_size_, 1},
    };
    for (const Block& b : blocks) {
        if (b.off % b.align != 0) {
            m.str("fdt: ").str(b.what).str(" offset ").hex(b.off).str(" is not ")
                .dec(b.align).str("-byte aligned");
            return lib::Error::Corrupt;
        }
        if (b.off < header_size || uint64_t(b.off) + b.size > total_) {
            m.str("fdt: ").str(b.what).str(" [").hex(b.off).str(", ").hex(b.off + b.size)
                .str(") is outside the blob [").hex(header_size).str(", ").hex(total_).str(")");
            return lib::Error::Corrupt;
        }
    }
    struct_ = base_ + struct_off_;
    strings_ = reinterpret_cast<const char*>(base_ + strings_off);
    return {};
}

lib::Status Blob::check_reserve_map(ErrorText& err)
{
    // Entries run until an all-zero one; every entry read must fit in the blob.
    for (uint64_t off = rsv_off_; off + 16 <= total_; off += 16) {
        if (be64(base_ + off) == 0 && be64(base_ + off + 8) == 0)
            return {};
        rsv_count_++;
    }
    MsgWriter(err).str("fdt: memory reservation block at ").hex(rsv_off_)
        .str(" has no terminating entry before the end of the blob");
    return lib::Error::Corrupt;
}

Blob::TokenError Blob::read_token(uint32_t off, Tok& t) const
{
    t = Tok {};
    t.off = off;
    if (off % 4 != 0 || uint64_t(off) + 4 > struct_size_)
        return TokenError::PastEnd;
    const uint8_t* p = struct_ + off;
    const char* end = reinterpret_cast<const char*>(struct_ + struct_size_);
    uint32_t tag = be32(p);
    switch (tag) {
    case uint32_t(Token::BeginNode): {
        t.kind = Token::BeginNode;
        t.name = reinterpret_cast<const char*>(p + 4);
        int64_t n = bounded_strlen(t.name, end);
        if (n < 0)
            return TokenError::NameUnterminated;
        t.next = uint32_t(align4(uint64_t(off) + 4 + uint64_t(n) + 1));
        return TokenError::None;
    }
    case uint32_t(Token::EndNode):
    case uint32_t(Token::Nop):
    case uint32_t(Token::End):
        t.kind = Token(tag);
        t.next = off + 4;
        return TokenError::None;
    case uint32_t(Token::Prop): {
        t.kind = Token::Prop;
        if (uint64_t(off) + 12 > struct_size_)
            return TokenError::PropPastEnd;
        t.len = be32(p + 4);
        t.nameoff = be32(p + 8);
        if (t.nameoff >= strings_size_)
            return TokenError::NameOffset;
        const char* name = strings_ + t.nameoff;
        if (bounded_strlen(name, strings_ + strings_size_) < 0)
            return TokenError::PropNameUnterminated;
        t.name = name;
        uint64_t data_end = uint64_t(off) + 12 + t.len;
        if (data_end > struct_size_)
            return TokenError::PropPastEnd;
        t.data = p + 12;
        t.next = uint32_t(align4(data_end));
        return TokenError::None;
    }
    default:
        t.kind = Token(tag);
        return TokenError::BadToken;
    }
}

namespace {

// The names of the nodes enclosing the token being checked, for messages.
struct PathStack {
    const char* names[kMaxDepth] = {};
    uint32_t depth = 0;

    void write(MsgWriter& m) const
    {
        if (depth <= 1) {
            m.str("/");
            return;
        }
        for (uint32_t i = 1; i < depth; i++)
            m.str("/").str(names[i]);
    }
};

} // namespace

lib::Status Blob::check_structure(ErrorText& err)
{
    PathStack path;
    bool root_done = false;
    bool props_ok = false; // properties must come before a node's first subnode
    uint32_t off = 0;
    for (;;) {
        Tok t;
        TokenError e = read_token(off, t);
        uint32_t at = struct_off_ + off; // blob offset, for messages
        MsgWriter m(err);
        if (e != TokenError::None) {
            switch (e) {
            case TokenError::PastEnd:
                if (path.depth > 0) {
                    m.str("fdt: structure block ends inside ");
                    path.write(m);
                    m.str(" (offset ").hex(at).str(")");
                } else {
                    m.str("fdt: structure block has no END token (offset ").hex(at).str(")");
                }
                break;
            case TokenError::BadToken:
                m.str("fdt: bad token ").hex(uint32_t(t.kind)).str(" at offset ").hex(at)
                    .str(" in ");
                path.write(m);
                break;
            case TokenError::NameUnterminated:
                m.str("fdt: name of the node at offset ").hex(at)
                    .str(" runs past the structure block");
                break;
            case TokenError::PropPastEnd:
                m.str("fdt: property ");
                if (t.name)
                    m.str("'").str(t.name).str("' ");
                m.str("of ");
                path.write(m);
                m.str(" runs past the structure block (offset ").hex(at).str(")");
                break;
            case TokenError::NameOffset:
                m.str("fdt: property name offset ").hex(t.nameoff).str(" in ");
                path.write(m);
                m.str(" is outside the strings block of size ").hex(strings_size_)
                    .str(" (offset ").hex(at).str(")");
                break;
            case TokenError::PropNameUnterminated:
                m.str("fdt: property name at string offset ").hex(t.nameoff).str(" in ");
                path.write(m);
                m.str(" is not NUL-terminated within the strings block (offset ").hex(at)
                    .str(")");
                break;
            case TokenError::None:
                break;
            }
            return lib::Error::Corrupt;
        }

        // Node{0} is the root, so the block must open with it (no leading NOPs).
        if (off == 0 && t.kind != Token::BeginNode) {
            m.str("fdt: structure block does not start with the root node (offset ").hex(at)
                .str(")");
            return lib::Error::Corrupt;
        }

        switch (t.kind) {
        case Token::BeginNode:
            if (root_done) {
                m.str("fdt: second root node at offset ").hex(at);
                return lib::Error::Corrupt;
            }
            if (path.depth == 0 && t.name[0] != '\0') {
                m.str("fdt: the root node is named '").str(t.name).str("' (offset ").hex(at)
                    .str("); the root's name must be empty");
                return lib::Error::Corrupt;
            }
            if (path.depth > 0 && t.name[0] == '\0') {
                m.str("fdt: node with an empty name inside ");
                path.write(m);
                m.str(" (offset ").hex(at).str(")");
                return lib::Error::Corrupt;
            }
            if (path.depth == kMaxDepth) {
                m.str("fdt: nodes nested deeper than ").dec(kMaxDepth).str(" at ");
                path.write(m);
                m.str(" (offset ").hex(at).str(")");
                return lib::Error::Corrupt;
            }
            path.names[path.depth++] = t.name;
            props_ok = true;
            break;
        case Token::EndNode:
            if (path.depth == 0) {
                m.str("fdt: END_NODE at offset ").hex(at).str(" has no matching BEGIN_NODE");
                return lib::Error::Corrupt;
            }
            path.depth--;
            props_ok = false; // the parent is now past a subnode
            if (path.depth == 0)
                root_done = true;
            break;
        case Token::Prop:
            if (path.depth == 0) {
                m.str("fdt: property '").str(t.name).str("' outside any node (offset ").hex(at)
                    .str(")");
                return lib::Error::Corrupt;
            }
            if (!props_ok) {
                m.str("fdt: property '").str(t.name).str("' of ");
                path.write(m);
                m.str(" follows a subnode (offset ").hex(at).str(")");
                return lib::Error::Corrupt;
            }
            break;
        case Token::Nop:
            break;
        case Token::End:
            if (path.depth > 0) {
                m.str("fdt: END token at offset ").hex(at).str(" inside ");
                path.write(m);
                m.str(" (missing END_NODE)");
                return lib::Error::Corrupt;
            }
            if (!root_done) {
                m.str("fdt: END token at offset ").hex(at).str(" before any root node");
                return lib::Error::Corrupt;
            }
            return {};
        }
        off = t.next;
    }
}

lib::Status Blob::open(const void* data, size_t max_len, ErrorText& err)
{
    *this = Blob {};
    err.text[0] = '\0';
    if (data == nullptr) {
        MsgWriter(err).str("fdt: no blob (null pointer)");
        return lib::Error::Invalid;
    }
    base_ = static_cast<const uint8_t*>(data);
    lib::Status s = check_header(max_len, err);
    if (s.ok())
        s = check_reserve_map(err);
    if (s.ok())
        s = check_structure(err);
    if (!s.ok())
        *this = Blob {}; // a failed blob has no blocks: every walk finds nothing
    return s;
}

ReserveEntry Blob::reserve(uint32_t i) const
{
    if (i >= rsv_count_)
        return {};
    const uint8_t* p = base_ + rsv_off_ + size_t(i) * 16;
    return {be64(p), be64(p + 8)};
}

} // namespace fdt
