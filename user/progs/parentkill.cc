// The hostile programs, each killed by its parent (task_kill) once it is
// under way, then reaped: a fork bomb, a page-table bloater, a memory hog
// holding what it got, and every thread it may blocked on an endpoint nobody
// serves. Exits 0 if each ended with EXIT_KILLED, else 10 * which + 1 (no
// spawn), + 2 (the kill refused), + 3 (another exit code).
#include "user/lib/zest.h"

using namespace zest;

namespace {

struct Hostile {
    const char* name;
    long arg;
};
constexpr Hostile HOSTILE[] = {
    {"forkbomb", 2},
    {"ptbloat", 1},
    {"memhog", 1l << 32}, // MEMHOG_HOLD
    {"ipcblock", 0},
};

} // namespace

int main(long)
{
    int which = 0;
    for (const Hostile& h : HOSTILE) {
        which++;
        // The one before was reaped, but what it spawned may still be
        // ending, its pages and its place in this subtree not yet given
        // back: a limit refuses the spawn until then.
        long id = spawn(h.name, h.arg);
        for (int tries = 0; (id == -ENOMEM || id == -EAGAIN) && tries < 100; tries++) {
            sleep_us(50000);
            id = spawn(h.name, h.arg);
        }
        if (id <= 0) {
            printf("parentkill: spawning %s failed (%ld)\n", h.name, id);
            return 10 * which + 1;
        }
        sleep_us(500000); // under way
        if (task_kill(id) <= 0)
            return 10 * which + 2;
        long code = task_wait(id);
        printf("parentkill: %s (task %ld) ended with %ld\n", h.name, id, code);
        if (code != EXIT_KILLED)
            return 10 * which + 3;
    }
    return 0;
}
