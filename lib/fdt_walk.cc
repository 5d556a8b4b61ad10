// FDT navigation: children, siblings, parents, properties and lookups by name,
// path and phandle, each step through Blob::read_token() (lib/fdt.cc).
#include "lib/fdt.h"

#include "lib/fdt_internal.h"

namespace fdt {

using detail::streq;

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

} // namespace fdt
