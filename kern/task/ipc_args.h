// IPC argument checks that need no hardware: the tag (handle, length,
// capacity), the buffer range and the timeout, each 0 or a negative
// user/abi.h error. kern/task/ipc.cc calls them before touching anything; the host
// test test/host/ipc_args_test.cc covers every rule.
#pragma once

#include "user/abi.h"
#include "vm/layout.h"

#include <cstdint>

namespace kern::ipc_args {

struct Tag {
    uint64_t handle, len, cap;
};

constexpr Tag decode(uint64_t tag) { return {tag & 0xffff, (tag >> 16) & 0xffff, (tag >> 32) & 0xffff}; }

// What a call may carry: send len bytes (send, call, reply) and take back up
// to cap bytes (receive, call) through the buffer at buf.
enum Use : unsigned { SendsBytes = 1, TakesBytes = 2 };

constexpr long check_tag(uint64_t tag, uint64_t buf, unsigned use)
{
    if (tag >> 48)
        return -EINVAL; // reserved bits: a garbage tag is refused, not half-read
    Tag t = decode(tag);
    uint64_t len = (use & SendsBytes) ? t.len : 0, cap = (use & TakesBytes) ? t.cap : 0;
    if (len > IPC_MSG_MAX || cap > IPC_MSG_MAX)
        return -EMSGSIZE;
    uint64_t span = len > cap ? len : cap;
    if (span && !vm::layout::is_user_range(buf, span))
        return -EFAULT;
    return 0;
}

constexpr long check_handle(uint64_t h) { return h < IPC_HANDLES ? 0 : -EBADF; }
constexpr long check_reply_cap(uint64_t c) { return c >= 1 && c <= IPC_REPLY_CAPS ? 0 : -EBADF; }

// reply_receive's tag: an IPC tag for the receive (bits 0..47: the endpoint
// handle, the reply's length, the room for what comes) and the reply cap in
// bits 48..55 (IPC_TAG_REPLY); bits 56..63 must be zero.
constexpr uint64_t ipc_tag_of(uint64_t tag) { return tag & ((1ull << 48) - 1); }
constexpr uint64_t reply_cap_of(uint64_t tag) { return (tag >> 48) & 0xff; }
constexpr long check_reply_receive_tag(uint64_t tag) { return tag >> 56 ? -EINVAL : 0; }

constexpr long check_timeout(uint64_t us) { return us == IPC_POLL || us <= IPC_TIMEOUT_MAX ? 0 : -EINVAL; }

} // namespace kern::ipc_args
