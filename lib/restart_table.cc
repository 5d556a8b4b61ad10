#include "lib/restart_table.h"

namespace lib {

RestartTableError restart_table_sort(RestartRange* t, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (t[i].commit < t[i].begin)
            return RestartTableError::Empty;
    for (size_t i = 1; i < n; i++) {
        RestartRange r = t[i];
        size_t j = i;
        for (; j > 0 && t[j - 1].begin > r.begin; j--)
            t[j] = t[j - 1];
        t[j] = r;
    }
    for (size_t i = 1; i < n; i++) {
        bool same = t[i].begin == t[i - 1].begin && t[i].commit == t[i - 1].commit;
        if (!same && t[i].begin <= t[i - 1].commit)
            return RestartTableError::Overlap;
    }
    return RestartTableError::None;
}

uintptr_t restart_table_find(const RestartRange* t, size_t n, uintptr_t pc)
{
    // The last range that begins at or before pc is the only one that can hold it.
    size_t lo = 0, hi = n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (t[mid].begin <= pc)
            lo = mid + 1;
        else
            hi = mid;
    }
    if (lo == 0)
        return 0;
    const RestartRange& r = t[lo - 1];
    return pc <= r.commit ? r.begin : 0;
}

} // namespace lib
