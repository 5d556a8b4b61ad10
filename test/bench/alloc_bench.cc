// Host allocator benchmark: fixed-size churn with a window of live
// objects freed in random order, for zalloc, kmalloc_obj, kmalloc, glibc
// malloc, mimalloc, jemalloc and a bare free list (the floor), at 64 B, 256 B
// and 1 KiB.
//
// One source, three binaries (tools/bench.mk): mimalloc and jemalloc both
// replace malloc when linked, so each gets its own binary:
//   alloc_bench      noop, freelist, zalloc, kmalloc_obj, kmalloc, glibc
//   alloc_bench_mi   noop, mimalloc   (-DBENCH_MIMALLOC -lmimalloc; calls mi_malloc/mi_free)
//   alloc_bench_je   noop, jemalloc   (-DBENCH_JEMALLOC -ljemalloc; malloc/free are jemalloc's)
// Built with -O2 -DZEST_HOST -DZALLOC_DEBUG=0, no sanitizers.
//
// The workload, the same for every allocator: W = 512 slots are filled, then
// each step picks a slot from a fixed pseudo-random sequence, frees its object,
// allocates a new one and writes its first word. One step is one alloc+free pair.
//
// Two modes:
//   alloc_bench --list                     allocator names in this binary
//   alloc_bench --instr NAME SIZE PAIRS [THREADS]   one churn per thread under
//       callgrind; run with valgrind --tool=callgrind --collect-atstart=no
//       --toggle-collect='*measured_churn*', so only the measured loop of each
//       thread (after its warm-up) is counted. The driver takes
//       the total Ir, subtracts the same run of "noop" (the loop with an
//       allocator that returns a fixed buffer and frees nothing, inlined), and
//       divides by PAIRS x THREADS: instructions per pair, call and return
//       included. Valgrind runs threads one at a time, so 2 threads show the
//       instructions of the per-hart paths with two harts, not contention.
//   alloc_bench [google benchmark flags]   time per pair, 1 and 2 threads; each
//       thread has its own window; zalloc's harts are the threads (cpu::host_bind).
// Host caveat: in the host build cpu::id() and the interrupt flag are
// thread-local function calls (test/host/fake_kernel.cc); in the kernel they are
// a load through tp and a csrrc/csrs, so the kernel's fast path is shorter: the
// in-kernel figures (test/kernel/alloc_bench.cc) are the ones the target applies to.
#include "test/host/host_kernel.h"
#include "test/host/zalloc_fake_backend.h"
#include "zalloc/debug.h"
#include "zalloc/kmalloc.h"
#include "zalloc/kmalloc_obj.h"
#include "zalloc/zone.h"

#include <benchmark/benchmark.h>

#if defined(BENCH_MIMALLOC)
#include <mimalloc.h>
#endif

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>
#include <thread>
#include <vector>

