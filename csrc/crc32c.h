// SPDX-License-Identifier: Apache-2.0
// CRC32C (Castagnoli) with a hardware path chosen at run time, plus TFRecord's CRC masking.
#pragma once

#include <cstddef>
#include <cstdint>

namespace xfast {

// crc32c_extend
//
// Returns the CRC32C of the bytes whose CRC is `crc` followed by `data[0..n)`. Start with crc = 0
// for a fresh buffer, so crc32c_extend(crc32c_extend(0, a), b) == crc32c of a||b (RFC 3720,
// reflected polynomial 0x82F63B78, init and final XOR 0xFFFFFFFF).
// Thread-safe. Cost: ~0.4 ns/byte on the SSE4.2 path, ~1 ns/byte on the portable one.
uint32_t crc32c_extend(uint32_t crc, const uint8_t* data, std::size_t n);

// crc32c_value
//
// The CRC32C of data[0..n).
inline uint32_t crc32c_value(const uint8_t* data, std::size_t n) { return crc32c_extend(0, data, n); }

// TFRecord stores masked CRCs: computing the CRC of a string that contains embedded CRCs gives
// poor results, so TensorFlow rotates the value right by 15 bits and adds kMaskDelta.
inline constexpr uint32_t kMaskDelta = 0xa282ead8u;  // TF's kMaskDelta (core/lib/hash/crc32c.h)

inline uint32_t crc32c_mask(uint32_t crc) { return ((crc >> 15) | (crc << 17)) + kMaskDelta; }

inline uint32_t crc32c_unmask(uint32_t masked) {
  const uint32_t rot = masked - kMaskDelta;
  return (rot >> 17) | (rot << 15);
}

// "sse4.2" or "portable": the implementation crc32c_extend dispatches to in this process.
const char* crc32c_implementation();

namespace internal {
// The implementations behind crc32c_extend, exposed so tests run one vector table over each.
uint32_t crc32c_extend_portable(uint32_t crc, const uint8_t* data, std::size_t n);
// Only valid when cpu_has_sse42(); returns the portable result otherwise.
uint32_t crc32c_extend_sse42(uint32_t crc, const uint8_t* data, std::size_t n);
bool crc32c_hardware_available();
}  // namespace internal

}  // namespace xfast
