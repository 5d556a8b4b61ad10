// Test threads that put checksummed data deep on their own kernel stacks,
// sleep (a timed sleep: nothing on the stack is linked anywhere, so no stack
// hold and the stack may be swapped out), and check every byte when they wake.
// Used by the stack-swapping ktests.
#pragma once

#include "kern/sched/sched.h"
#include "kern/sched/thread.h"
#include "kern/arch/riscv/timer.h"
#include "kstack/kstack.h"

#include <atomic>
#include <cstdint>

namespace ktest {

class Sleepers {
public:
    static constexpr unsigned MAX = 4096;
    static constexpr unsigned FRAME_WORDS = 64; // 512 bytes of data per frame

    enum Phase : int { Starting, Asleep, Verified, Corrupt, Failed };

    struct One {
        Sleepers* owner;
        kern::Thread* t;
        uint64_t seed;
        unsigned frames;
        std::atomic<int> phase;
    };

    // n threads, each `frames` frames deep, sleeping up to sleep_us.
    // Returns how many started.
    unsigned start(unsigned n, unsigned frames, uint64_t seed, uint64_t sleep_us = 600000000ull)
    {
        n_ = 0;
        sleep_us_ = sleep_us;
        return add(n, frames, seed);
    }

    // n more threads; returns how many there are now.
    unsigned add(unsigned n, unsigned frames, uint64_t seed)
    {
        unsigned end = n_ + n;
        for (unsigned i = n_; i < end && i < MAX; i++) {
            One& o = one_[i];
            o.owner = this;
            o.seed = seed * 1000003 + i;
            o.frames = frames;
            o.phase.store(Starting);
            auto r = kern::thread::spawn({.name = "sleeper", .entry = body, .arg = &o, .joinable = true});
            if (!r.ok())
                break;
            o.t = r.value();
            n_++;
        }
        return n_;
    }

    // Wait until every thread is asleep at its deepest frame (false: timed out).
    bool wait_asleep(uint64_t timeout_us = 10000000)
    {
        uint64_t end = kern::timer::now_us() + timeout_us;
        for (unsigned i = 0; i < n_; i++) {
            while (one_[i].phase.load() != Asleep || one_[i].t->state != kern::ThreadState::Sleeping ||
                   one_[i].t->on_cpu.load()) {
                if (kern::timer::now_us() > end)
                    return false;
                kern::sched::sleep_us(1000);
            }
        }
        return true;
    }

    void wake(unsigned i)
    {
        if (one_[i].t)
            (void)kern::sched::wake(one_[i].t);
    }
    void wake_all()
    {
        for (unsigned i = 0; i < n_; i++)
            wake(i);
    }

    // Join all; returns how many verified their data intact.
    unsigned join_all()
    {
        unsigned ok = 0;
        for (unsigned i = 0; i < n_; i++) {
            if (one_[i].t) {
                exit_[i] = kern::thread::join(one_[i].t);
                one_[i].t = nullptr;
            }
            if (one_[i].phase.load() == Verified)
                ok++;
        }
        return ok;
    }

    // A test that fails midway leaves through here: wake and reap whatever
    // is still asleep, so the next test starts clean.
    struct [[nodiscard]] Cleanup {
        Sleepers& s;
        ~Cleanup()
        {
            s.wake_all();
            (void)s.join_all();
        }
    };

    [[nodiscard]] unsigned count() const { return n_; }
    [[nodiscard]] kern::Thread* thread(unsigned i) const { return one_[i].t; }
    [[nodiscard]] int phase(unsigned i) const { return one_[i].phase.load(); }
    [[nodiscard]] int exit_code(unsigned i) const { return exit_[i]; }
    // Resident stack pages of all of them (stacks grow on demand).
    [[nodiscard]] uint64_t mapped_pages() const
    {
        uint64_t k = 0;
        for (unsigned i = 0; i < n_; i++)
            k += one_[i].t ? kstack::mapped_pages(one_[i].t->stack) : 0;
        return k;
    }
    [[nodiscard]] unsigned in_state(kstack::StackState s) const
    {
        unsigned k = 0;
        for (unsigned i = 0; i < n_; i++)
            k += one_[i].t && kstack::state(one_[i].t->stack) == s;
        return k;
    }

private:
    static uint64_t word(uint64_t seed, unsigned level, unsigned i)
    {
        uint64_t x = seed ^ (uint64_t(level) << 32) ^ i;
        x ^= x >> 31;
        x *= 0x7fb5d329728ea185ull;
        x ^= x >> 27;
        return x;
    }

    // One frame of data per level; the deepest level sleeps. Returns false on
    // any mismatch found at this level or below.
    static bool descend(One& o, unsigned level)
    {
        volatile uint64_t data[FRAME_WORDS];
        for (unsigned i = 0; i < FRAME_WORDS; i++)
            data[i] = word(o.seed, level, i);
        bool ok = true;
        if (level + 1 < o.frames) {
            ok = descend(o, level + 1);
        } else {
            o.phase.store(Asleep);
            kern::sched::sleep_us(o.owner->sleep_us_);
        }
        for (unsigned i = 0; i < FRAME_WORDS; i++)
            ok = ok && data[i] == word(o.seed, level, i);
        return ok;
    }

    static void body(void* arg)
    {
        auto& o = *static_cast<One*>(arg);
        o.phase.store(descend(o, 0) ? Verified : Corrupt);
    }

    One one_[MAX];
    int exit_[MAX] = {};
    unsigned n_ = 0;
    uint64_t sleep_us_ = 0;
};

} // namespace ktest
