// kern/task/ipc_args.h: every IPC argument rule, at and around its limits.
#include "kern/task/ipc_args.h"

#include <doctest/doctest.h>

using namespace kern::ipc_args;
using vm::layout::USER_BASE;
using vm::layout::USER_END;

TEST_CASE("ipc: tags decode and are checked")
{
    uint64_t tag = IPC_TAG(3, 100, 200);
    CHECK(decode(tag).handle == 3);
    CHECK(decode(tag).len == 100);
    CHECK(decode(tag).cap == 200);
    CHECK(check_tag(IPC_TAG(0, 0, 0), 0, SendsBytes | TakesBytes) == 0); // registers only: no buffer needed
    CHECK(check_tag(IPC_TAG(0, IPC_MSG_MAX, 0), USER_BASE, SendsBytes) == 0);
    CHECK(check_tag(IPC_TAG(0, IPC_MSG_MAX + 1, 0), USER_BASE, SendsBytes) == -EMSGSIZE);
    CHECK(check_tag(IPC_TAG(0, 0, IPC_MSG_MAX + 1), USER_BASE, TakesBytes) == -EMSGSIZE);
    CHECK(check_tag(IPC_TAG(0, 0, IPC_MSG_MAX + 1), USER_BASE, SendsBytes) == 0); // a send ignores cap
    CHECK(check_tag(1ull << 48, USER_BASE, SendsBytes) == -EINVAL);
    CHECK(check_tag(IPC_TAG(0, 16, 0), 0x80200000, SendsBytes) == -EFAULT);
    CHECK(check_tag(IPC_TAG(0, 16, 0), USER_END - 8, SendsBytes) == -EFAULT);
    CHECK(check_tag(IPC_TAG(0, 0, 16), USER_END - 16, TakesBytes) == 0);
    CHECK(check_tag(IPC_TAG(0, 8, 64), USER_END - 32, SendsBytes | TakesBytes) == -EFAULT); // the larger counts
}

TEST_CASE("ipc: handles, reply caps, timeouts")
{
    CHECK(check_handle(0) == 0);
    CHECK(check_handle(IPC_HANDLES - 1) == 0);
    CHECK(check_handle(IPC_HANDLES) == -EBADF);
    CHECK(check_handle(~0ull) == -EBADF);
    CHECK(check_reply_cap(0) == -EBADF);
    CHECK(check_reply_cap(1) == 0);
    CHECK(check_reply_cap(IPC_REPLY_CAPS) == 0);
    CHECK(check_reply_cap(IPC_REPLY_CAPS + 1) == -EBADF);
    CHECK(check_timeout(0) == 0);
    CHECK(check_timeout(IPC_TIMEOUT_MAX) == 0);
    CHECK(check_timeout(IPC_TIMEOUT_MAX + 1) == -EINVAL);
    CHECK(check_timeout(IPC_POLL) == 0);
}

TEST_CASE("ipc: reply_receive tags carry the reply cap in bits 48..55")
{
    uint64_t tag = IPC_TAG(3, 0, 64) | IPC_TAG_REPLY(IPC_REPLY_CAPS);
    CHECK(check_reply_receive_tag(tag) == 0);
    CHECK(reply_cap_of(tag) == IPC_REPLY_CAPS);
    CHECK(ipc_tag_of(tag) == IPC_TAG(3, 0, 64));
    CHECK(check_tag(ipc_tag_of(tag), USER_BASE, SendsBytes | TakesBytes) == 0);
    CHECK(check_tag(tag, USER_BASE, SendsBytes | TakesBytes) == -EINVAL); // elsewhere those bits are reserved
    CHECK(reply_cap_of(IPC_TAG(1, 2, 3)) == 0);                             // no cap: reply's EBADF
    CHECK(check_reply_cap(reply_cap_of(IPC_TAG_REPLY(255))) == -EBADF);
    CHECK(check_reply_receive_tag(IPC_TAG_REPLY(255)) == 0);
    CHECK(check_reply_receive_tag(IPC_TAG_REPLY(256)) == -EINVAL);
    CHECK(check_reply_receive_tag(1ull << 63) == -EINVAL);
    CHECK(check_reply_receive_tag(~0ull) == -EINVAL);
}