namespace {

constexpr size_t SIZES[] = {64, 256, 1024};
constexpr size_t NSIZES = 3;
constexpr unsigned WINDOW = 512;
constexpr unsigned SEQ = 1u << 14; // pseudo-random slot sequence, repeated

uint16_t g_seq[SEQ];

void init_seq()
{
    uint64_t x = 0x9e3779b97f4a7c15ull;
    for (unsigned i = 0; i < SEQ; i++) {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        g_seq[i] = static_cast<uint16_t>(x % WINDOW);
    }
}

size_t size_index(size_t size)
{
    for (size_t i = 0; i < NSIZES; i++)
        if (SIZES[i] == size)
            return i;
    std::fprintf(stderr, "size %zu not benchmarked\n", size);
    std::exit(2);
}

// ---- allocators: alloc(size index, size) and free(size index, p) ----------------

struct Noop {
    static constexpr const char* name = "noop";
    alignas(64) static inline char buf[1024];
    static void* alloc(size_t, size_t) { return buf; }
    static void free(size_t, void*) {}
};

#if !defined(BENCH_MIMALLOC) && !defined(BENCH_JEMALLOC)

// The floor: a LIFO free list per size and thread, carved from big chunks,
// called like any allocator (out of line). Inlined into the loop, GCC folds the
// free's push into the next allocation's pop (about 2 instructions a pair),
// which is no allocator at all.
struct FreeList {
    static constexpr const char* name = "freelist";
    struct Node {
        Node* next;
    };
    struct PerThread {
        Node* head[NSIZES];
        char* bump;
        char* end;
    };
    static inline thread_local PerThread t {}; // zero-initialised
    __attribute__((noinline)) static void* alloc(size_t si, size_t size)
    {
        Node* n = t.head[si];
        if (__builtin_expect(n != nullptr, 1)) {
            t.head[si] = n->next;
            return n;
        }
        return refill(size);
    }
    __attribute__((noinline)) static void free(size_t si, void* p)
    {
        Node* n = static_cast<Node*>(p);
        n->next = t.head[si];
        t.head[si] = n;
    }
    __attribute__((noinline)) static void* refill(size_t size)
    {
        if (t.bump == nullptr || t.bump + size > t.end) {
            constexpr size_t CHUNK = 1 << 20;
            t.bump = static_cast<char*>(std::aligned_alloc(64, CHUNK)); // never freed: a benchmark
            t.end = t.bump + CHUNK;
        }
        void* p = t.bump;
        t.bump += size;
        return p;
    }
};

FakeBackend* g_be;
zalloc::Zone* g_zones[NSIZES];
zalloc::ObjZone* g_objzones[NSIZES];
ZALLOC_MALLOC_DEFINE(M_HBENCH, "bench", 0);

struct ZallocZone {
    static constexpr const char* name = "zalloc";
    static void* alloc(size_t si, size_t) { return g_zones[si]->alloc(zalloc::M_NOWAIT); }
    static void free(size_t si, void* p) { g_zones[si]->free(p); }
};

struct KmallocObj {
    static constexpr const char* name = "kmalloc_obj";
    static void* alloc(size_t si, size_t) { return g_objzones[si]->alloc(zalloc::M_NOWAIT); }
    static void free(size_t si, void* p) { g_objzones[si]->free(p); }
};

struct Kmalloc {
    static constexpr const char* name = "kmalloc";
    static void* alloc(size_t, size_t size) { return zalloc::kmalloc(size, M_HBENCH, zalloc::M_NOWAIT); }
    static void free(size_t, void* p) { zalloc::kfree(p, M_HBENCH); }
};

struct Glibc {
    static constexpr const char* name = "glibc";
    static void* alloc(size_t, size_t size) { return std::malloc(size); }
    static void free(size_t, void* p) { std::free(p); }
};

void init_allocators()
{
    zalloc::debug::set_enabled(false); // before any zone exists
    cpu::host_set_count(2);
    g_be = new FakeBackend;
    for (size_t i = 0; i < NSIZES; i++) {
        g_zones[i] = new zalloc::Zone;
        g_zones[i]->init(("bench-zone-" + std::to_string(SIZES[i])).c_str(), SIZES[i], *g_be);
        g_objzones[i] = new zalloc::ObjZone;
        g_objzones[i]->init(zalloc::ObjZoneSpec {strdup(("bench-obj-" + std::to_string(SIZES[i])).c_str()),
                                                 SIZES[i], {}},
                            *g_be);
    }
    zalloc::kmalloc_init(*g_be);
}

#elif defined(BENCH_MIMALLOC)

struct Mimalloc {
    static constexpr const char* name = "mimalloc";
    static void* alloc(size_t, size_t size) { return mi_malloc(size); }
    static void free(size_t, void* p) { mi_free(p); }
};
void init_allocators() {}

#else

struct Jemalloc {
    static constexpr const char* name = "jemalloc";
    static void* alloc(size_t, size_t size) { return std::malloc(size); }
    static void free(size_t, void* p) { std::free(p); }
};
void init_allocators() {}

#endif

// ---- the churn ----------------------------------------------------------------

template <typename A>
void fill(void** slots, size_t si, size_t size)
{
    for (unsigned i = 0; i < WINDOW; i++) {
        slots[i] = A::alloc(si, size);
        *static_cast<uint64_t*>(slots[i]) = i;
    }
}

template <typename A>
void drain(void** slots, size_t si)
{
    for (unsigned i = 0; i < WINDOW; i++)
        A::free(si, slots[i]);
}

template <typename A>
__attribute__((noinline)) void churn(void** slots, size_t si, size_t size, uint64_t pairs, uint64_t start)
{
    for (uint64_t i = start; i < start + pairs; i++) {
        unsigned j = g_seq[i & (SEQ - 1)];
        A::free(si, slots[j]);
        void* p = A::alloc(si, size);
        *static_cast<uint64_t*>(p) = i;
        slots[j] = p;
    }
}

// The measured loop under callgrind: --toggle-collect='*measured_churn*' counts
// exactly what runs inside it, in every thread.
template <typename A>
__attribute__((noinline)) void measured_churn(void** slots, size_t si, size_t size, uint64_t pairs)
{
    churn<A>(slots, si, size, pairs, 7);
}

template <typename A>
void instr_thread(unsigned hart, size_t size, uint64_t pairs)
{
    cpu::host_bind(hart);
    size_t si = size_index(size);
    void* slots[WINDOW];
    fill<A>(slots, si, size);
    churn<A>(slots, si, size, pairs / 4 + WINDOW * 4, 0); // warm up
    measured_churn<A>(slots, si, size, pairs);
    drain<A>(slots, si);
}

template <typename A>
void run_instr(size_t size, uint64_t pairs, unsigned threads)
{
    if (threads <= 1) {
        instr_thread<A>(0, size, pairs);
        return;
    }
    std::vector<std::thread> ts;
    for (unsigned t = 0; t < threads; t++)
        ts.emplace_back(instr_thread<A>, t, size, pairs);
    for (auto& t : ts)
        t.join();
}

template <typename A>
void bm_churn(benchmark::State& state)
{
    cpu::host_bind(static_cast<unsigned>(state.thread_index()));
    size_t size = static_cast<size_t>(state.range(0));
    size_t si = size_index(size);
    void* slots[WINDOW];
    fill<A>(slots, si, size);
    churn<A>(slots, si, size, WINDOW * 4, 0);
    uint64_t i = 0;
    constexpr uint64_t STEP = 256;
    for (auto _ : state) {
        churn<A>(slots, si, size, STEP, i);
        i += STEP;
    }
    state.SetItemsProcessed(static_cast<int64_t>(state.iterations() * STEP));
    drain<A>(slots, si);
}

struct Entry {
    const char* name;
    void (*instr)(size_t, uint64_t, unsigned);
    void (*bm)(benchmark::State&);
};

template <typename A>
constexpr Entry entry()
{
    return Entry {A::name, run_instr<A>, bm_churn<A>};
}

const Entry ENTRIES[] = {
    entry<Noop>(),
#if defined(BENCH_MIMALLOC)
    entry<Mimalloc>(),
#elif defined(BENCH_JEMALLOC)
    entry<Jemalloc>(),
#else
    entry<FreeList>(), entry<ZallocZone>(), entry<KmallocObj>(), entry<Kmalloc>(), entry<Glibc>(),
#endif
};

} // namespace

