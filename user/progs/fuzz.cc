// The system-call fuzzer: arg = seed (low 32 bits) and number of calls
// (high 32 bits, in thousands; 0 means 1000). Random call numbers, the
// IPC calls (32..39: tags, handles, reply caps, buffers and timeouts drawn
// like every other argument, a6 too) and unknown ones included, with arguments drawn from
// values that probe every check: kernel addresses, the kernel image,
// unmapped and mapped user memory, the edges of user space, odd sizes and
// alignments, huge and negative values, and plain random bits.
//
// What it must not do is end itself, so it never calls exit or thread_exit,
// unmaps only in the mmap area (not its own text, data or stack), lets new
// threads start only at an entry that exits at once without touching memory,
// keeps console writes from valid buffers empty, and keeps its sleeps short.
// Now and then it loads every FP register and fcsr with random bits across a
// yield, a gettid or a spin (user/lib/fpregs.h), so FP state is switched
// among all the rest; they must come back unchanged (else it exits 2).
// It exits 0 after the last call, having printed a summary.
#include "user/lib/fpregs.h"
#include "user/lib/zest.h"

using namespace zest;

extern "C" void fuzz_thread_entry();
asm(R"(
    .text
    .globl fuzz_thread_entry
fuzz_thread_entry:
    li      a7, 1
    ecall
1:  j       1b
)");

namespace {

constexpr uint64_t USER_BASE = 0x1000000000ull, USER_END = 0x4000000000ull;
constexpr uint64_t MMAP_BASE = 0x2000000000ull, MMAP_END = 0x3000000000ull;

char g_data[8192] __attribute__((aligned(4096)));
const char g_exit42[] = "exit42";

bool in_user(uint64_t a) { return a >= USER_BASE && a < USER_END; }
bool in_mmap_area(uint64_t a, uint64_t len) { return a >= MMAP_BASE && a < MMAP_END && len <= MMAP_END - a; }

uint64_t pick(Random& r, uint64_t sp)
{
    switch (r.below(24)) {
    case 0: return 0;
    case 1: return 1;
    case 2: return ~0ull;
    case 3: return 0xffffffc080200000ull + r.below(1 << 20) * 8;     // direct map of the kernel
    case 4: return 0x80200000ull + r.below(1 << 16) * 8;             // identity-mapped kernel image
    case 5: return 0xffffffe800000000ull + r.below(1ull << 32);     // kernel stacks
    case 6: return USER_BASE + r.below(0x4000);                      // our text
    case 7: return uint64_t(g_data) + r.below(sizeof g_data);        // our data
    case 8: return sp - r.below(4096);                               // our stack
    case 9: return MMAP_BASE + r.below(64) * 4096;                   // the mmap area, page aligned
    case 10: return USER_BASE + (r.next() % (USER_END - USER_BASE)); // anywhere in user space
    case 11: return USER_END - r.below(64);                          // the top edge
    case 12: return USER_BASE - 1 - r.below(64);                     // just below
    case 13: return r.below(16) * 4096;                              // small page multiples
    case 14: return (16ull << 20) + r.below(3) * 4096 - 4096;        // around MMAP_MAX
    case 15: return r.below(8);                                      // prot bits, small values
    case 16: return 4096 + r.below(2);                               // WRITE_MAX and one more
    case 17: return 10000000 + r.below(2);                           // SLEEP_MAX_US and one more
    case 18: return uint64_t(-long(r.below(64)));                    // small negatives
    case 19: return 1ull << r.below(64);
    case 20: return uint64_t(g_data);                                // zeros: the empty name
    case 21: return uint64_t(g_exit42);
    case 22: return r.below(1000);                                   // plausible ids
    default: return r.next();
    }
}

struct Stats {
    uint64_t calls, ok, ipc, fp, errors[128];
};
Stats g_stats;

} // namespace

