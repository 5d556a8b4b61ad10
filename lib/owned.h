// Owned<Traits>: the one owner of a handle (a physical page, a reference on a
// task or an endpoint) that gives it back on every path out of a scope: its
// destructor calls Traits::free unless release() handed the handle on. An
// error path then is a plain return, with nothing to undo by hand.
//
// Move-only, one handle wide, no allocation. Traits gives the handle type,
// the value that means "none" (never freed) and how to give a handle back:
//
//     struct PageTraits {
//         using Handle = uint64_t;
//         static constexpr Handle null = 0;
//         static void free(Handle pa) { free_page(pa); }
//     };
#pragma once

#include <type_traits>

namespace lib {

template <typename Traits>
class [[nodiscard]] Owned {
public:
    using Handle = typename Traits::Handle;

    Owned() = default;
    explicit Owned(Handle h) : h_(h) {}
    Owned(Owned&& o) : h_(o.release()) {}
    Owned& operator=(Owned&& o)
    {
        if (this != &o)
            reset(o.release());
        return *this;
    }
    Owned(const Owned&) = delete;
    Owned& operator=(const Owned&) = delete;
    ~Owned() { reset(); }

    [[nodiscard]] Handle get() const { return h_; }
    explicit operator bool() const { return h_ != Traits::null; }
    Handle operator->() const
        requires std::is_pointer_v<Handle>
    {
        return h_;
    }

    // Hands the handle on (to a structure that now owns it); this owner is
    // left empty.
    [[nodiscard]] Handle release()
    {
        Handle h = h_;
        h_ = Traits::null;
        return h;
    }
    // Gives back the handle held, if any, and owns h instead.
    void reset(Handle h = Traits::null)
    {
        Handle old = h_;
        h_ = h;
        if (old != Traits::null)
            Traits::free(old);
    }

private:
    Handle h_ = Traits::null;
};

} // namespace lib
