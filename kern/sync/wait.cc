#include "kern/sync/wait.h"

#include "kern/sync/lockcheck.h"
#include "kern/console/panic.h"
#include "kern/sched/sched.h"
#include "kern/arch/riscv/timer.h"
#include "kstack/kstack.h"

namespace ksync {

using kern::Thread;
namespace sched = kern::sched;
namespace timer = kern::timer;
namespace {

// Registry of every wait queue, for the stack-hold checker.
constinit ksync::SpinLock g_registry_lock {"waitqueue-registry"};
constinit lib::List<WaitQueue, &WaitQueue::registry_node> g_registry;

} // namespace

Waiter::Waiter(Thread* t, const void* chan, const char* why)
    : thread(t), channel(chan), reason(why), hold(t->stack_holds)
{
}

namespace {
// The hold count of the thread whose kernel stack contains addr, or nullptr.
// Only that thread may construct an object there: a sleeping thread cannot
// gain a hold while the pagedaemon claims its stack (kstack/hold.h).
kstack::HoldCount* stack_holder(const void* addr)
{
    kstack::Stack* s = kstack::from_address(reinterpret_cast<uintptr_t>(addr));
    Thread* t = s ? kstack::owner(s) : nullptr;
    if (!t)
        return nullptr;
    if (t != sched::current_thread())
        panic("wait queue at %p built on the stack of thread %lu (%s), not by it", addr, t->id, t->name);
    return &t->stack_holds;
}
} // namespace

WaitQueue::WaitQueue(const char* name) : lock_("waitqueue"), home_(stack_holder(this)), name_(name)
{
    if (home_)
        home_->acquire();
    ksync::SpinGuard g(g_registry_lock);
    g_registry.push_back(*this);
}

WaitQueue::~WaitQueue()
{
    if (!waiters_.empty())
        panic("wait queue %s destroyed with %zu waiters", name_, waiters_.size());
    {
        ksync::SpinGuard g(g_registry_lock);
        g_registry.remove(*this);
    }
    if (home_)
        home_->release();
}

// Lock order: the caller's `held` lock, then this queue's lock, then the
// run-queue lock (inside prepare_sleep and wake).
lib::Status WaitQueue::sleep(Waiter& w, ksync::SpinLock* held, uint64_t timeout_us)
{
    uint64_t deadline = timer::deadline_after_us(timeout_us);
    lock_.lock();
    waiters_.push_back(w);
    sched::prepare_sleep(w.channel ? w.channel : this, w.reason ? w.reason : name_, deadline);
    lock_.unlock();
    if (held)
        held->unlock();
    sched::block();
    lock_.lock();
    bool woken = w.woken;
    if (w.node.linked())
        waiters_.remove(w);
    lock_.unlock();
    if (held)
        held->lock();
    return woken ? lib::Status() : lib::Status(lib::Error::TimedOut);
}

lib::Status WaitQueue::wait(ksync::SpinLock* held, uint64_t timeout_us)
{
    Waiter w(sched::current_thread());
    return sleep(w, held, timeout_us);
}

lib::Status WaitQueue::wait_channel(const void* chan, ksync::SpinLock* held, uint64_t timeout_us,
                                    const char* reason)
{
    Waiter w(sched::current_thread(), chan, reason);
    return sleep(w, held, timeout_us);
}

Thread* WaitQueue::wake_first(lib::FunctionRef<void(Thread*)> before)
{
    ksync::SpinGuard g(lock_);
    Waiter* w = waiters_.pop_front();
    if (!w)
        return nullptr;
    Thread* t = w->thread;
    w->woken = true;
    before(t);
    // Wake under the queue lock: once we let go, the waiter's stack frame (and
    // the thread itself) may be gone.
    sched::wake(t);
    return t;
}

bool WaitQueue::wake_one()
{
    ksync::SpinGuard g(lock_);
    Waiter* w = waiters_.pop_front();
    if (!w)
        return false;
    w->woken = true;
    sched::wake(w->thread); // under the queue lock, as in wake_first()
    return true;
}

unsigned WaitQueue::wake_all()
{
    ksync::SpinGuard g(lock_);
    unsigned n = 0;
    while (Waiter* w = waiters_.pop_front()) {
        w->woken = true;
        sched::wake(w->thread);
        n++;
    }
    return n;
}

unsigned WaitQueue::wake_channel(const void* chan)
{
    ksync::SpinGuard g(lock_);
    unsigned n = 0;
    for (Waiter* w = waiters_.front(); w;) {
        Waiter* next = waiters_.next(*w);
        if (w->channel == chan) {
            waiters_.remove(*w);
            w->woken = true;
            sched::wake(w->thread);
            n++;
        }
        w = next;
    }
    return n;
}

bool WaitQueue::empty()
{
    ksync::SpinGuard g(lock_);
    return waiters_.empty();
}

void WaitQueue::for_each_waiter(lib::FunctionRef<void(const Waiter&)> fn)
{
    ksync::SpinGuard g(lock_);
    for (const Waiter& w : waiters_)
        fn(w);
}

void for_each_wait_queue(lib::FunctionRef<void(WaitQueue&)> fn)
{
    ksync::SpinGuard g(g_registry_lock);
    for (WaitQueue& q : g_registry)
        fn(q);
}

// ---- wait channels: a small hash of shared queues --------------------------------

namespace {
constexpr unsigned CHANNEL_BUCKETS = 64;

struct ChannelTable {
    WaitQueue q[CHANNEL_BUCKETS] = {
#define Q4 WaitQueue("chan"), WaitQueue("chan"), WaitQueue("chan"), WaitQueue("chan")
        Q4, Q4, Q4, Q4, Q4, Q4, Q4, Q4, Q4, Q4, Q4, Q4, Q4, Q4, Q4, Q4,
#undef Q4
    };
};
ChannelTable g_channels;

WaitQueue& bucket(const void* chan)
{
    auto a = reinterpret_cast<uintptr_t>(chan);
    return g_channels.q[((a >> 3) ^ (a >> 11)) % CHANNEL_BUCKETS];
}
} // namespace

lib::Status sleep_on(const void* chan, ksync::SpinLock* held, uint64_t timeout_us, const char* reason)
{
    return bucket(chan).wait_channel(chan, held, timeout_us, reason);
}

unsigned wakeup(const void* chan) { return bucket(chan).wake_channel(chan); }

// ---- mutex ------------------------------------------------------------------------

void Mutex::lock()
{
    Thread* me = sched::current_thread();
    if (lockcheck::enabled())
        lockcheck::sleep_acquire(this, q_.name(), class_, reinterpret_cast<uintptr_t>(__builtin_return_address(0)),
                                 false);
    guard_.lock();
    if (owner_ == me)
        panic("mutex: recursive lock by thread %lu (%s)", me->id, me->name);
    if (!owner_) {
        owner_ = me;
        guard_.unlock();
        return;
    }
    // unlock() hands ownership to us before waking us.
    while (owner_ != me)
        (void)q_.wait(&guard_);
    guard_.unlock();
}

bool Mutex::try_lock()
{
    ksync::SpinGuard g(guard_);
    if (owner_)
        return false;
    owner_ = sched::current_thread();
    if (lockcheck::enabled())
        lockcheck::sleep_acquire(this, q_.name(), class_, reinterpret_cast<uintptr_t>(__builtin_return_address(0)),
                                 true);
    return true;
}

void Mutex::unlock()
{
    Thread* me = sched::current_thread();
    ksync::SpinGuard g(guard_);
    if (owner_ != me)
        panic("mutex: unlocked by thread %lu, which does not own it", me ? me->id : 0);
    if (lockcheck::enabled())
        lockcheck::sleep_release(this);
    owner_ = nullptr;
    q_.wake_first([this](Thread* t) { owner_ = t; });
}

bool Mutex::held_by_me() const { return owner_ == sched::current_thread(); }

// ---- condition variable ----------------------------------------------------------

lib::Status CondVar::wait(Mutex& m, uint64_t timeout_us)
{
    // guard_ is held from before m is released until we are on the queue, and a
    // signaller takes guard_ too: a signal after our unlock cannot miss us.
    guard_.lock();
    m.unlock();
    lib::Status st = q_.wait(&guard_, timeout_us);
    guard_.unlock();
    m.lock();
    return st;
}

void CondVar::signal()
{
    ksync::SpinGuard g(guard_);
    q_.wake_one();
}

void CondVar::broadcast()
{
    ksync::SpinGuard g(guard_);
    q_.wake_all();
}

} // namespace ksync