int main(int argc, char** argv)
{
    init_seq();
    init_allocators();
    if (argc > 1 && std::strcmp(argv[1], "--list") == 0) {
        for (const Entry& e : ENTRIES)
            std::printf("%s\n", e.name);
        return 0;
    }
    if ((argc == 5 || argc == 6) && std::strcmp(argv[1], "--instr") == 0) {
        unsigned threads = argc == 6 ? unsigned(std::strtoul(argv[5], nullptr, 0)) : 1;
        for (const Entry& e : ENTRIES) {
            if (std::strcmp(e.name, argv[2]) == 0) {
                e.instr(std::strtoul(argv[3], nullptr, 0), std::strtoull(argv[4], nullptr, 0), threads);
                return 0;
            }
        }
        std::fprintf(stderr, "no allocator %s here\n", argv[2]);
        return 2;
    }
    for (const Entry& e : ENTRIES) {
        if (std::strcmp(e.name, "noop") == 0)
            continue;
        for (size_t s : SIZES)
            for (int threads : {1, 2})
                benchmark::RegisterBenchmark((std::string("churn/") + e.name).c_str(), e.bm)
                    ->Arg(static_cast<int64_t>(s))
                    ->Threads(threads)
                    ->UseRealTime();
    }
    benchmark::Initialize(&argc, argv);
    benchmark::RunSpecifiedBenchmarks();
    benchmark::Shutdown();
    return 0;
}
