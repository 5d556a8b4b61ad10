#include "vm/swap_policy.h"

namespace vm::swap_policy {

size_t select(Candidate* c, size_t n, uint64_t now, uint64_t idle_ticks, uint64_t need_pages, uint32_t* out,
              size_t max_out)
{
    // Keep the eligible ones at the front.
    size_t m = 0;
    for (size_t i = 0; i < n; i++) {
        if (eligible(c[i], now, idle_ticks)) {
            Candidate t = c[i];
            c[i] = c[m];
            c[m++] = t;
        }
    }
    // Longest asleep (smallest sleep_since) first.
    for (size_t i = 1; i < m; i++) {
        Candidate t = c[i];
        size_t j = i;
        while (j > 0 && c[j - 1].sleep_since > t.sleep_since) {
            c[j] = c[j - 1];
            j--;
        }
        c[j] = t;
    }
    size_t k = 0;
    uint64_t pages = 0;
    for (size_t i = 0; i < m && k < max_out && pages < need_pages; i++) {
        out[k++] = c[i].id;
        pages += c[i].pages;
    }
    return k;
}

} // namespace vm::swap_policy
