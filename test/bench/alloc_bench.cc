// Fast-path cost of zalloc, kmalloc_obj and kmalloc: instructions per
// allocate+free pair on one hart, after warm-up (no miss, no lock).
//
// Not a test and not in the Makefile. Build (no sanitizers, debug checks off):
//   g++ -std=c++20 -O2 -DZEST_HOST -DZALLOC_DEBUG=0 -I. test/bench/alloc_bench.cc
//       zalloc/*.cc kern/spinlock.cc test/host/fake_kernel.cc -o build/alloc_bench -lpthread
//   (one command line)
// Run:
//   build/alloc_bench                 hardware counters (perf_event_open) if allowed,
//                                     else nanoseconds per pair
//   valgrind --tool=callgrind --toggle-collect='*bench_*' build/alloc_bench 200000
//   callgrind_annotate callgrind.out.<pid> | head -30
//                                     exact instructions: Ir of each bench_* / its pairs
// Each measured loop is its own noinline function named bench_*, so callgrind's
// --toggle-collect counts exactly the loop and nothing of the setup.
// Host caveat: cpu::id() and the interrupt flag are thread-local function calls
// in the host fake; in the kernel they are a load through tp and a csrrc/csrs, so
// the kernel fast path is a few instructions shorter than measured here.
#include "test/host/zalloc_fake_backend.h"
#include "zalloc/debug.h"
#include "zalloc/kmalloc.h"
#include "zalloc/kmalloc_obj.h"
#include "zalloc/zone.h"

#include <linux/perf_event.h>
#include <sys/ioctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>

using namespace zalloc;

namespace {

constexpr int BATCH = 16; // objects live at once: stays in the per-hart cache / active slab

__attribute__((noinline)) void bench_zalloc(Zone& z, long pairs)
{
    void* p[BATCH];
    for (long i = 0; i < pairs; i += BATCH) {
        for (int j = 0; j < BATCH; j++)
            p[j] = z.alloc(M_NOWAIT);
        for (int j = 0; j < BATCH; j++)
            z.free(p[j]);
    }
}

__attribute__((noinline)) void bench_kmalloc_obj(ObjZone& z, long pairs)
{
    void* p[BATCH];
    for (long i = 0; i < pairs; i += BATCH) {
        for (int j = 0; j < BATCH; j++)
            p[j] = z.alloc(M_NOWAIT);
        for (int j = 0; j < BATCH; j++)
            z.free(p[j]);
    }
}

ZALLOC_MALLOC_DEFINE(M_BENCH, "bench", 0);

__attribute__((noinline)) void bench_kmalloc(long pairs)
{
    void* p[BATCH];
    for (long i = 0; i < pairs; i += BATCH) {
        for (int j = 0; j < BATCH; j++)
            p[j] = kmalloc(64, M_BENCH, M_NOWAIT);
        for (int j = 0; j < BATCH; j++)
            kfree(p[j], M_BENCH);
    }
}

struct Counter {
    int fd = -1;
    Counter()
    {
        perf_event_attr a {};
        a.type = PERF_TYPE_HARDWARE;
        a.size = sizeof a;
        a.config = PERF_COUNT_HW_INSTRUCTIONS;
        a.disabled = 1;
        a.exclude_kernel = 1;
        a.exclude_hv = 1;
        fd = static_cast<int>(syscall(SYS_perf_event_open, &a, 0, -1, -1, 0));
    }
    ~Counter()
    {
        if (fd >= 0)
            close(fd);
    }
    template <typename F>
    double per_pair(F f, long pairs)
    {
        if (fd >= 0) {
            ioctl(fd, PERF_EVENT_IOC_RESET, 0);
            ioctl(fd, PERF_EVENT_IOC_ENABLE, 0);
            f();
            ioctl(fd, PERF_EVENT_IOC_DISABLE, 0);
            long long n = 0;
            if (read(fd, &n, sizeof n) == sizeof n)
                return double(n) / double(pairs);
        }
        auto t0 = std::chrono::steady_clock::now();
        f();
        auto t1 = std::chrono::steady_clock::now();
        return std::chrono::duration<double, std::nano>(t1 - t0).count() / double(pairs);
    }
};

} // namespace

int main(int argc, char** argv)
{
    long pairs = argc > 1 ? std::atol(argv[1]) : 10000000;
    debug::set_enabled(false); // before any zone exists
    FakeBackend be;
    Zone z;
    z.init("bench-zone", 64, be);
    ObjZone oz;
    oz.init(ObjZoneSpec {"bench-obj", 64, {}}, be);
    kmalloc_init(be);
    // Warm up: fill the hart caches and active slabs.
    bench_zalloc(z, 1024);
    bench_kmalloc_obj(oz, 1024);
    bench_kmalloc(1024);

    Counter c;
    const char* unit = c.fd >= 0 ? "instructions" : "ns (no perf counter access)";
    std::printf("%ld pairs, %d live at a time; %s per alloc+free pair:\n", pairs, BATCH, unit);
    std::printf("  zalloc       %6.1f\n", c.per_pair([&] { bench_zalloc(z, pairs); }, pairs));
    std::printf("  kmalloc_obj  %6.1f\n", c.per_pair([&] { bench_kmalloc_obj(oz, pairs); }, pairs));
    std::printf("  kmalloc(64)  %6.1f\n", c.per_pair([&] { bench_kmalloc(pairs); }, pairs));
    return 0;
}
