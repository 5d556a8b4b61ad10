#include "lib/name_pattern.h"

#include "lib/string.h"

#include <cstddef>

namespace lib {
namespace {

bool matches_one(const char* name, const char* pat, size_t len, bool explicit_only)
{
    if (len == 3 && strncmp(pat, "all", 3) == 0)
        return !explicit_only;
    if (len > 0 && pat[len - 1] == '*')
        return !explicit_only && strncmp(name, pat, len - 1) == 0;
    return strlen(name) == len && strncmp(name, pat, len) == 0;
}

} // namespace

bool name_matches(const char* name, const char* pattern, bool explicit_only)
{
    bool in = false;
    for (const char* p = pattern; *p;) {
        const char* end = p;
        while (*end && *end != ',')
            end++;
        // "-ENTRY" takes out what ENTRY names, wherever it stands in the list.
        if (*p == '-') {
            if (matches_one(name, p + 1, size_t(end - p - 1), false))
                return false;
        } else if (matches_one(name, p, size_t(end - p), explicit_only)) {
            in = true;
        }
        p = *end ? end + 1 : end;
    }
    return in;
}

} // namespace lib
