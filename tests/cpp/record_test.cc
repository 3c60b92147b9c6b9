// SPDX-License-Identifier: Apache-2.0
// TFRecord framing: golden header/footer bytes (compat-spec section 2.3 and 2.5) and round trips.
#include "record.h"

#include <string>
#include <vector>

#include "check.h"
#include "test_util.h"

namespace {

using xfast::test::from_hex;

// The 26 data bytes of compat-spec 2.5's scalar event add_scalar('loss', 0.5, 3).
const std::string kScalarData =
    from_hex("09 113df7ae5ec2da41 10 03 2a 0d 0a 0b 0a 04 6c6f7373 15 0000003f");

std::string header(uint64_t length) {
  uint8_t h[xfast::kHeaderSize];
  xfast::populate_header(h, length);
  return std::string(reinterpret_cast<char*>(h), sizeof(h));
}

TEST(sizes) {
  CHECK_EQ(xfast::kHeaderSize, std::size_t{12});
  CHECK_EQ(xfast::kFooterSize, std::size_t{4});
}

TEST(golden_headers) {
  CHECK_EQ(header(26), from_hex("1a00000000000000 129bd82d"));
  // compat-spec 2.3: masked CRCs of the 8 length bytes for lengths 24, 26 and 72.
  CHECK_EQ(header(24).substr(8), from_hex("a37f4b22"));
  CHECK_EQ(header(26).substr(8), from_hex("129bd82d"));
  CHECK_EQ(header(72).substr(8), from_hex("fe92489d"));
  CHECK_EQ(header(0x0102030405060708ull).substr(0, 8), from_hex("0807060504030201"));
}

// compat-spec 2.5 prints the footer as 502eb8de, which is not the masked CRC of the data bytes it
// shows; b192d258 is, per the crc32c and google-crc32c packages and protobuf's own serialization.
TEST(golden_footer) {
  uint8_t f[xfast::kFooterSize];
  xfast::populate_footer(f, reinterpret_cast<const uint8_t*>(kScalarData.data()),
                         kScalarData.size());
  CHECK_EQ(std::string(reinterpret_cast<char*>(f), 4), from_hex("b192d258"));
}

TEST(append_record_frames_the_scalar_event) {
  std::string out = "prefix";
  xfast::append_record(out, reinterpret_cast<const uint8_t*>(kScalarData.data()),
                       kScalarData.size());
  CHECK_EQ(out,
           "prefix" + from_hex("1a00000000000000 129bd82d") + kScalarData + from_hex("b192d258"));
}

TEST(round_trip_through_reader) {
  std::string file;
  std::vector<std::string> payloads = {"", "x", std::string(1000, 'q'), kScalarData};
  for (const auto& p : payloads) {
    xfast::append_record(file, reinterpret_cast<const uint8_t*>(p.data()), p.size());
  }
  std::vector<std::string> got;
  CHECK(xfast::test::read_records(file, &got));
  CHECK_EQ(got.size(), payloads.size());
  for (std::size_t i = 0; i < got.size() && i < payloads.size(); ++i) CHECK_EQ(got[i], payloads[i]);
  // A flipped data byte breaks the footer CRC.
  file[12 + 0 + 4 + 12] ^= 1;
  got.clear();
  CHECK(!xfast::test::read_records(file, &got));
  CHECK_EQ(got.size(), std::size_t{1});
}

}  // namespace
