// The first user program, started at boot: says hello, spawns the demo
// programs and waits for each, then reports and exits.
#include "user/lib/zest.h"

int main(long)
{
    zest::printf("init: task %ld up; spawning two programs\n", zest::getpid());
    long a = zest::spawn("hello", 1);
    long b = zest::spawn("hello", 2);
    if (a < 0 || b < 0) {
        zest::printf("init: spawn failed (%ld, %ld)\n", a, b);
        return 1;
    }
    long ca = zest::task_wait(a, 0);
    long cb = zest::task_wait(b, 0);
    zest::printf("init: task %ld exited with %ld, task %ld with %ld; done\n", a, ca, b, cb);
    return 0;
}
