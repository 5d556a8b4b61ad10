// CRC-32 as GPT, zlib and Ethernet use it (IEEE 802.3: reflected, polynomial
// 0xEDB88320, initial value and final XOR 0xFFFFFFFF). Hardware-free.
#pragma once

#include <cstddef>
#include <cstdint>

namespace lib {

// The CRC of data[0..n). To checksum in pieces, pass the previous result as
// `crc` (0 to start): crc32(b, nb, crc32(a, na)) == crc32(a followed by b).
uint32_t crc32(const void* data, size_t n, uint32_t crc = 0);

} // namespace lib
