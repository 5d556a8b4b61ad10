#include "lib/crc32.h"

namespace lib {
namespace {

struct Table {
    uint32_t v[256];
    constexpr Table() : v()
    {
        for (uint32_t i = 0; i < 256; i++) {
            uint32_t c = i;
            for (int k = 0; k < 8; k++)
                c = (c & 1) ? 0xEDB88320u ^ (c >> 1) : c >> 1;
            v[i] = c;
        }
    }
};
constexpr Table TABLE;

} // namespace

uint32_t crc32(const void* data, size_t n, uint32_t crc)
{
    auto* p = static_cast<const uint8_t*>(data);
    crc = ~crc;
    for (size_t i = 0; i < n; i++)
        crc = TABLE.v[(crc ^ p[i]) & 0xff] ^ (crc >> 8);
    return ~crc;
}

} // namespace lib
