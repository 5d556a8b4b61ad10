// FDT property readers (cells, numbers, strings, string lists, the u32/status/
// phandle conveniences) and the bounded message writer. See lib/fdt.h.
#include "lib/fdt.h"

#include "lib/fdt_internal.h"

namespace fdt {

using detail::bounded_strlen;
using detail::streq;

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
// ---- convenience readers --------------------------------------------------------------

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
