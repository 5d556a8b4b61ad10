// FunctionRef<R(Args...)>: a non-owning reference to something callable.
//
// It is two words (an object pointer and a trampoline that knows the object's
// type), trivially copyable, and allocates nothing, so a walk such as
// for_each_sleeper can take a lambda that captures the caller's locals instead
// of a function pointer plus a void* context and a struct to carry the state.
//
// It does not keep the callable alive: it is for callbacks that the callee uses
// only during the call. A callback that is stored and called later (an
// interrupt handler, a block request's completion, a thread's entry) must
// outlive the call that registered it, and stays a function pointer plus
// context.
#pragma once

#include <type_traits>
#include <utility>

namespace lib {

template <typename Signature>
class FunctionRef;

template <typename R, typename... Args>
class FunctionRef<R(Args...)> {
public:
    // From a callable object (usually a lambda at the call site). The object
    // must outlive every call through this reference.
    template <typename F>
        requires(!std::is_same_v<std::remove_cvref_t<F>, FunctionRef> && !std::is_function_v<std::remove_cvref_t<F>>
                 && std::is_invocable_r_v<R, F&, Args...>)
    FunctionRef(F&& f) // implicit by design, like a function pointer
        : call_([](Target t, Args... args) -> R {
            return (*static_cast<std::remove_reference_t<F>*>(t.obj))(std::forward<Args>(args)...);
        })
    {
        target_.obj = const_cast<void*>(static_cast<const void*>(__builtin_addressof(f)));
    }

    // From a plain function: no object to point at, the pointer is the target.
    FunctionRef(R (*fn)(Args...))
        : call_([](Target t, Args... args) -> R { return t.fn(std::forward<Args>(args)...); })
    {
        target_.fn = fn;
    }

    R operator()(Args... args) const { return call_(target_, std::forward<Args>(args)...); }

private:
    union Target {
        void* obj;
        R (*fn)(Args...);
    };
    Target target_;
    R (*call_)(Target, Args...);
};

} // namespace lib
