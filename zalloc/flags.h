// Allocation flags: what a caller allows the allocator to do on its behalf.
//
// The meanings are DragonFly's, so code and habits carry over:
//   M_RNOWAIT                never sleep; return null on failure
//   M_WAITOK                 may sleep until memory is found
//   M_ZERO                   return zeroed memory
//   M_USE_RESERVE            may eat into the page reserve (page class System)
//   M_USE_INTERRUPT_RESERVE  may exhaust the free pages entirely (class Interrupt),
//                            and may take a zone's reserve slabs: the paging path
//   M_NULLOK                 a null return is acceptable even with M_WAITOK
//   M_NOWAIT    = M_RNOWAIT | M_NULLOK | M_USE_RESERVE
//   M_INTNOWAIT = M_NOWAIT | M_USE_INTERRUPT_RESERVE
//   M_INTWAIT   = M_WAITOK | M_USE_RESERVE | M_USE_INTERRUPT_RESERVE
//
// Failure rule (every allocator in zalloc/ applies it the same way):
//   - with M_RNOWAIT or M_NULLOK a failed allocation returns nullptr;
//   - otherwise (M_WAITOK without M_NULLOK) the allocator has already tried a
//     blocking page allocation; the page source returns failure from a blocking
//     call only when it truly cannot wait (before the scheduler runs, or when the
//     caller holds interrupts off), and a zone limit cannot be waited out either,
//     so the allocator panics with a message naming the zone and the caller.
//     Such a caller never sees nullptr.
// The flags are a strongly typed set: an int cannot be passed by mistake.
#pragma once

#include <cstdint>

namespace zalloc {

enum class MFlag : uint32_t {
    RNoWait = 1u << 0,
    WaitOk = 1u << 1,
    Zero = 1u << 2,
    UseReserve = 1u << 3,
    NullOk = 1u << 4,
    UseInterruptReserve = 1u << 5,
};

class MFlags {
public:
    constexpr MFlags() = default;
    constexpr MFlags(MFlag f) : bits_(static_cast<uint32_t>(f)) {}

    [[nodiscard]] constexpr bool has(MFlag f) const { return bits_ & static_cast<uint32_t>(f); }
    [[nodiscard]] constexpr uint32_t bits() const { return bits_; }
    constexpr MFlags operator|(MFlags o) const { return from_bits(bits_ | o.bits_); }
    constexpr MFlags without(MFlag f) const { return from_bits(bits_ & ~static_cast<uint32_t>(f)); }
    constexpr bool operator==(const MFlags&) const = default;

    // Sleeping is allowed only when asked for and not forbidden.
    [[nodiscard]] constexpr bool may_block() const { return has(MFlag::WaitOk) && !has(MFlag::RNoWait); }
    // A null return is acceptable (see the failure rule above).
    [[nodiscard]] constexpr bool null_ok() const { return has(MFlag::NullOk) || has(MFlag::RNoWait); }
    // Only the paging path may take reserve slabs.
    [[nodiscard]] constexpr bool reserve_entitled() const { return has(MFlag::UseInterruptReserve); }

private:
    static constexpr MFlags from_bits(uint32_t b)
    {
        MFlags f;
        f.bits_ = b;
        return f;
    }
    uint32_t bits_ = 0;
};

constexpr MFlags operator|(MFlag a, MFlag b) { return MFlags(a) | MFlags(b); }

inline constexpr MFlags M_RNOWAIT {MFlag::RNoWait};
inline constexpr MFlags M_WAITOK {MFlag::WaitOk};
inline constexpr MFlags M_ZERO {MFlag::Zero};
inline constexpr MFlags M_USE_RESERVE {MFlag::UseReserve};
inline constexpr MFlags M_NULLOK {MFlag::NullOk};
inline constexpr MFlags M_USE_INTERRUPT_RESERVE {MFlag::UseInterruptReserve};
inline constexpr MFlags M_NOWAIT = M_RNOWAIT | M_NULLOK | M_USE_RESERVE;
inline constexpr MFlags M_INTNOWAIT = M_NOWAIT | M_USE_INTERRUPT_RESERVE;
inline constexpr MFlags M_INTWAIT = M_WAITOK | M_USE_RESERVE | M_USE_INTERRUPT_RESERVE;

} // namespace zalloc
