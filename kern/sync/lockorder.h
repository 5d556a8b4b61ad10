// The lock order, declared once: every lock class with its rank, and the
// checker's hardware-free logic (kern/sync/lockcheck.cc feeds it in the kernel;
// test/host/lockorder_test.cc drives it on the host).
//
// A lock's class is its name string: every instance named "runqueue" (one per
// hart) or "task" (one per task) is one class. A lock may be taken while
// holding only locks of a lower rank, unless the pair is listed as an
// exception. docs/locking.md's table is generated from this one
// (test/host/lockorder_test.cc checks it, and rewrites it with
// ZEST_WRITE_LOCK_TABLE=1).
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>

namespace ksync::lockcheck {

enum class Kind : uint8_t {
    Spin,  // ksync::SpinLock: interrupts off while held
    Sleep, // kern::Mutex: may sleep; never under a spinlock, never in an interrupt
};

enum ClassFlag : uint8_t {
    NO_IRQ = 1u << 0,      // never taken by an interrupt handler
    HANDED_OVER = 1u << 1, // may be held across a context switch (the scheduler's own lock)
    TEST_ONLY = 1u << 2,   // a ktest's own lock: not in docs/locking.md
};

struct ClassDef {
    const char* name;
    uint16_t rank; // lower ranks are taken first
    Kind kind;
    uint8_t flags;
    const char* file;
    const char* protects;
};

// A pair allowed against the ranks: `taken` while `held` is held.
struct Exception {
    const char* held;
    const char* taken;
    const char* why;
};

constexpr unsigned MAX_CLASSES = 64;
constexpr uint16_t NO_CLASS = 0xffff;

const ClassDef& class_def(uint16_t cls);
unsigned class_count();
const Exception& exception_def(unsigned i);
unsigned exception_count();

// The class named `name`, or NO_CLASS if the table has none.
[[nodiscard]] uint16_t find_class(const char* name);
// Whether `taken` may be acquired while `held` is held.
[[nodiscard]] bool order_allowed(uint16_t held, uint16_t taken);

// One held lock: which, its class, and the return address of its acquirer.
struct Held {
    const void* lock;
    uintptr_t where;
    uint16_t cls;
};

// Locks held, oldest first: a hart's spinlocks (in its HartLocal) or a
// thread's sleeping locks (in its Thread). Past CAP, entries are counted but
// not kept (dropped), and the report says so.
template <unsigned CAP> struct HeldStack {
    Held e[CAP];
    unsigned n;
    unsigned dropped;

    void push(const void* lock, uint16_t cls, uintptr_t where)
    {
        if (n < CAP)
            e[n++] = Held {lock, where, cls};
        else
            dropped++;
    }
    // Locks need not be released in order (the IPC fast path drops `ipc`
    // under the run-queue lock): remove the newest entry for `lock`. A lock
    // taken before checking was on is not there; that is not an error.
    void pop(const void* lock)
    {
        for (unsigned i = n; i-- > 0;) {
            if (e[i].lock == lock) {
                for (unsigned j = i; j + 1 < n; j++)
                    e[j] = e[j + 1];
                n--;
                return;
            }
        }
        if (dropped)
            dropped--;
    }
};

constexpr unsigned HART_HELD = 16;  // spinlocks held by one hart at once
constexpr unsigned THREAD_HELD = 4; // sleeping locks held by one thread at once
using HartHeld = HeldStack<HART_HELD>;
using ThreadHeld = HeldStack<THREAD_HELD>;

enum class Problem : uint8_t {
    None,
    Order,          // taken after a lock it must come before
    UnknownClass,   // the name is not in the table
    SleepUnderSpin, // a sleeping lock taken with a spinlock held
    InIrq,          // a class marked NO_IRQ (or any sleeping lock) in an interrupt handler
    SwitchHolding,  // a context switch with a spinlock held that is not handed over
};

const char* problem_name(Problem p);

struct Verdict {
    Problem problem = Problem::None;
    const Held* against = nullptr; // the held lock in conflict, if any
};

// The checks, on what the hart (spins) and the running thread (sleeps, null
// in an interrupt or before threads) hold.
[[nodiscard]] Verdict check_acquire(const HartHeld& spins, const ThreadHeld* sleeps, uint16_t cls, bool in_irq);
[[nodiscard]] Verdict check_switch(const HartHeld& spins);
// The interrupt rule alone (a try_lock, which is not order-checked).
[[nodiscard]] Verdict check_in_irq(uint16_t cls, bool in_irq);

// Distinct (held, taken) class pairs seen, each with the acquirers of its
// first sighting (to print the other chain of a later violation), and the
// classes seen at all. No allocation: a fixed table.
class Pairs {
public:
    // Returns true if the pair is new.
    bool record(uint16_t held, uint16_t taken, uintptr_t held_at, uintptr_t taken_at);
    void saw(uint16_t cls);
    [[nodiscard]] bool seen(uint16_t held, uint16_t taken) const;
    // The first sighting's acquirers (0, 0 if never seen).
    void first(uint16_t held, uint16_t taken, uintptr_t& held_at, uintptr_t& taken_at) const;
    [[nodiscard]] unsigned pairs() const { return pairs_.load(std::memory_order_relaxed); }
    [[nodiscard]] unsigned classes() const { return classes_.load(std::memory_order_relaxed); }

private:
    std::atomic<uint64_t> bits_[MAX_CLASSES * MAX_CLASSES / 64] {};
    std::atomic<uint64_t> class_bits_ {0};
    uintptr_t at_[MAX_CLASSES * MAX_CLASSES][2] {};
    std::atomic<unsigned> pairs_ {0};
    std::atomic<unsigned> classes_ {0};
};

} // namespace ksync::lockcheck
