// Default Backend bodies: every request fails. See backend.h for why they are
// not pure virtual.
#include "zalloc/backend.h"

namespace zalloc {

void* Backend::alloc_pages(size_t, size_t, PageClass, bool) { return nullptr; }
void Backend::free_pages(void*, size_t) {}
void* Backend::reserve_va(size_t) { return nullptr; }
void Backend::release_va(void*, size_t) {}
bool Backend::map_page(void*, PageClass, bool) { return false; }
void Backend::request_replenish() {}

} // namespace zalloc
