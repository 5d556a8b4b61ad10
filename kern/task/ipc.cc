// Synchronous endpoints: the rendezvous, reply caps and the blocking protocol
// (kern/task/ipc.h says why messages live in Records and not on kernel stacks).
#include "kern/task/ipc.h"
#include "kern/task/ipc_internal.h"

#include "kern/seam/cpu.h"
#include "kern/task/ipc_args.h"
#include "kern/sched/sched.h"
#include "kern/sync/spinlock.h"
#include "kern/task/task.h"
#include "kern/sched/thread.h"
#include "kern/arch/riscv/timer.h"
#include "kern/arch/riscv/trap.h"
#include "lib/string.h"
#include "vm/layout.h"
#include "vm/usercopy.h"
#include "zalloc/kmalloc.h"
#include "zalloc/malloc_type.h"

#include <atomic>
#include <new>

ZALLOC_MALLOC_DEFINE(M_IPC, "ipc", 0);

namespace kern::ipc {

static_assert(sizeof(Endpoint) <= account::ENDPOINT_PAGES * PAGE_SIZE, "what a handle is charged");

ksync::SpinLock detail::g_lock {"ipc"};
std::atomic<uint64_t> detail::g_fast_calls {0}, detail::g_fast_replies {0}, detail::g_fast_fallbacks {0};
std::atomic<uint64_t> detail::g_direct_calls {0}, detail::g_direct_replies {0}, detail::g_remote {0};
std::atomic<CopyOutHook> detail::g_copy_out_hook {nullptr}; // set_copy_out_test_hook
std::atomic<bool> detail::g_direct_off {false};

namespace {

using State = Record::State;
using namespace ipc_args;
using namespace detail;

std::atomic<uint64_t> g_endpoints {0}, g_records {0};

// A wake to do once g_lock is released (wake() takes run-queue locks, and a
// woken thread should not spin on ours).
struct Wake {
    Thread* th = nullptr;
    uint64_t seq = 0;
    void now()
    {
        if (th)
            (void)sched::wake(th, seq);
    }
};

// Finish r with result: it returns from its IPC call once it runs.
Wake finish_locked(Record* r, long result)
{
    r->state = State::Done;
    r->result = result;
    r->ep = nullptr;
    return {r->thread, r->seq};
}

// Thread th's record, made on its first IPC call (th keeps a pointer to it:
// no search of the task's list).
Record* record_of(Task* t, Thread* th)
{
    if (th->ipc_record)
        return th->ipc_record;
    void* mem = zalloc::kmalloc(sizeof(Record), M_IPC, zalloc::M_WAITOK | zalloc::M_NULLOK);
    if (!mem)
        return nullptr;
    auto* r = new (mem) Record();
    r->thread = th;
    r->task = t;
    g_records.fetch_add(1, std::memory_order_relaxed);
    {
        ksync::SpinGuard g(g_lock);
        t->ipc.records.push_front(*r);
    }
    th->ipc_record = r;
    return r;
}

void free_endpoint(Endpoint* ep)
{
    ep->~Endpoint();
    zalloc::kfree(ep, M_IPC);
    g_endpoints.fetch_sub(1, std::memory_order_relaxed);
}

// Wake every thread queued on ep with EIDRM, one at a time (the lock is
// dropped for each wake; ep->dead keeps newcomers out meanwhile).
void kill_endpoint_locked(Endpoint* ep)
{
    ep->dead = true;
    for (;;) {
        Record* r = ep->senders.pop_front();
        if (!r)
            r = ep->receivers.pop_front();
        if (!r)
            return;
        Wake w = finish_locked(r, -EIDRM);
        g_lock.unlock();
        w.now();
        g_lock.lock();
    }
}

// Drop one reference with the lock held; the endpoint goes with the last.
// (With no handle left nobody can be queued: a queued thread's task holds one.)
void put_locked(Endpoint* ep)
{
    if (--ep->refs)
        return;
    kill_endpoint_locked(ep);
    if (ep->refs == 0)
        free_endpoint(ep);
}

long lookup_locked(Task* t, uint64_t h, Endpoint*& ep)
{
    if (long e = check_handle(h))
        return e;
    ep = t->ipc.handles[h];
    if (!ep)
        return -EBADF;
    return ep->dead ? -EIDRM : 0;
}

int free_reply_slot_locked(Task* t)
{
    for (unsigned i = 0; i < IPC_REPLY_CAPS; i++)
        if (!t->ipc.replies[i])
            return int(i);
    return -1;
}

// Move the message of `from` into `to` (records, kernel memory).
void move_message(Record* to, const Record* from)
{
    for (unsigned i = 0; i < IPC_WORDS; i++)
        to->w[i] = from->w[i];
    to->len = from->len;
    if (from->len)
        memcpy(to->buf, from->buf, from->len);
}

// Give up r's operation with err: off the endpoint, or leave the server's
// reply cap stale. Under g_lock.
void give_up_locked(Record* r, long err)
{
    if (r->ep_node.linked()) {
        if (r->state == State::Receiving)
            r->ep->receivers.remove(*r);
        else
            r->ep->senders.remove(*r);
    }
    if (r->state == State::AwaitReply && r->reply_holder) {
        r->reply_holder->ipc.replies[r->reply_slot] = STALE;
        r->reply_holder = nullptr;
    }
    (void)finish_locked(r, err);
}

// Sleep until r is Done, the deadline passes or the task ends. Called with
// g_lock held and r queued or awaiting a reply; returns with it held and r
// Done (timeouts and kills unlink it here).
void wait_locked(Record* r, uint64_t deadline, const char* why)
{
    for (;;) {
        if (r->state == State::Done)
            return;
        // Checked under the lock before each sleep: a kill sets `exiting`
        // before wake_task() takes the lock, so either this sees it or that
        // finds the thread asleep.
        long err = 0;
        if (r->task->exiting.load(std::memory_order_acquire))
            err = -EINTR;
        else if (deadline && timer::now_ticks() >= deadline)
            err = -ETIMEDOUT;
        if (err) {
            give_up_locked(r, err);
            return;
        }
        // prepare_sleep under the ipc lock: a waker, which must take it to
        // find r, sees Sleeping and this sleep's seq (lock order ipc ->
        // runqueue -> timeouts). No stack hold: r is not on the stack.
        r->seq = sched::prepare_sleep(r, why, deadline);
        g_lock.unlock();
        sched::block();
        g_lock.lock();
    }
}

// The fast path may hand the hart over for a sleep with no timeout, a
// message of register words only, and a task not being killed (checked under
// g_lock, as wait_locked() does before each sleep, so a kill is never missed).
bool fast_ok(const Record* r, uint64_t len, uint64_t deadline)
{
    return len == 0 && deadline == 0 && !r->task->exiting.load(std::memory_order_acquire);
}

// The fast path: r, just queued or awaiting its reply, goes to sleep and
// hands this hart to `to`, the partner it has just finished, which runs at
// once without a wake() or a run-queue trip (sched::sleep_handing_off).
// Called with g_lock held and interrupts off since before it was taken (the
// caller's IrqGuard: releasing g_lock inside must leave them off, with a
// run-queue lock held); returns with g_lock held. When the hand-off cannot
// be, `to` is woken the usual way under the lock, and wait_locked() puts r to
// sleep as ever.
void sleep_handing_to(Record* r, const char* why, Wake to, std::atomic<uint64_t>& hits)
{
    if (sched::sleep_handing_off(r, why, to.th, to.seq, r->seq, g_lock)) {
        hits.fetch_add(1, std::memory_order_relaxed);
        g_lock.lock();
    } else {
        g_fast_fallbacks.fetch_add(1, std::memory_order_relaxed);
        to.now();
    }
}

uint64_t deadline_of(uint64_t us)
{
    if (!us || us == IPC_POLL)
        return 0;
    return timer::now_ticks() + us * timer::timebase_hz() / 1000000 + 1;
}

// Hand the received message in r to the user: words in a1..a4, length in a5,
// bytes (up to cap) into buf.
long deliver_to_user(TrapFrame& tf, Record* r, uint64_t buf, uint64_t cap)
{
    for (unsigned i = 0; i < IPC_WORDS; i++)
        tf.x[10 + i] = r->w[i];
    tf.x[14] = r->len;
    uint64_t n = r->len < cap ? r->len : cap;
    if (n) {
        lib::Status st = vm::copy_to_user(buf, r->buf, n);
        if (!st.ok())
            return -EFAULT;
    }
    return 0;
}

// The message the user passes in: words a1..a4 and len bytes from buf, into
// r (outside the lock: the copy may take faults).
long take_from_user(const TrapFrame& tf, Record* r, uint64_t buf, uint64_t len)
{
    for (unsigned i = 0; i < IPC_WORDS; i++)
        r->w[i] = tf.x[10 + i];
    r->len = len;
    if (len && !vm::copy_from_user(r->buf, buf, len).ok())
        return -EFAULT;
    return 0;
}

} // namespace

long sys_create(Task* t)
{
    if (!account::charge(t, account::ENDPOINT_PAGES).ok())
        return -ENOMEM;
    void* mem = zalloc::kmalloc(sizeof(Endpoint), M_IPC, zalloc::M_WAITOK | zalloc::M_NULLOK);
    if (!mem) {
        account::uncharge(t, account::ENDPOINT_PAGES);
        return -ENOMEM;
    }
    auto* ep = new (mem) Endpoint();
    g_endpoints.fetch_add(1, std::memory_order_relaxed);
    ksync::SpinGuard g(g_lock);
    for (unsigned h = 0; h < IPC_HANDLES; h++) {
        if (!t->ipc.handles[h]) {
            t->ipc.handles[h] = ep;
            return long(h);
        }
    }
    put_locked(ep);
    account::uncharge(t, account::ENDPOINT_PAGES);
    return -EAGAIN;
}

long sys_destroy(Task* t, uint64_t h)
{
    if (long e = check_handle(h))
        return e;
    ksync::SpinGuard g(g_lock);
    Endpoint* ep = t->ipc.handles[h];
    if (!ep)
        return -EBADF;
    t->ipc.handles[h] = nullptr;
    kill_endpoint_locked(ep); // other tasks' handles stay, dead
    put_locked(ep);
    account::uncharge(t, account::ENDPOINT_PAGES);
    return 0;
}

// The common start of send, call, receive and reply_receive: the arguments
// checked and decoded, and the calling thread's IPC record found.
struct Start {
    Thread* me;
    Task* t;
    uint64_t buf, timeout;
    Tag tg;
    Record* r;
};

static long start(TrapFrame& tf, uint64_t tag, unsigned dirs, Start& st)
{
    st.me = thread::current();
    st.t = st.me->task;
    st.buf = tf.x[14];
    st.timeout = tf.x[15];
    if (long e = check_tag(tag, st.buf, dirs))
        return e;
    if (long e = check_timeout(st.timeout))
        return e;
    st.tg = decode(tag);
    if (long e = check_handle(st.tg.handle))
        return e;
    st.r = record_of(st.t, st.me);
    return st.r ? 0 : -ENOMEM;
}

// Send and call from the lock on: meet a receiver, or queue and wait for
// one; a call then waits for its reply. Returns r's result.
// Take the ipc lock (interrupts already off: the fast path may release it
// under a run-queue lock) and find the caller's endpoint; on an error the
// lock is released again.
static long lock_endpoint(const Start& st, Endpoint*& ep)
{
    g_lock.lock();
    long e = lookup_locked(st.t, st.tg.handle, ep);
    if (e)
        g_lock.unlock();
    return e;
}

static long send_rendezvous(const Start& st, bool call)
{
    Record* r = st.r;
    uint64_t deadline = deadline_of(st.timeout);
    cpu::IrqGuard irqs; // for sleep_handing_to
    Endpoint* ep;
    if (long e = lock_endpoint(st, ep))
        return e;
    Record* rx = ep->receivers.front();
    if (rx) {
        int slot = call ? free_reply_slot_locked(rx->task) : 0;
        if (slot < 0) {
            g_lock.unlock();
            return -EAGAIN; // the server holds IPC_REPLY_CAPS unanswered calls
        }
        ep->receivers.remove(*rx);
        move_message(rx, r);
        Wake w = finish_locked(rx, call ? slot + 1 : 0);
        if (!call) {
            g_lock.unlock();
            w.now();
            return 0;
        }
        rx->task->ipc.replies[slot] = r;
        rx->received_fill = ++rx->task->ipc.reply_fills[slot];
        r->state = State::AwaitReply;
        r->reply_holder = rx->task;
        r->reply_slot = unsigned(slot);
        // A polled call does not wait to be received; once it was, it waits
        // for the reply at most IPC_TIMEOUT_MAX (then ETIMEDOUT), never forever.
        if (st.timeout == IPC_POLL)
            deadline = deadline_of(IPC_TIMEOUT_MAX);
        if (fast_ok(r, st.tg.len, deadline)) {
            sleep_handing_to(r, "ipc-call", w, g_fast_calls);
        } else {
            // Wake the server with the lock held: it cannot reply before
            // this thread sleeps (the reply needs the lock). Waking after
            // unlocking would leave a window where a preemption parks this
            // thread, already marked Sleeping, before the server was ever
            // woken: both asleep. Lock order ipc -> runqueue (-> the swap-in
            // pool and disk, which a wake may start; they never take the ipc
            // lock).
            w.now();
        }
        wait_locked(r, deadline, "ipc-call");
    } else {
        if (st.timeout == IPC_POLL) {
            g_lock.unlock();
            return -EAGAIN;
        }
        r->state = call ? State::Calling : State::Sending;
        r->ep = ep;
        ep->senders.push_back(*r);
        wait_locked(r, deadline, call ? "ipc-call" : "ipc-send");
    }
    long res = r->result;
    r->state = State::Idle;
    g_lock.unlock();
    return res;
}

long sys_send(TrapFrame& tf, bool call)
{
    Start st;
    if (long e = start(tf, tf.x[9], call ? SendsBytes | TakesBytes : SendsBytes, st))
        return e;
    if (long e = take_from_user(tf, st.r, st.buf, st.tg.len))
        return e;
    long res = send_rendezvous(st, call);
    if (res < 0 || !call)
        return res;
    return deliver_to_user(tf, st.r, st.buf, st.tg.cap);
}

// The receive half of receive and reply_receive, with g_lock held (and
// interrupts off) and ep looked up: take a queued sender's message into r, or
// queue r and sleep until one comes. `answered`, if set, is the caller that
// reply_receive has just answered: woken once this thread is queued, or
// handed the hart directly when `fast`. Returns with the lock released: a
// reply cap for a call, 0 for a send, or -error.
static long receive_locked(const Start& st, Endpoint* ep, uint64_t deadline, Wake answered, bool fast)
{
    Task* t = st.t;
    Record* r = st.r;
    Record* tx = ep->senders.front();
    if (tx) {
        bool call = tx->state == State::Calling;
        int slot = call ? free_reply_slot_locked(t) : 0;
        if (slot < 0) {
            g_lock.unlock();
            answered.now();
            return -EAGAIN;
        }
        ep->senders.remove(*tx);
        move_message(r, tx);
        Wake w;
        if (call) {
            // The caller sleeps on, now waiting for the reply.
            t->ipc.replies[slot] = tx;
            r->received_fill = ++t->ipc.reply_fills[slot];
            tx->state = State::AwaitReply;
            tx->ep = nullptr;
            tx->reply_holder = t;
            tx->reply_slot = unsigned(slot);
        } else {
            w = finish_locked(tx, 0);
        }
        g_lock.unlock();
        answered.now();
        w.now();
        return call ? slot + 1 : 0;
    }
    if (st.timeout == IPC_POLL) {
        g_lock.unlock();
        answered.now();
        return -EAGAIN;
    }
    r->state = State::Receiving;
    r->ep = ep;
    ep->receivers.push_back(*r);
    if (answered.th) {
        if (fast && fast_ok(r, 0, deadline))
            sleep_handing_to(r, "ipc-recv", answered, g_fast_replies);
        else
            answered.now(); // under the lock, as a call wakes its server
    }
    wait_locked(r, deadline, "ipc-recv");
    long res = r->result;
    r->state = State::Idle;
    g_lock.unlock();
    return res;
}

// Hand what receive_locked() took to the user. A call whose message cannot
// be delivered is answered with EPIPE rather than left waiting for a reply
// that cannot come.
static long deliver_received(TrapFrame& tf, const Start& st, long res)
{
    if (res < 0)
        return res;
    if (CopyOutHook hook = g_copy_out_hook.load(std::memory_order_acquire); hook && res > 0)
        hook(st.t, unsigned(res - 1));
    long e = deliver_to_user(tf, st.r, st.buf, st.tg.cap);
    if (e && res > 0) {
        g_lock.lock();
        // The cap is freed (its caller failed) only if it still holds the
        // call this thread received: another thread of the server may have
        // replied to it meanwhile and a new call taken the slot.
        Wake w;
        unsigned slot = unsigned(res - 1);
        if (st.t->ipc.reply_fills[slot] == st.r->received_fill) {
            Record* c = st.t->ipc.replies[slot];
            st.t->ipc.replies[slot] = nullptr;
            if (c && c != STALE) {
                c->reply_holder = nullptr;
                w = finish_locked(c, -EPIPE);
            }
        }
        g_lock.unlock();
        w.now();
    }
    return e ? e : res;
}

long sys_receive(TrapFrame& tf)
{
    Start st;
    if (long e = start(tf, tf.x[9], TakesBytes, st))
        return e;
    uint64_t deadline = deadline_of(st.timeout);
    long res;
    {
        cpu::IrqGuard irqs; // receive_locked's sleep, as in send_rendezvous
        Endpoint* ep;
        if (long e = lock_endpoint(st, ep))
            return e;
        res = receive_locked(st, ep, deadline, Wake {}, false);
    }
    return deliver_received(tf, st, res);
}

// Use up reply cap `slot` of t and move r's message to the caller behind it,
// with g_lock held: 0 and the caller to wake, or EBADF (no such cap) or EPIPE
// (the caller gave up: timeout, exit).
static long answer_locked(Task* t, unsigned slot, Record* r, Wake& w)
{
    Record* c = t->ipc.replies[slot];
    t->ipc.replies[slot] = nullptr;
    if (!c || c == STALE)
        return c ? -EPIPE : -EBADF;
    move_message(c, r);
    c->reply_holder = nullptr;
    w = finish_locked(c, 0);
    return 0;
}

long sys_reply(TrapFrame& tf)
{
    Thread* me = thread::current();
    Task* t = me->task;
    uint64_t tag = tf.x[9], buf = tf.x[14];
    if (long e = check_tag(tag, buf, SendsBytes))
        return e;
    Tag tg = decode(tag);
    if (long e = check_reply_cap(tg.handle))
        return e;
    unsigned slot = unsigned(tg.handle - 1);
    if (!me->ipc_record) {
        // No record yet: EBADF for a cap it cannot hold comes before the
        // allocation could fail with ENOMEM.
        ksync::SpinGuard g(g_lock);
        if (!t->ipc.replies[slot])
            return -EBADF;
    }
    Record* r = record_of(t, me);
    if (!r)
        return -ENOMEM;
    if (long e = take_from_user(tf, r, buf, tg.len))
        return e;
    Wake w;
    g_lock.lock();
    long e = answer_locked(t, slot, r, w);
    g_lock.unlock();
    w.now();
    return e;
}

long sys_reply_receive(TrapFrame& tf)
{
    uint64_t tag = tf.x[9];
    if (long e = check_reply_receive_tag(tag))
        return e;
    Start st;
    if (long e = start(tf, ipc_tag_of(tag), SendsBytes | TakesBytes, st))
        return e;
    if (long e = check_reply_cap(reply_cap_of(tag)))
        return e;
    unsigned slot = unsigned(reply_cap_of(tag) - 1);
    if (long e = take_from_user(tf, st.r, st.buf, st.tg.len))
        return e;
    uint64_t deadline = deadline_of(st.timeout);
    long res;
    {
        cpu::IrqGuard irqs; // receive_locked's sleep, as in send_rendezvous
        // The endpoint first: a bad handle leaves the reply cap unused.
        Endpoint* ep;
        if (long e = lock_endpoint(st, ep))
            return e;
        Wake answered;
        if (long e = answer_locked(st.t, slot, st.r, answered)) {
            g_lock.unlock();
            return e; // as reply would say; nothing received
        }
        res = receive_locked(st, ep, deadline, answered, st.tg.len == 0);
    }
    return deliver_received(tf, st, res);
}

Endpoint* take_ref(Task* parent, uint64_t h)
{
    ksync::SpinGuard g(g_lock);
    Endpoint* ep;
    if (lookup_locked(parent, h, ep))
        return nullptr;
    ep->refs++;
    return ep;
}

lib::Status give(Task* child, Endpoint* ep)
{
    // A handle costs its holder an endpoint (kern/task/task_account.h).
    TRY(account::charge(child, account::ENDPOINT_PAGES));
    ksync::SpinGuard g(g_lock);
    child->ipc.handles[0] = ep;
    return {};
}

void drop(Endpoint* ep)
{
    ksync::SpinGuard g(g_lock);
    put_locked(ep);
}

void wake_task(Task* t)
{
    // Every blocked thread of t, however many, woken under the lock (as a
    // call wakes its server): each returns -EINTR once it runs, since the
    // caller set `exiting` before this took the lock (wait_locked()).
    ksync::SpinGuard g(g_lock);
    for (Record& r : t->ipc.records)
        if (r.state != State::Idle && r.state != State::Done)
            Wake {r.thread, r.seq}.now();
}

void thread_exit(Task* t, Thread* th)
{
    Record* r = th->ipc_record;
    if (!r)
        return;
    th->ipc_record = nullptr;
    {
        ksync::SpinGuard g(g_lock);
        // Still in a call only if the thread never came back from its
        // sleep (its kernel stack was lost while it slept there).
        if (r->state != State::Idle && r->state != State::Done)
            give_up_locked(r, -EINTR);
        t->ipc.records.remove(*r);
    }
    r->~Record();
    zalloc::kfree(r, M_IPC);
    g_records.fetch_sub(1, std::memory_order_relaxed);
}

void task_exit(Task* t)
{
    g_lock.lock();
    for (unsigned i = 0; i < IPC_REPLY_CAPS; i++) {
        Record* c = t->ipc.replies[i];
        t->ipc.replies[i] = nullptr;
        if (!c || c == STALE)
            continue;
        c->reply_holder = nullptr;
        Wake w = finish_locked(c, -EPIPE); // the server left mid-call
        g_lock.unlock();
        w.now();
        g_lock.lock();
    }
    for (unsigned h = 0; h < IPC_HANDLES; h++) {
        Endpoint* ep = t->ipc.handles[h];
        t->ipc.handles[h] = nullptr;
        if (ep) {
            put_locked(ep);
            account::uncharge(t, account::ENDPOINT_PAGES);
        }
    }
    g_lock.unlock();
}

bool answered(const Thread* me)
{
    // Set by the direct path of a partner on another hart, under the ipc
    // lock, before the wake that ran this thread: nothing left to do.
    const Record* r = me->ipc_record;
    return !r->frame && r->state == State::Idle;
}

long resume(TrapFrame& tf)
{
    Record* r = thread::current()->ipc_record;
    bool call = tf.x[16] == SYS_IPC_CALL; // a7: the only other is reply_receive
    long res;
    {
        cpu::IrqGuard irqs; // wait_locked's sleep, as in send_rendezvous
        g_lock.lock();
        r->frame = nullptr; // a general sleep from here on, if it sleeps again
        wait_locked(r, 0, call ? "ipc-call" : "ipc-recv");
        res = r->result;
        r->state = State::Idle;
        g_lock.unlock();
    }
    // The fast path took only register words (len and cap 0): nothing to
    // copy but what deliver_to_user puts in the frame.
    if (call)
        return res < 0 ? res : deliver_to_user(tf, r, 0, 0);
    Start st {thread::current(), thread::current()->task, 0, 0, {}, r};
    return deliver_received(tf, st, res);
}

FastPathStats fast_path_stats()
{
    // The direct ones first: calls and replies, read after, are never fewer.
    uint64_t dc = g_direct_calls.load(std::memory_order_relaxed), dr = g_direct_replies.load(std::memory_order_relaxed);
    return {g_fast_calls.load(std::memory_order_relaxed) + dc, g_fast_replies.load(std::memory_order_relaxed) + dr,
            g_fast_fallbacks.load(std::memory_order_relaxed), dc, dr, g_remote.load(std::memory_order_relaxed)};
}

void set_fast_path(bool on) { g_direct_off.store(!on, std::memory_order_relaxed); }

void set_copy_out_test_hook(CopyOutHook fn) { g_copy_out_hook.store(fn, std::memory_order_release); }

uint64_t endpoints() { return g_endpoints.load(); }
uint64_t records() { return g_records.load(); }

} // namespace kern::ipc
