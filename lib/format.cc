#include "lib/format.h"

#include <cstdint>

namespace lib {
namespace {

struct Spec {
    bool left = false, plus = false, space = false, alt = false, zero = false;
    int width = 0;
    int precision = -1;
};

enum class Length { Int, Char, Short, Long, LongLong, Size, Ptrdiff, Max };

class Writer {
public:
    explicit Writer(FormatSink sink) : sink_(sink) {}
    void put(const char* s, size_t n)
    {
        if (n) {
            sink_(s, n);
            count_ += n;
        }
    }
    void pad(char c, int n)
    {
        char buf[16];
        for (auto& b : buf)
            b = c;
        while (n > 0) {
            int k = n < 16 ? n : 16;
            put(buf, k);
            n -= k;
        }
    }
    size_t count() const { return count_; }

private:
    FormatSink sink_;
    size_t count_ = 0;
};

size_t length_of(const char* s, int max)
{
    size_t n = 0;
    while ((max < 0 || n < size_t(max)) && s[n])
        n++;
    return n;
}

// Formats an unsigned magnitude with sign/prefix, precision and width.
void emit_number(Writer& w, const Spec& spec, uint64_t value, unsigned base, bool upper,
                 const char* sign, const char* prefix)
{
    const char* digits = upper ? "0123456789ABCDEF" : "0123456789abcdef";
    char buf[24];
    int len = 0;
    // C: precision 0 with value 0 prints no digits.
    if (!(value == 0 && spec.precision == 0)) {
        do {
            buf[sizeof buf - 1 - len++] = digits[value % base];
            value /= base;
        } while (value);
    }
    const char* num = buf + sizeof buf - len;
    int zeros = spec.precision > len ? spec.precision - len : 0;
    // '#' with octal forces a leading zero.
    if (base == 8 && prefix && zeros == 0 && (len == 0 || num[0] != '0'))
        zeros = 1;
    const char* pfx = base == 8 ? "" : (prefix ? prefix : "");
    int pfxlen = int(length_of(pfx, -1));
    int signlen = int(length_of(sign, -1));
    int body = signlen + pfxlen + zeros + len;
    int padding = spec.width > body ? spec.width - body : 0;
    bool zero_pad = spec.zero && !spec.left && spec.precision < 0;
    if (!spec.left && !zero_pad)
        w.pad(' ', padding);
    w.put(sign, signlen);
    w.put(pfx, pfxlen);
    if (zero_pad)
        w.pad('0', padding);
    w.pad('0', zeros);
    w.put(num, len);
    if (spec.left)
        w.pad(' ', padding);
}

// A floating-point conversion's digits from the caller's formatter, with
// sign and width (zero padding after the sign, and only for numbers).
void emit_float(Writer& w, const Spec& spec, char conv, va_list& ap, FloatFormatter ff)
{
    char buf[80];
    FloatDigits d = ff(ap, {conv, spec.precision, spec.alt}, buf, sizeof buf);
    const char* sign = d.negative ? "-" : spec.plus ? "+" : spec.space ? " " : "";
    int signlen = int(length_of(sign, -1));
    int body = signlen + int(d.len);
    int padding = spec.width > body ? spec.width - body : 0;
    bool zero_pad = spec.zero && !spec.left && d.finite;
    if (!spec.left && !zero_pad)
        w.pad(' ', padding);
    w.put(sign, signlen);
    if (zero_pad)
        w.pad('0', padding);
    w.put(buf, d.len);
    if (spec.left)
        w.pad(' ', padding);
}

int64_t signed_arg(va_list& ap, Length l)
{
    switch (l) {
    case Length::Char: return static_cast<signed char>(va_arg(ap, int));
    case Length::Short: return static_cast<short>(va_arg(ap, int));
    case Length::Long: return va_arg(ap, long);
    case Length::LongLong: return va_arg(ap, long long);
    case Length::Size: return va_arg(ap, long);
    case Length::Ptrdiff: return va_arg(ap, ptrdiff_t);
    case Length::Max: return va_arg(ap, intmax_t);
    case Length::Int: break;
    }
    return va_arg(ap, int);
}

uint64_t unsigned_arg(va_list& ap, Length l)
{
    switch (l) {
    case Length::Char: return static_cast<unsigned char>(va_arg(ap, unsigned));
    case Length::Short: return static_cast<unsigned short>(va_arg(ap, unsigned));
    case Length::Long: return va_arg(ap, unsigned long);
    case Length::LongLong: return va_arg(ap, unsigned long long);
    case Length::Size: return va_arg(ap, size_t);
    case Length::Ptrdiff: return static_cast<uint64_t>(va_arg(ap, ptrdiff_t));
    case Length::Max: return va_arg(ap, uintmax_t);
    case Length::Int: break;
    }
    return va_arg(ap, unsigned);
}

} // namespace

size_t vformat(FormatSink sink, const char* fmt, va_list ap_in, FloatFormatter ff)
{
    Writer w(sink);
    va_list ap;
    va_copy(ap, ap_in);
    while (*fmt) {
        const char* start = fmt;
        while (*fmt && *fmt != '%')
            fmt++;
        w.put(start, fmt - start);
        if (!*fmt)
            break;
        const char* conv_start = fmt++;
        Spec spec;
        for (;; fmt++) {
            if (*fmt == '-') spec.left = true;
            else if (*fmt == '+') spec.plus = true;
            else if (*fmt == ' ') spec.space = true;
            else if (*fmt == '#') spec.alt = true;
            else if (*fmt == '0') spec.zero = true;
            else break;
        }
        if (*fmt == '*') {
            spec.width = va_arg(ap, int);
            if (spec.width < 0) {
                spec.left = true;
                spec.width = -spec.width;
            }
            fmt++;
        } else {
            while (*fmt >= '0' && *fmt <= '9')
                spec.width = spec.width * 10 + (*fmt++ - '0');
        }
        if (*fmt == '.') {
            fmt++;
            spec.precision = 0;
            if (*fmt == '*') {
                spec.precision = va_arg(ap, int);
                if (spec.precision < 0)
                    spec.precision = -1;
                fmt++;
            } else {
                while (*fmt >= '0' && *fmt <= '9')
                    spec.precision = spec.precision * 10 + (*fmt++ - '0');
            }
        }
        Length len = Length::Int;
        if (*fmt == 'h') {
            fmt++;
            len = Length::Short;
            if (*fmt == 'h') {
                fmt++;
                len = Length::Char;
            }
        } else if (*fmt == 'l') {
            fmt++;
            len = Length::Long;
            if (*fmt == 'l') {
                fmt++;
                len = Length::LongLong;
            }
        } else if (*fmt == 'z') {
            fmt++;
            len = Length::Size;
        } else if (*fmt == 't') {
            fmt++;
            len = Length::Ptrdiff;
        } else if (*fmt == 'j') {
            fmt++;
            len = Length::Max;
        }

        char c = *fmt;
        if (c)
            fmt++;
        switch (c) {
        case 'd':
        case 'i': {
            int64_t v = signed_arg(ap, len);
            uint64_t mag = v < 0 ? uint64_t(0) - uint64_t(v) : uint64_t(v);
            const char* sign = v < 0 ? "-" : spec.plus ? "+" : spec.space ? " " : "";
            emit_number(w, spec, mag, 10, false, sign, nullptr);
            break;
        }
        case 'u':
            emit_number(w, spec, unsigned_arg(ap, len), 10, false, "", nullptr);
            break;
        case 'o':
            emit_number(w, spec, unsigned_arg(ap, len), 8, false, "", spec.alt ? "0" : nullptr);
            break;
        case 'x':
        case 'X': {
            uint64_t v = unsigned_arg(ap, len);
            const char* pfx = spec.alt && v ? (c == 'x' ? "0x" : "0X") : nullptr;
            emit_number(w, spec, v, 16, c == 'X', "", pfx);
            break;
        }
        case 'p': {
            auto v = reinterpret_cast<uintptr_t>(va_arg(ap, void*));
            emit_number(w, spec, v, 16, false, "", "0x");
            break;
        }
        case 'c': {
            char ch = static_cast<char>(va_arg(ap, int));
            int padding = spec.width > 1 ? spec.width - 1 : 0;
            if (!spec.left)
                w.pad(' ', padding);
            w.put(&ch, 1);
            if (spec.left)
                w.pad(' ', padding);
            break;
        }
        case 's': {
            const char* s = va_arg(ap, const char*);
            if (!s)
                s = "(null)";
            int n = int(length_of(s, spec.precision));
            int padding = spec.width > n ? spec.width - n : 0;
            if (!spec.left)
                w.pad(' ', padding);
            w.put(s, n);
            if (spec.left)
                w.pad(' ', padding);
            break;
        }
        case '%':
            w.put("%", 1);
            break;
        case 'f':
        case 'F':
        case 'e':
        case 'E':
        case 'g':
        case 'G':
            if (ff) {
                emit_float(w, spec, c, ap, ff);
                break;
            }
            [[fallthrough]];
        default:
            // Unknown conversion: print it as written so the mistake is visible.
            w.put(conv_start, fmt - conv_start);
            break;
        }
    }
    va_end(ap);
    return w.count();
}

size_t vformat_buf(char* buf, size_t size, const char* fmt, va_list ap, FloatFormatter ff)
{
    size_t used = 0;
    size_t n = vformat(
        [&](const char* s, size_t len) {
            for (size_t i = 0; i < len; i++, used++)
                if (used + 1 < size)
                    buf[used] = s[i];
        },
        fmt, ap, ff);
    if (size)
        buf[used < size ? used : size - 1] = '\0';
    return n;
}

namespace {
size_t format_buf(char* buf, size_t size, const char* fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    size_t n = vformat_buf(buf, size, fmt, ap);
    va_end(ap);
    return n;
}
} // namespace

size_t format_size(char* buf, size_t size, uint64_t bytes)
{
    constexpr uint64_t KiB = 1ull << 10, MiB = 1ull << 20, GiB = 1ull << 30;
    if (bytes >= GiB && bytes % GiB == 0)
        return format_buf(buf, size, "%lu GiB", static_cast<unsigned long>(bytes / GiB));
    if (bytes >= MiB)
        return format_buf(buf, size, "%lu MiB", static_cast<unsigned long>(bytes / MiB));
    return format_buf(buf, size, "%lu KiB", static_cast<unsigned long>(bytes / KiB));
}

} // namespace lib
