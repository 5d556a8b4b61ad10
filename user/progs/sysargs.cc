// Every system call with bad arguments: each must come back with the
// documented error, and the task must survive all of them. Exits 0 when every
// check passed, else the number of failed checks (each printed).
#include "user/lib/zest.h"

using namespace zest;

namespace {

int g_failed;
int g_checks;

void expect(const char* what, long got, long want)
{
    g_checks++;
    if (got != want) {
        g_failed++;
        printf("sysargs: FAIL %s: got %ld, want %ld\n", what, got, want);
    }
}

const char text_const[] = "in read-only data";
char page_buf[8192] __attribute__((aligned(4096)));

long nothing(long) { return 0; }

} // namespace

int main(long)
{
    const long KERNEL = long(0xffffffc080200000ull), IMAGE = 0x80200000, LOW = 0x1000;
    const long USER_END = 0x4000000000l;
    // Unknown numbers.
    expect("syscall 12", syscall6(SYS_COUNT), -ENOSYS);
    expect("the first unused number in the IPC range", syscall6(SYS_IPC_LAST + 1), -ENOSYS);
    expect("syscall 63 (IPC range, unused)", syscall6(63), -ENOSYS);
    expect("syscall -1", syscall6(-1), -ENOSYS);
    expect("syscall 1<<40", syscall6(1l << 40), -ENOSYS);
    // write: bad pointers and sizes.
    expect("write(kernel)", write(reinterpret_cast<void*>(KERNEL), 8), -EFAULT);
    expect("write(image)", write(reinterpret_cast<void*>(IMAGE), 8), -EFAULT);
    expect("write(low)", write(reinterpret_cast<void*>(LOW), 8), -EFAULT);
    expect("write(null)", write(nullptr, 1), -EFAULT);
    expect("write(unmapped user)", write(reinterpret_cast<void*>(0x3000000000l), 8), -EFAULT);
    expect("write(end of user space)", write(reinterpret_cast<void*>(USER_END - 4), 8), -EFAULT);
    expect("write(too long)", write(page_buf, WRITE_MAX + 1), -EINVAL);
    expect("write(wraps)", write(page_buf, ~0ul), -EINVAL);
    expect("write(0 bytes)", write(page_buf, 0), 0);
    expect("write(rodata)", write(text_const, 0), 0);
    // sleep: too long.
    expect("sleep(too long)", sleep_us(SLEEP_MAX_US + 1), -EINVAL);
    expect("sleep(-1)", sleep_us(~0ull), -EINVAL);
    expect("sleep(0)", sleep_us(0), 0);
    expect("sleep(100)", sleep_us(100), 0);
    // spawn: bad names.
    expect("spawn(kernel)", spawn(reinterpret_cast<const char*>(KERNEL)), -EFAULT);
    expect("spawn(null)", spawn(nullptr), -EFAULT);
    expect("spawn(unmapped)", spawn(reinterpret_cast<const char*>(0x3000000000l)), -EFAULT);
    expect("spawn(nonexistent)", spawn("no-such-program"), -ENOENT);
    memset(page_buf, 'a', sizeof page_buf);
    expect("spawn(no NUL)", spawn(page_buf), -EINVAL);
    expect("spawn(empty)", spawn(""), -ENOENT);
    // task_wait: not a child.
    expect("task_wait(self)", task_wait(getpid()), -ESRCH);
    expect("task_wait(999999)", task_wait(999999), -ESRCH);
    expect("task_wait(timeout too long)", task_wait(1, SLEEP_MAX_US + 1), -EINVAL);
    // mmap: every rule.
    expect("mmap(len 0)", mmap(nullptr, 0, PROT_READ), -EINVAL);
    expect("mmap(len 100)", mmap(nullptr, 100, PROT_READ), -EINVAL);
    expect("mmap(too big)", mmap(nullptr, MMAP_MAX + 4096, PROT_READ), -EINVAL);
    expect("mmap(prot 0)", mmap(nullptr, 4096, 0), -EINVAL);
    expect("mmap(W+X)", mmap(nullptr, 4096, PROT_WRITE | PROT_EXEC), -EINVAL);
    expect("mmap(RWX)", mmap(nullptr, 4096, PROT_READ | PROT_WRITE | PROT_EXEC), -EINVAL);
    expect("mmap(prot 8)", mmap(nullptr, 4096, 8), -EINVAL);
    expect("mmap(unaligned)", mmap(reinterpret_cast<void*>(0x2000000010l), 4096, PROT_READ), -EINVAL);
    expect("mmap(kernel)", mmap(reinterpret_cast<void*>(KERNEL), 4096, PROT_READ), -EFAULT);
    expect("mmap(image)", mmap(reinterpret_cast<void*>(IMAGE), 4096, PROT_READ), -EFAULT);
    expect("mmap(past the end)", mmap(reinterpret_cast<void*>(USER_END - 4096), 8192, PROT_READ), -EFAULT);
    expect("mmap(over text)", mmap(reinterpret_cast<void*>(0x1000000000l), 4096, PROT_READ), -EEXIST);
    // The task's page limit (TASK_MAX_PAGES, text and stack included): 8 MiB
    // fits, a second 8 MiB does not, and nothing of the refused one stays.
    long a = mmap(nullptr, 8 << 20, PROT_READ | PROT_WRITE);
    expect("mmap(8 MiB) within the limit", a > 0, 1);
    expect("mmap(8 MiB) over the limit", mmap(nullptr, 8 << 20, PROT_READ | PROT_WRITE), -ENOMEM);
    expect("munmap(8 MiB)", munmap(reinterpret_cast<void*>(a), 8 << 20), (8 << 20) / 4096);
    // munmap.
    expect("munmap(len 0)", munmap(page_buf, 0), -EINVAL);
    expect("munmap(unaligned)", munmap(page_buf + 1, 4096), -EINVAL);
    expect("munmap(kernel)", munmap(reinterpret_cast<void*>(KERNEL), 4096), -EFAULT);
    expect("munmap(nothing there)", munmap(reinterpret_cast<void*>(0x3000000000l), 4096), 0);
    // thread_create.
    static char stack[4096] __attribute__((aligned(16)));
    expect("thread(kernel entry)", syscall6(SYS_THREAD_CREATE, IMAGE, long(stack + 4096), 0, 0), -EFAULT);
    expect("thread(odd entry)", syscall6(SYS_THREAD_CREATE, long(&nothing) + 1, long(stack + 4096), 0, 0), -EINVAL);
    expect("thread(kernel stack)", syscall6(SYS_THREAD_CREATE, long(&nothing), KERNEL, 0, 0), -EFAULT);
    expect("thread(unaligned stack)", syscall6(SYS_THREAD_CREATE, long(&nothing), long(stack + 4088), 0, 0), -EINVAL);
    expect("thread(stack 0)", syscall6(SYS_THREAD_CREATE, long(&nothing), 0, 0, 0), -EFAULT);
    // Ids.
    expect("getpid > 0", getpid() > 0, 1);
    expect("gettid > 0", gettid() > 0, 1);
    printf("sysargs: %d checks, %d failed\n", g_checks, g_failed);
    return g_failed;
}
