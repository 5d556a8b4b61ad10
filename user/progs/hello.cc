// Prints a greeting naming its task and thread, then exits with arg.
#include "user/lib/zest.h"

int main(long arg)
{
    zest::printf("hello from task %ld, thread %ld (arg %ld)\n", zest::getpid(), zest::gettid(), arg);
    return int(arg);
}
