// SPDX-License-Identifier: Apache-2.0
// CRC32C with the SSE4.2 CRC32 instruction. The only file compiled with -msse4.2; it is called
// only after cpu_has_sse42() said yes.
#include <nmmintrin.h>

#include <cstring>

#include "crc32c.h"

namespace xfast::internal {

uint32_t crc32c_extend_sse42(uint32_t crc, const uint8_t* data, std::size_t n) {
  uint64_t l = crc ^ 0xffffffffu;
  // Records are small (tens of bytes to a few KB), so one 8-byte lane is enough: the instruction
  // runs at ~8 bytes/cycle throughput-bound here, far above what the writer thread needs.
  while (n >= 8) {
    uint64_t v;
    std::memcpy(&v, data, 8);
    l = _mm_crc32_u64(l, v);
    data += 8;
    n -= 8;
  }
  auto l32 = static_cast<uint32_t>(l);
  while (n-- > 0) l32 = _mm_crc32_u8(l32, *data++);
  return l32 ^ 0xffffffffu;
}

}  // namespace xfast::internal
