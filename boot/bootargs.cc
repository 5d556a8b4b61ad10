#include "boot/bootargs.h"

#include "lib/string.h"

namespace kern::bootargs {
namespace {
char g_cmdline[512];
} // namespace

void set(const char* s)
{
    size_t n = strnlen(s, sizeof g_cmdline - 1);
    memcpy(g_cmdline, s, n);
    g_cmdline[n] = '\0';
}

const char* raw() { return g_cmdline; }

namespace {
// Finds `key` as a whole word (followed by '=', space or end). Returns the
// character after the key, or nullptr.
const char* find(const char* key)
{
    size_t klen = strlen(key);
    for (const char* p = g_cmdline; *p;) {
        while (*p == ' ')
            p++;
        const char* word = p;
        while (*p && *p != ' ')
            p++;
        if (size_t(p - word) >= klen && strncmp(word, key, klen) == 0 &&
            (word[klen] == '=' || word[klen] == ' ' || word[klen] == '\0'))
            return word + klen;
    }
    return nullptr;
}
} // namespace

bool has(const char* key) { return find(key) != nullptr; }

bool get(const char* key, char* buf, size_t size)
{
    const char* p = find(key);
    if (!p || size == 0)
        return false;
    size_t n = 0;
    if (*p == '=') {
        p++;
        while (p[n] && p[n] != ' ' && n + 1 < size) {
            buf[n] = p[n];
            n++;
        }
    }
    buf[n] = '\0';
    return true;
}

bool get_number(const char* key, uint64_t& out)
{
    char buf[24];
    if (!get(key, buf, sizeof buf))
        return false;
    out = 0;
    for (const char* c = buf; *c >= '0' && *c <= '9'; c++)
        out = out * 10 + uint64_t(*c - '0');
    return true;
}

} // namespace kern::bootargs
