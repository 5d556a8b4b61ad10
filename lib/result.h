// Error codes and Result<T>: the error-or value returned by anything that can fail.
//
// No exceptions in the kernel, so failure travels in the return value and
// [[nodiscard]] makes ignoring it a compile error under -Werror.
#pragma once

#include <utility>

namespace lib {

enum class Error : int {
    None = 0,
    NoMemory,     // no page or object could be had under the caller's rules
    WouldBlock,   // would have to sleep and the caller said it may not
    Invalid,      // malformed argument or input
    Fault,        // bad user address
    NotFound,
    Busy,
    Exists,
    IO,           // the device reported an error
    NoSpace,      // a device or table is full
    TimedOut,
    Unsupported,
    Corrupt,      // checksum or structure check failed
};

const char* error_name(Error e);

template <typename T>
class [[nodiscard]] Result {
public:
    Result(T value) : value_(std::move(value)), error_(Error::None) {}
    Result(Error e) : value_(), error_(e) {}

    [[nodiscard]] bool ok() const { return error_ == Error::None; }
    [[nodiscard]] Error error() const { return error_; }
    T& value() { return value_; }
    const T& value() const { return value_; }
    T* operator->() { return &value_; }
    T& operator*() { return value_; }

private:
    T value_;
    Error error_;
};

// Status: a Result with no value.
class [[nodiscard]] Status {
public:
    Status() : error_(Error::None) {}
    Status(Error e) : error_(e) {}
    [[nodiscard]] bool ok() const { return error_ == Error::None; }
    [[nodiscard]] Error error() const { return error_; }

private:
    Error error_;
};

namespace detail {
// TRY's value: the Result's value (moved out when the Result was a temporary),
// nothing for a Status.
template <typename T>
T try_value(Result<T>& r) { return r.value(); }
template <typename T>
T try_value(Result<T>&& r) { return std::move(r.value()); }
inline void try_value(Status&) {}
inline void try_value(Status&&) {}
} // namespace detail

inline const char* error_name(Error e)
{
    switch (e) {
    case Error::None: return "none";
    case Error::NoMemory: return "out of memory";
    case Error::WouldBlock: return "would block";
    case Error::Invalid: return "invalid argument";
    case Error::Fault: return "bad address";
    case Error::NotFound: return "not found";
    case Error::Busy: return "busy";
    case Error::Exists: return "already exists";
    case Error::IO: return "I/O error";
    case Error::NoSpace: return "no space";
    case Error::TimedOut: return "timed out";
    case Error::Unsupported: return "unsupported";
    case Error::Corrupt: return "corrupt";
    }
    return "unknown error";
}

} // namespace lib

// TRY(expr): evaluates a Result<T> or Status; on failure returns its error from
// the enclosing function (which must return a Result or a Status), otherwise
// yields the value: `auto page = TRY(alloc_page());`, `TRY(map(...));`.
// A GCC statement expression, so it is an expression and can initialise.
#define TRY(expr)                                                                                                      \
    ({                                                                                                                 \
        auto&& try_result_ = (expr);                                                                                   \
        if (!try_result_.ok())                                                                                         \
            return try_result_.error();                                                                                \
        ::lib::detail::try_value(static_cast<decltype(try_result_)&&>(try_result_));                                   \
    })
