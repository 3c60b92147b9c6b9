// SPDX-License-Identifier: Apache-2.0
// Protobuf wire primitives: varint sizes and bytes at every length boundary, little-endian fixed
// values, tags and length-delimited fields.
#include "proto_wire.h"

#include <limits>
#include <string>

#include "check.h"
#include "test_util.h"

namespace {

namespace wire = xfast::wire;
using xfast::test::from_hex;

std::string varint(uint64_t v) {
  uint8_t buf[wire::kMaxVarint64Size + 1];
  const uint8_t* end = wire::write_varint(v, buf);
  return std::string(reinterpret_cast<const char*>(buf), static_cast<std::size_t>(end - buf));
}

static_assert(wire::varint_size(0) == 1, "varint_size is usable at compile time");
static_assert(wire::make_tag(1, wire::kFixed64) == 0x09, "Event.wall_time");
static_assert(wire::make_tag(5, wire::kLengthDelimited) == 0x2a, "Event.summary");
static_assert(wire::make_tag(2, wire::kFixed32) == 0x15, "Value.simple_value");

TEST(varint_bytes_and_sizes) {
  struct Case {
    uint64_t v;
    const char* hex;
  };
  const Case cases[] = {
      {0, "00"},
      {1, "01"},
      {127, "7f"},
      {128, "8001"},
      {300, "ac02"},
      {16383, "ff7f"},
      {16384, "808001"},
      {(uint64_t{1} << 35) - 1, "ffffffff7f"},
      {uint64_t{1} << 63, "80808080808080808001"},
      {std::numeric_limits<uint64_t>::max(), "ffffffffffffffffff01"},
  };
  for (const Case& c : cases) {
    CHECK_EQ(varint(c.v), from_hex(c.hex));
    CHECK_EQ(wire::varint_size(c.v), from_hex(c.hex).size());
  }
}

TEST(negative_int64_is_ten_bytes) {
  // proto int64 fields sign-extend: -1 is 2^64-1, ten bytes (no zigzag).
  CHECK_EQ(varint(static_cast<uint64_t>(int64_t{-1})), from_hex("ffffffffffffffffff01"));
  CHECK_EQ(varint(static_cast<uint64_t>(int64_t{-2})), from_hex("feffffffffffffffff01"));
  CHECK_EQ(varint(static_cast<uint64_t>(std::numeric_limits<int64_t>::min())),
           from_hex("80808080808080808001"));
  CHECK_EQ(wire::varint_size(static_cast<uint64_t>(int64_t{-1})), wire::kMaxVarint64Size);
}

TEST(fixed_values_are_little_endian) {
  uint8_t buf[8];
  CHECK(wire::write_fixed32(0x3f000000u, buf) == buf + 4);
  CHECK_EQ(std::string(reinterpret_cast<char*>(buf), 4), from_hex("0000003f"));
  CHECK(wire::write_fixed64(0x0102030405060708ull, buf) == buf + 8);
  CHECK_EQ(std::string(reinterpret_cast<char*>(buf), 8), from_hex("0807060504030201"));
  CHECK_EQ(wire::float_bits(0.5f), 0x3f000000u);
  CHECK_EQ(wire::double_bits(1.5), 0x3ff8000000000000ull);
  CHECK_EQ(wire::double_bits(-0.0), 0x8000000000000000ull);
}

TEST(delimited_sizes) {
  CHECK_EQ(wire::delimited_size(0), std::size_t{2});
  CHECK_EQ(wire::delimited_size(127), std::size_t{129});
  CHECK_EQ(wire::delimited_size(128), std::size_t{131});
  CHECK_EQ(wire::delimited_size(16384), std::size_t{16388});
}

TEST(bytes_and_double_fields) {
  uint8_t buf[32];
  const uint8_t* end = wire::write_bytes_field(1, "loss", buf);
  CHECK_EQ(std::string(reinterpret_cast<char*>(buf), static_cast<std::size_t>(end - buf)),
           from_hex("0a 04 6c6f7373"));
  CHECK_EQ(static_cast<std::size_t>(end - buf), wire::delimited_size(4));
  end = wire::write_bytes_field(3, "", buf);
  CHECK_EQ(std::string(reinterpret_cast<char*>(buf), static_cast<std::size_t>(end - buf)),
           from_hex("1a 00"));
  end = wire::write_double_field(1, 1.5, buf);
  CHECK_EQ(std::string(reinterpret_cast<char*>(buf), static_cast<std::size_t>(end - buf)),
           from_hex("09 000000000000f83f"));
  end = wire::write_delimited_header(5, 200, buf);
  CHECK_EQ(std::string(reinterpret_cast<char*>(buf), static_cast<std::size_t>(end - buf)),
           from_hex("2a c801"));
}

}  // namespace
