// Shell: stress (the kernel-stack swap workload, kern/stress/stress.h) and soak
// (every load at once, kern/stress/soak.h): arguments in, the verdict out.
#include "kern/console/printf.h"
#include "kern/shell/shell.h"
#include "kern/stress/soak.h"
#include "kern/stress/stress.h"
#include "kern/sync/lockcheck.h"
#include "kstack/swap.h"
#include "lib/string.h"

namespace {

constexpr unsigned STRESS_MAX_ROUNDS = 1000;
constexpr uint64_t SOAK_MAX_SECONDS = 7 * 24 * 3600;

// The word `samples` anywhere in the arguments: take it out, say whether it
// was there (a sample line every 100 ms, kern/stress/samples.h).
bool take_samples(int& argc, char** argv)
{
    bool found = false;
    int out = 1;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "samples") == 0)
            found = true;
        else
            argv[out++] = argv[i];
    }
    argc = out;
    return found;
}

} // namespace

SHELL_COMMAND(stress, "[threads [depth_kib [rounds]]] [samples]",
              "sleepers with deep checksummed stacks under a memory hog (kernel-stack swap workload); "
              "defaults 64 threads, 8 KiB (max 12), 3 rounds; each sleep lasts the swap idle threshold + 2 s; "
              "samples: a machine-readable sample line every 100 ms")
{
    bool samples = take_samples(argc, argv);
    if (argc > 4)
        return 1;
    kern::stress::Params p;
    uint64_t threads = p.threads, kib = p.depth_bytes / 1024, rounds = p.rounds;
    if (argc > 1 && !kern::shell::parse_number(argv[1], 1, kern::stress::MAX_THREADS, threads)) {
        kprintf("stress: threads must be a number from 1 to %u\n", kern::stress::MAX_THREADS);
        return 1;
    }
    if (argc > 2 && !kern::shell::parse_number(argv[2], 1, kern::stress::MAX_DEPTH_BYTES / 1024, kib)) {
        kprintf("stress: depth_kib must be a number from 1 to %u\n", kern::stress::MAX_DEPTH_BYTES / 1024);
        return 1;
    }
    if (argc > 3 && !kern::shell::parse_number(argv[3], 1, STRESS_MAX_ROUNDS, rounds)) {
        kprintf("stress: rounds must be a number from 1 to %u\n", STRESS_MAX_ROUNDS);
        return 1;
    }
    p.threads = unsigned(threads);
    p.rounds = unsigned(rounds);
    p.depth_bytes = unsigned(kib * 1024);
    p.samples = samples;
    // The pagedaemon takes only threads idle for the swap idle threshold
    // (swap_idle_ms=, 2 s by default): sleep 2 s past it, and hog memory
    // from half the threshold on, so that the stacks are candidates for
    // 2 s of the hold whatever the threshold (a slow, loaded host included).
    uint64_t idle = kstack::swap::idle_us();
    p.sleep_us = idle + 2000000;
    p.hog_hold_us = p.sleep_us - idle / 2;
    auto r = kern::stress::run(p);
    if (!r.ok())
        kprintf("stress: %s\n", lib::error_name(r.error()));
    return 0;
}

SHELL_COMMAND(soak, "[seconds] [-part] [seed=N] [samples]",
              "everything at once (sleepers ipc fuzz kill threads grow hog; -name turns one off), default 60 s; "
              "ends 'soak: PASS ...' or 'soak: FAIL reason'; samples: a sample line every 100 ms")
{
    using namespace kern::soak;
    Params p;
    p.samples = take_samples(argc, argv);
    for (int i = 1; i < argc; i++) {
        const char* a = argv[i];
        if (a[0] == '-') {
            uint32_t part = part_named(a + 1);
            if (!part) {
                kprintf("soak: no part '%s' (sleepers ipc fuzz kill threads grow hog)\n", a + 1);
                return 1;
            }
            p.parts &= ~part;
        } else if (strncmp(a, "seed=", 5) == 0) {
            if (!kern::shell::parse_number(a + 5, 0, ~0ull / 10, p.seed))
                return 1;
        } else if (i != 1 || !kern::shell::parse_number(a, 1, SOAK_MAX_SECONDS, p.seconds)) {
            return 1;
        }
    }
    auto r = run(p);
    if (!r.ok()) {
        kprintf("soak: FAIL %s\n", lib::error_name(r.error()));
        return 0;
    }
    const Result& s = r.value();
    if (!s.ok()) {
        kprintf("soak: FAIL %s\n", s.fail);
        return 0;
    }
    kprintf("soak: PASS %lu s: %lu wakes verified, %lu walks; %lu swap-outs, %lu swap-ins; %lu kills; %lu tasks, "
            "%lu threads, %lu IPC calls checked (clients seen swapped out in a call %lu times); errors injected and survived: %lu write, %lu read, %lu stacks lost; "
            "%lu tasks refused memory (ENOMEM); min free %lu pages\n",
            p.seconds, s.wakes_verified, s.walks_verified, s.swap_outs, s.swap_ins, s.kills, s.tasks, s.threads,
            s.ipc_calls, s.ipc_clients_seen_swapped, s.write_errors, s.read_errors, s.stacks_lost, s.refused_memory, s.min_free_pages);
    // With bootarg lockcheck, what the checker saw while everything ran at once.
    if (ksync::lockcheck::enabled())
        ksync::lockcheck::print_summary();
    return 0;
}
