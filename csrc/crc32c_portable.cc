// SPDX-License-Identifier: Apache-2.0
// Table-driven CRC32C (slicing-by-8) for CPUs without a CRC instruction.
#include <array>
#include <cstring>

#include "crc32c.h"

namespace xfast::internal {
namespace {

constexpr uint32_t kPoly = 0x82f63b78u;  // RFC 3720 Castagnoli polynomial, reflected

// The tables are computed at compile time instead of pasted as hex, so they cannot drift from
// the polynomial above. Table k maps a byte to its CRC contribution k bytes further on.
constexpr std::array<std::array<uint32_t, 256>, 8> make_tables() {
  std::array<std::array<uint32_t, 256>, 8> t{};
  for (uint32_t i = 0; i < 256; ++i) {
    uint32_t c = i;
    for (int b = 0; b < 8; ++b) c = (c & 1u) ? (c >> 1) ^ kPoly : c >> 1;
    t[0][i] = c;
  }
  for (uint32_t i = 0; i < 256; ++i) {
    for (std::size_t k = 1; k < 8; ++k) t[k][i] = (t[k - 1][i] >> 8) ^ t[0][t[k - 1][i] & 0xffu];
  }
  return t;
}

constexpr auto kTables = make_tables();

}  // namespace

uint32_t crc32c_extend_portable(uint32_t crc, const uint8_t* data, std::size_t n) {
  uint32_t l = crc ^ 0xffffffffu;
  while (n >= 8) {
    uint32_t lo;
    uint32_t hi;
    std::memcpy(&lo, data, 4);  // little-endian hosts only; the engine targets x86-64 and ARM64 LE
    std::memcpy(&hi, data + 4, 4);
    lo ^= l;
    l = kTables[7][lo & 0xffu] ^ kTables[6][(lo >> 8) & 0xffu] ^ kTables[5][(lo >> 16) & 0xffu] ^
        kTables[4][lo >> 24] ^ kTables[3][hi & 0xffu] ^ kTables[2][(hi >> 8) & 0xffu] ^
        kTables[1][(hi >> 16) & 0xffu] ^ kTables[0][hi >> 24];
    data += 8;
    n -= 8;
  }
  while (n-- > 0) l = kTables[0][(l ^ *data++) & 0xffu] ^ (l >> 8);
  return l ^ 0xffffffffu;
}

}  // namespace xfast::internal
