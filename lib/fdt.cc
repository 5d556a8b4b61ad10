// FDT validation and bounds-checked navigation. See lib/fdt.h.
//
// One token reader, Blob::read_token(), does every bounds check; open() runs it
// over the whole structure block to enforce the nesting rules and word any
// problem, and the navigation functions run it again (cheaply) so that even a
// misuse after a failed open() cannot read outside the blob.
#include "lib/fdt.h"

#include "lib/string.h"

namespace fdt {

namespace {

constexpr uint32_t kHeaderSize = sizeof(Header);

constexpr uint64_t align4(uint64_t x) { return (x + 3) & ~uint64_t(3); }

// Length of the NUL-terminated string at p, if it ends before `end`; -1 otherwise.
int64_t bounded_strlen(const char* p, const char* end)
{
    for (const char* q = p; q < end; q++)
        if (*q == '\0')
            return q - p;
    return -1;
}

bool streq(const char* a, const char* b) { return strcmp(a, b) == 0; }

} // namespace

// ---- messages -------------------------------------------------------------------------

void MsgWriter::put(char c)
{
    if (len_ + 1 < kErrorLen) {
        buf_[len_++] = c;
        buf_[len_] = '\0';
    }
}

MsgWriter& MsgWriter::str(const char* s)
{
    while (*s)
        put(*s++);
    return *this;
}

MsgWriter& MsgWriter::strn(const char* s, size_t n)
{
    for (size_t i = 0; i < n && s[i]; i++)
        put(s[i]);
    return *this;
}

MsgWriter& MsgWriter::hex(uint64_t v)
{
    char digits[16];
    int n = 0;
    do {
        digits[n++] = "0123456789abcdef"[v & 15];
        v >>= 4;
    } while (v);
    str("0x");
    while (n)
        put(digits[--n]);
    return *this;
}

MsgWriter& MsgWriter::dec(uint64_t v)
{
    char digits[20];
    int n = 0;
    do {
        digits[n++] = char('0' + v % 10);
        v /= 10;
    } while (v);
    while (n)
        put(digits[--n]);
    return *this;
}

// ---- properties -----------------------------------------------------------------------

bool Property::cell(uint32_t i, uint32_t& out) const
{
    if (uint64_t(i) * 4 + 4 > len)
        return false;
    out = be32(data + size_t(i) * 4);
    return true;
}

bool Property::cells(uint32_t i, uint32_t n, uint64_t& out) const
{
    if (n < 1 || n > 2 || (uint64_t(i) + n) * 4 > len)
        return false;
    out = n == 1 ? be32(data + size_t(i) * 4) : be64(data + size_t(i) * 4);
    return true;
}

bool Property::number(uint64_t& out) const
{
    if (len == 4 || len == 8)
        return cells(0, len / 4, out);
    return false;
}

const char* Property::string() const
{
    if (len == 0 || data[len - 1] != '\0')
        return nullptr;
    return reinterpret_cast<const char*>(data);
}

bool Property::has_string(const char* s) const
{
    const char* p = reinterpret_cast<const char*>(data);
    const char* end = p + len;
    while (p < end) {
        int64_t n = bounded_strlen(p, end);
        if (n < 0)
            return false; // an unterminated tail matches nothing
        if (streq(p, s))
            return true;
        p += n + 1;
    }
    return false;
}

// ---- validation -----------------------------------------------------------------------

lib::Status Blob::check_header(size_t max_len, ErrorText& err)
{
    MsgWriter m(err);
    if (max_len < kHeaderSize) {
        m.str("fdt: only ").dec(max_len).str(" bytes available, less than the 40-byte header");
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
    if (total_ < kHeaderSize) {
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
        if (b.off < kHeaderSize || uint64_t(b.off) + b.size > total_) {
            m.str("fdt: ").str(b.what).str(" [").hex(b.off).str(", ").hex(b.off + b.size)
                .str(") is outside the blob [0x28, ").hex(total_).str(")");
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

// ---- navigation -----------------------------------------------------------------------

const char* Blob::name(Node n) const
{
    Tok t;
    if (read_token(n.off, t) != TokenError::None || t.kind != Token::BeginNode)
        return "";
    return t.name;
}

// Offset of the first token after n's properties (a subnode or n's END_NODE).
bool Blob::props_end(Node n, uint32_t& off) const
{
    Tok t;
    if (read_token(n.off, t) != TokenError::None || t.kind != Token::BeginNode)
        return false;
    for (off = t.next;; off = t.next) {
        if (read_token(off, t) != TokenError::None)
            return false;
        if (t.kind != Token::Prop && t.kind != Token::Nop)
            return true;
    }
}

bool Blob::first_child(Node parent, Node& child) const
{
    uint32_t off;
    if (!props_end(parent, off))
        return false;
    Tok t;
    if (read_token(off, t) != TokenError::None || t.kind != Token::BeginNode)
        return false;
    child = Node {off};
    return true;
}

// Offset just past n's END_NODE.
bool Blob::skip_node(Node n, uint32_t& after) const
{
    uint32_t depth = 0;
    Tok t;
    for (uint32_t off = n.off;; off = t.next) {
        if (read_token(off, t) != TokenError::None)
            return false;
        if (t.kind == Token::BeginNode) {
            depth++;
        } else if (t.kind == Token::EndNode) {
            if (depth == 0)
                return false;
            if (--depth == 0) {
                after = t.next;
                return true;
            }
        } else if (t.kind == Token::End) {
            return false;
        }
    }
}

bool Blob::next_sibling(Node n, Node& sibling) const
{
    uint32_t off;
    if (!skip_node(n, off))
        return false;
    Tok t;
    for (;; off = t.next) {
        if (read_token(off, t) != TokenError::None)
            return false;
        if (t.kind == Token::BeginNode) {
            sibling = Node {off};
            return true;
        }
        if (t.kind != Token::Nop)
            return false;
    }
}

namespace {
// The offsets of a node's ancestors, root first.
struct Ancestors {
    uint32_t off[kMaxDepth] = {};
    uint32_t depth = 0;
};

// Walks from the root to n, keeping the chain of open nodes. Offsets do not say
// who the parent is, so this is the only way up; it is only used off the fast path.
bool find_ancestors(const Blob& b, Node n, Ancestors& a)
{
    Blob::Tok t;
    a.depth = 0;
    for (uint32_t off = 0;; off = t.next) {
        if (b.read_token(off, t) != Blob::TokenError::None || t.kind == Token::End)
            return false;
        if (t.kind == Token::BeginNode) {
            if (off == n.off)
                return true;
            if (a.depth == kMaxDepth)
                return false;
            a.off[a.depth++] = off;
        } else if (t.kind == Token::EndNode) {
            if (a.depth == 0)
                return false;
            a.depth--;
        }
    }
}
} // namespace

bool Blob::parent(Node n, Node& out) const
{
    Ancestors a;
    if (!find_ancestors(*this, n, a) || a.depth == 0)
        return false;
    out = Node {a.off[a.depth - 1]};
    return true;
}

void Blob::path(Node n, char* buf, size_t cap) const
{
    if (cap == 0)
        return;
    size_t len = 0;
    auto add = [&](const char* s) {
        while (*s && len + 1 < cap)
            buf[len++] = *s++;
    };
    Ancestors a;
    if (!find_ancestors(*this, n, a)) {
        add("?");
    } else if (a.depth == 0) {
        add("/");
    } else {
        for (uint32_t i = 1; i < a.depth; i++) {
            add("/");
            add(name(Node {a.off[i]}));
        }
        add("/");
        add(name(n));
    }
    buf[len] = '\0';
}

bool Blob::next_prop(PropCursor& c, Property& out) const
{
    Tok t;
    if (c.next == 0) {
        if (read_token(c.node.off, t) != TokenError::None || t.kind != Token::BeginNode)
            return false;
        c.next = t.next;
    }
    for (;;) {
        if (read_token(c.next, t) != TokenError::None)
            return false;
        if (t.kind == Token::Nop) {
            c.next = t.next;
            continue;
        }
        if (t.kind != Token::Prop)
            return false;
        c.next = t.next;
        out = Property {t.name, t.data, t.len};
        return true;
    }
}

bool Blob::find_prop(Node n, const char* name, Property& out) const
{
    PropCursor c(n);
    Property p;
    while (next_prop(c, p)) {
        if (streq(p.name, name)) {
            out = p;
            return true;
        }
    }
    return false;
}

bool Blob::find_child(Node parent, const char* want, size_t len, Node& out) const
{
    bool want_unit = false; // does the wanted name carry an @unit-address?
    for (size_t i = 0; i < len; i++)
        want_unit |= want[i] == '@';
    Node c;
    for (bool more = first_child(parent, c); more; more = next_sibling(c, c)) {
        const char* nm = name(c);
        if (strncmp(nm, want, len) != 0)
            continue;
        if (nm[len] == '\0' || (!want_unit && nm[len] == '@')) {
            out = c;
            return true;
        }
    }
    return false;
}

bool Blob::find_path(const char* path, size_t len, Node& out) const
{
    if (len == 0 || path[0] != '/')
        return false;
    Node n = root();
    size_t i = 1;
    while (i < len) {
        size_t j = i;
        while (j < len && path[j] != '/')
            j++;
        if (j > i && !find_child(n, path + i, j - i, n))
            return false;
        i = j + 1;
    }
    // The root must exist too (a failed open() has none).
    Tok t;
    if (read_token(n.off, t) != TokenError::None || t.kind != Token::BeginNode)
        return false;
    out = n;
    return true;
}

bool Blob::find_phandle(uint32_t ph, Node& out) const
{
    if (ph == 0 || ph == 0xffffffff)
        return false;
    // Properties directly follow their node's BEGIN_NODE, so the last node begun
    // is the owner of any property met.
    Tok t;
    uint32_t current = 0;
    for (uint32_t off = 0;; off = t.next) {
        if (read_token(off, t) != TokenError::None || t.kind == Token::End)
            return false;
        if (t.kind == Token::BeginNode) {
            current = off;
        } else if (t.kind == Token::Prop && t.len == 4 &&
                   (streq(t.name, "phandle") || streq(t.name, "linux,phandle")) &&
                   be32(t.data) == ph) {
            out = Node {current};
            return true;
        }
    }
}

uint32_t Blob::u32_or(Node n, const char* name, uint32_t dflt) const
{
    Property p;
    if (find_prop(n, name, p) && p.len == 4)
        return be32(p.data);
    return dflt;
}

bool Blob::enabled(Node n) const
{
    Property p;
    if (!find_prop(n, "status", p))
        return true;
    const char* s = p.string();
    return s && (streq(s, "okay") || streq(s, "ok"));
}

uint32_t Blob::phandle(Node n) const
{
    uint32_t ph = u32_or(n, "phandle", 0);
    return ph ? ph : u32_or(n, "linux,phandle", 0);
}

} // namespace fdt
