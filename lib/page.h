// The page size: Sv39's base page. The one definition every part of the
// kernel, the libraries and the host tests use.
#pragma once

#include <cstddef>

constexpr size_t PAGE_SHIFT = 12;
constexpr size_t PAGE_SIZE = size_t(1) << PAGE_SHIFT;
