// A tree of tasks that each take all the memory they may: arg 2 spawns 16
// children with arg 1, each of which spawns one with arg 0 (33 tasks in
// all). Half a second later (the tree complete) every task maps 64 KiB at a time until refused, says so, and
// sleeps for good holding what it got (the root says when the tree is
// complete, two seconds after its own refusal). Only kills end them.
#include "user/lib/zest.h"

using namespace zest;

int main(long level)
{
    int children = level == 2 ? 16 : level == 1 ? 1 : 0;
    for (int i = 0; i < children; i++)
        if (spawn("hogtree", level - 1) <= 0)
            printf("hogtree: task %ld: spawn %d refused\n", getpid(), i);
    sleep_us(500000); // the whole tree exists before memory runs out
    long pages = 0, r;
    while ((r = mmap(nullptr, 64 << 10, PROT_READ | PROT_WRITE)) >= 0)
        pages += 16;
    printf("hogtree: task %ld holds %ld pages, refused with %ld\n", getpid(), pages, -r);
    if (level == 2) {
        sleep_us(2000000); // the rest of the tree refused by now too
        printf("hogtree: tree %ld complete\n", getpid());
    }
    for (;;)
        sleep_us(SLEEP_MAX_US);
}