int main(long arg)
{
    uint64_t seed = uint64_t(arg) & 0xffffffff;
    uint64_t calls = (uint64_t(arg) >> 32) * 1000;
    if (!calls)
        calls = 1000;
    Random r(seed * 0x9e3779b97f4a7c15ull + 1);
    uint64_t sp;
    asm volatile("mv %0, sp" : "=r"(sp));
    long me = getpid();
    for (uint64_t i = 0; i < calls; i++) {
        uint64_t nr = r.below(4) == 0 ? r.below(70) : r.below(SYS_COUNT);
        if (r.below(4) == 0)
            nr = SYS_IPC_CREATE + r.below(SYS_IPC_LAST - SYS_IPC_CREATE + 1);
        if (r.below(200) == 0)
            nr = r.next();
        uint64_t a[6];
        for (auto& x : a)
            x = pick(r, sp);
        switch (nr) {
        case SYS_EXIT:
        case SYS_THREAD_EXIT: nr = SYS_GETTID; break;
        case SYS_SLEEP:
            if (a[0] <= SLEEP_MAX_US)
                a[0] %= 200;
            break;
        case SYS_WRITE:
            if (in_user(a[0]))
                a[1] = 0; // no garbage on the console
            break;
        case SYS_THREAD_CREATE:
            if (in_user(a[0]))
                a[0] = uint64_t(&fuzz_thread_entry);
            break;
        case SYS_MUNMAP:
            if (in_user(a[0]) && !in_mmap_area(a[0], a[1]))
                a[0] = MMAP_BASE + (a[0] & 0xfffff000);
            if (in_user(a[0]) && !in_mmap_area(a[0], a[1]))
                a[1] = 4096;
            break;
        case SYS_MMAP:
            // Fixed mappings only in the mmap area (never over our own pages:
            // EEXIST anyway, but keep text and stack neighbours clear).
            if (in_user(a[0]) && !in_mmap_area(a[0], a[1]))
                a[0] = MMAP_BASE + (a[0] & 0xfffff000);
            break;
        case SYS_IPC_SEND:
        case SYS_IPC_RECEIVE:
        case SYS_IPC_CALL:
        case SYS_IPC_REPLY:
        case SYS_IPC_REPLY_RECEIVE:
            // Often a plausible tag (a small handle or cap, sizes around the
            // limit); timeouts short or poll so a call with no partner
            // cannot stall the run. The fuzzer is alone on its endpoints:
            // only its own threads could answer.
            if (r.below(2))
                a[0] = IPC_TAG(r.below(IPC_HANDLES + 2), r.below(3) ? r.below(64) : IPC_MSG_MAX + r.below(2) - 1,
                               r.below(3) ? r.below(64) : IPC_MSG_MAX + r.below(2));
            if (nr == SYS_IPC_REPLY_RECEIVE && r.below(2))
                a[0] = (a[0] & 0xffffffffffffull) | IPC_TAG_REPLY(r.below(IPC_REPLY_CAPS + 2)); // caps 0..17
            break;
        case SYS_SPAWN_EP:
            a[0] = uint64_t(g_exit42); // no fuzzer children fuzzing
            break;
        case SYS_TASK_WAIT:
            if (a[1] <= SLEEP_MAX_US)
                a[1] %= 20000;
            break;
        default: break;
        }
        long ret;
        if ((nr >= SYS_IPC_SEND && nr <= SYS_IPC_REPLY) || nr == SYS_IPC_REPLY_RECEIVE) {
            uint64_t timeout = r.below(2) ? IPC_POLL : r.below(3) == 0 ? pick(r, sp) : r.below(2000);
            if (timeout == 0 || (timeout > 2000 && timeout != IPC_POLL && timeout <= IPC_TIMEOUT_MAX))
                timeout = IPC_POLL; // never forever, never long
            Msg m {{a[1], a[2], a[3], a[4]}, 0};
            ret = ipc_raw(long(nr), a[0], m, reinterpret_cast<void*>(a[5]), timeout);
            g_stats.ipc++;
        } else {
            ret = syscall6(long(nr), long(a[0]), long(a[1]), long(a[2]), long(a[3]), long(a[4]), long(a[5]));
        }
        g_stats.calls++;
        if (ret >= 0)
            g_stats.ok++;
        else if (-ret < 128)
            g_stats.errors[-ret]++;
        if (getpid() != me) {
            printf("fuzz: getpid changed\n");
            return 1;
        }
        if (r.below(64) == 0) {
            FpRegs in, out;
            fp_pattern(in, r.next());
            static constexpr long HOW[] = {SYS_YIELD, SYS_GETTID, -1};
            fp_round_trip(in, out, HOW[r.below(3)], 0, long(r.below(100000)) + 1);
            g_stats.fp++;
            if (!fp_equal(in, out)) {
                printf("fuzz: FP registers changed across a switch\n");
                return 2;
            }
        }
    }
    printf("fuzz %ld: seed %lu, %lu calls: %lu succeeded, EFAULT %lu, EINVAL %lu, ENOSYS %lu, ENOMEM %lu, "
           "EEXIST %lu, ESRCH %lu, ENOENT %lu, EAGAIN %lu; IPC %lu: EBADF %lu, EMSGSIZE %lu, ETIMEDOUT %lu; "
           "FP checks %lu\n",
           me, seed, g_stats.calls, g_stats.ok, g_stats.errors[EFAULT], g_stats.errors[EINVAL],
           g_stats.errors[ENOSYS], g_stats.errors[ENOMEM], g_stats.errors[EEXIST], g_stats.errors[ESRCH],
           g_stats.errors[ENOENT], g_stats.errors[EAGAIN], g_stats.ipc, g_stats.errors[EBADF],
           g_stats.errors[EMSGSIZE], g_stats.errors[ETIMEDOUT], g_stats.fp);
    return 0;
}
