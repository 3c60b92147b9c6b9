// SPDX-License-Identifier: Apache-2.0
// Protobuf wire-format primitives (https://protobuf.dev/programming-guides/encoding/): tags,
// varints, fixed-width little-endian values. Each write_* returns the advanced pointer; callers
// size their buffer up front with the *_size helpers and the kMax*Size constants.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string_view>

namespace xfast::wire {

enum WireType : uint32_t { kVarint = 0, kFixed64 = 1, kLengthDelimited = 2, kFixed32 = 5 };

inline constexpr std::size_t kMaxVarint64Size = 10;  // 64 bits / 7 bits per byte, rounded up

constexpr uint32_t make_tag(uint32_t field, WireType type) { return (field << 3) | type; }

constexpr std::size_t varint_size(uint64_t v) {
  std::size_t n = 1;
  while (v >= 0x80) {
    v >>= 7;
    ++n;
  }
  return n;
}

inline uint8_t* write_varint(uint64_t v, uint8_t* p) {
  while (v >= 0x80) {
    *p++ = static_cast<uint8_t>(v | 0x80);
    v >>= 7;
  }
  *p++ = static_cast<uint8_t>(v);
  return p;
}

inline uint8_t* write_fixed64(uint64_t v, uint8_t* p) {
  for (int i = 0; i < 8; ++i) *p++ = static_cast<uint8_t>(v >> (8 * i));
  return p;
}

inline uint8_t* write_fixed32(uint32_t v, uint8_t* p) {
  for (int i = 0; i < 4; ++i) *p++ = static_cast<uint8_t>(v >> (8 * i));
  return p;
}

inline uint64_t double_bits(double d) {
  uint64_t b;
  std::memcpy(&b, &d, 8);
  return b;
}

inline uint32_t float_bits(float f) {
  uint32_t b;
  std::memcpy(&b, &f, 4);
  return b;
}

// Size of a length-delimited field holding `len` payload bytes, including tag and length prefix.
// Every tag used here is below 16, so it fits in one byte.
constexpr std::size_t delimited_size(std::size_t len) { return 1 + varint_size(len) + len; }

inline uint8_t* write_delimited_header(uint32_t field, std::size_t len, uint8_t* p) {
  p = write_varint(make_tag(field, kLengthDelimited), p);
  return write_varint(len, p);
}

inline uint8_t* write_bytes_field(uint32_t field, std::string_view s, uint8_t* p) {
  p = write_delimited_header(field, s.size(), p);
  std::memcpy(p, s.data(), s.size());
  return p + s.size();
}

inline uint8_t* write_double_field(uint32_t field, double v, uint8_t* p) {
  p = write_varint(make_tag(field, kFixed64), p);
  return write_fixed64(double_bits(v), p);
}

}  // namespace xfast::wire
