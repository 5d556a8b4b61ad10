// OwnedPage: a physical page from vm::kmem that goes back to it on every path
// out of the owner's scope unless release()d into the structure that keeps
// it (lib/owned.h). For set-up code that takes several pages and can fail
// part-way: each failure is a plain return.
#pragma once

#include "lib/owned.h"
#include "lib/result.h"
#include "vm/kmem.h"

#include <cstdint>

namespace vm::kmem {

struct PageTraits {
    using Handle = uint64_t;
    static constexpr Handle null = 0; // no page: RAM starts at layout::RAM_BASE
    static void free(Handle pa) { free_page(pa); }
};
using OwnedPage = lib::Owned<PageTraits>;

// alloc_page(), owned.
[[nodiscard]] inline lib::Result<OwnedPage> alloc_owned_page(Class c, bool may_block)
{
    return OwnedPage(TRY(alloc_page(c, may_block)));
}
[[nodiscard]] inline lib::Result<OwnedPage> alloc_owned_page(Class c, Wait w, uint64_t deadline_us = 0)
{
    return OwnedPage(TRY(alloc_page(c, w, deadline_us)));
}

} // namespace vm::kmem
