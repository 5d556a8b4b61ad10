// vmstat -z / vmstat -m text, through ksnprintf one line at a time.
#include "zalloc/stats.h"

#include "kern/seam/printf.h"

namespace zalloc {

namespace {

const char* kind_name(ZoneKind k)
{
    switch (k) {
    case ZoneKind::Zalloc:
        return "zone";
    case ZoneKind::ZallocInterrupt:
        return "izone";
    case ZoneKind::Obj:
        return "obj";
    }
    return "?";
}

struct BufSink {
    char* buf;
    size_t size;
    size_t len; // length the whole text needs

    void line(const char* text)
    {
        for (const char* c = text; *c; c++, len++)
            if (len + 1 < size)
                buf[len] = *c;
        if (size)
            buf[len + 1 < size ? len : size - 1] = '\0';
    }
};

} // namespace

void format_zone_stats(const ZoneStats* z, size_t n, LineSink sink)
{
    char line[200];
    ksnprintf(line, sizeof line, "%-16s %-5s %5s %8s %8s %8s %10s %6s %7s %7s %4s %4s %4s %4s %6s\n", "ZONE", "KIND",
              "SIZE", "LIMIT", "USED", "FREE", "REQUESTS", "FAIL", "RSV", "K", "HART", "PART", "FREE", "EXH",
              "PAGES");
    sink(line);
    for (size_t i = 0; i < n; i++) {
        const ZoneStats& s = z[i];
        char rsv[24];
        ksnprintf(rsv, sizeof rsv, "%zu/%zu", s.reserve_present, s.reserve_target);
        ksnprintf(line, sizeof line, "%-16s %-5s %5zu %8zu %8zu %8zu %10llu %6llu %7s %7zu %4zu %4zu %4zu %4zu %6zu\n",
                  s.name, kind_name(s.kind), s.item_size, s.limit, s.used, s.free,
                  static_cast<unsigned long long>(s.requests), static_cast<unsigned long long>(s.failures), rsv,
                  s.k_guarantee, s.slabs_hart, s.slabs_partial, s.slabs_free, s.slabs_exhausted, s.pages);
        sink(line);
    }
}

void format_type_stats(const TypeStats* t, size_t n, LineSink sink)
{
    char line[160];
    ksnprintf(line, sizeof line, "%-16s %8s %10s %10s %10s %10s %6s\n", "TYPE", "INUSE", "MEMUSE", "HIGHUSE", "LIMIT",
              "REQUESTS", "FAIL");
    sink(line);
    for (size_t i = 0; i < n; i++) {
        const TypeStats& s = t[i];
        ksnprintf(line, sizeof line, "%-16s %8zu %9zuK %9zuK %9zuK %10llu %6llu\n", s.name, s.in_use,
                  (s.memory + 1023) / 1024, (s.high_water + 1023) / 1024, s.limit / 1024,
                  static_cast<unsigned long long>(s.requests), static_cast<unsigned long long>(s.failures));
        sink(line);
    }
}

size_t format_zone_stats(const ZoneStats* z, size_t n, char* buf, size_t size)
{
    BufSink b {buf, size, 0};
    if (size)
        buf[0] = '\0';
    format_zone_stats(z, n, [&b](const char* line) { b.line(line); });
    return b.len;
}

size_t format_type_stats(const TypeStats* t, size_t n, char* buf, size_t size)
{
    BufSink b {buf, size, 0};
    if (size)
        buf[0] = '\0';
    format_type_stats(t, n, [&b](const char* line) { b.line(line); });
    return b.len;
}

} // namespace zalloc
