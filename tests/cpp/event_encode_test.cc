// SPDX-License-Identifier: Apache-2.0
// Hand-encoded Events: golden bytes from compat-spec section 2.5 and the proto3 omission rules.
#include "event_encode.h"

#include <cmath>
#include <cstring>
#include <limits>
#include <string>
#include <vector>

#include "check.h"
#include "histogram.h"
#include "test_util.h"

namespace {

using xfast::EventHeader;
using xfast::ScalarStyle;
using xfast::test::from_hex;

double from_bits(uint64_t bits) {
  double d;
  std::memcpy(&d, &bits, 8);
  return d;
}

// The one record in `framed`, checked for valid framing; empty on any framing error.
std::string data_of(const std::string& framed) {
  std::vector<std::string> records;
  if (!xfast::test::read_records(framed, &records) || records.size() != 1) return "<bad frame>";
  return records[0];
}

std::string scalar(const EventHeader& h, const char* tag, double v, ScalarStyle style) {
  std::string out;
  xfast::append_scalar_event(out, h, tag, v, style);
  return data_of(out);
}

const EventHeader kH{1.5, 7};  // wall 1.5, step 7
const char* const kHeaderHex = "09 000000000000f83f 10 07";

TEST(scalar_record_golden_bytes) {
  // compat-spec 2.5: add_scalar('loss', 0.5, 3), the whole 42-byte record.
  std::string out;
  xfast::append_scalar_event(out, EventHeader{from_bits(0x41dac25eaef73d11ull), 3}, "loss", 0.5,
                             ScalarStyle::kSimpleValue);
  CHECK_EQ(out, from_hex("1a00000000000000 129bd82d"
                         "09 113df7ae5ec2da41 10 03 2a 0d 0a 0b 0a 04 6c6f7373 15 0000003f"
                         "b192d258"));
}

TEST(scalar_omits_zero_header_fields) {
  CHECK_EQ(scalar(EventHeader{0.0, 0}, "a", 1.0, ScalarStyle::kSimpleValue),
           from_hex("2a 0a 0a 08 0a 01 61 15 0000803f"));
  // -0.0 has non-zero bits, so it is written.
  CHECK_EQ(scalar(EventHeader{-0.0, 0}, "a", 1.0, ScalarStyle::kSimpleValue),
           from_hex("09 0000000000000080 2a 0a 0a 08 0a 01 61 15 0000803f"));
  // A negative step is a 10-byte varint.
  CHECK_EQ(scalar(EventHeader{0.0, -1}, "a", 1.0, ScalarStyle::kSimpleValue),
           from_hex("10 ffffffffffffffffff01 2a 0a 0a 08 0a 01 61 15 0000803f"));
}

TEST(simple_value_float_rounding) {
  // A oneof member is written even when zero; NaN as is; beyond float range -> inf.
  CHECK_EQ(scalar(kH, "a", 0.0, ScalarStyle::kSimpleValue),
           std::string(from_hex(kHeaderHex)) + from_hex("2a 0a 0a 08 0a 01 61 15 00000000"));
  CHECK_EQ(scalar(kH, "a", std::numeric_limits<double>::quiet_NaN(), ScalarStyle::kSimpleValue),
           std::string(from_hex(kHeaderHex)) + from_hex("2a 0a 0a 08 0a 01 61 15 0000c07f"));
  CHECK_EQ(scalar(kH, "a", 1e300, ScalarStyle::kSimpleValue),
           std::string(from_hex(kHeaderHex)) + from_hex("2a 0a 0a 08 0a 01 61 15 0000807f"));
  CHECK_EQ(scalar(kH, "a", -1e300, ScalarStyle::kSimpleValue),
           std::string(from_hex(kHeaderHex)) + from_hex("2a 0a 0a 08 0a 01 61 15 000080ff"));
}

TEST(new_style_scalars) {
  const std::string metadata = from_hex("4a 0b 0a 09 0a 07 7363616c617273");  // "scalars"
  CHECK_EQ(scalar(kH, "s", 0.5, ScalarStyle::kTensorFloat),
           from_hex(kHeaderHex) + from_hex("2a 1c 0a 1a 0a 01 73 42 08 08 01 2a 04 0000003f") +
               metadata);
  CHECK_EQ(scalar(kH, "s", 0.5, ScalarStyle::kTensorDouble),
           from_hex(kHeaderHex) +
               from_hex("2a 20 0a 1e 0a 01 73 42 0c 08 02 32 08 000000000000e03f") + metadata);
}

TEST(histogram_golden_bytes) {
  // compat-spec 2.5: min 0 (omitted), max 2, num 3, sum 3, sum_squares 5, limits [1,2],
  // counts [1,2].
  xfast::HistogramData h;
  h.min = 0;
  h.max = 2;
  h.num = 3;
  h.sum = 3;
  h.sum_squares = 5;
  h.bucket_limit = {1, 2};
  h.bucket = {1, 2};
  std::string out;
  xfast::append_histogram_event(out, kH, "h", h);
  CHECK_EQ(data_of(out), from_hex("09 000000000000f83f 10 07 2a 4f"
                                  "0a 4d 0a 01 68 2a 48"
                                  "11 0000000000000040"
                                  "19 0000000000000840"
                                  "21 0000000000000840"
                                  "29 0000000000001440"
                                  "32 10 000000000000f03f 0000000000000040"
                                  "3a 10 000000000000f03f 0000000000000040"));
}

TEST(histogram_shared_limits_encode_like_owned_ones) {
  // The default bins' events point into default_edges() instead of owning their limits.
  const auto& e = xfast::default_edges();
  xfast::HistogramData owned;
  owned.min = -1;
  owned.max = 1;
  owned.num = 4;
  owned.bucket = {0, 1, 3};
  owned.bucket_limit.assign(e.begin() + 700, e.begin() + 703);
  xfast::HistogramData shared = owned;
  shared.bucket_limit.clear();
  shared.shared_limits = e.data() + 700;
  std::string a;
  std::string b;
  xfast::append_histogram_event(a, kH, "h", owned);
  xfast::append_histogram_event(b, kH, "h", shared);
  CHECK_EQ(a, b);
}

TEST(text_value_bytes) {
  std::string out;
  xfast::append_text_event(out, kH, "t/text_summary", "hello");
  CHECK_EQ(data_of(out),
           from_hex(kHeaderHex) + from_hex("2a 2d 0a 2b 0a 0e 742f746578745f73756d6d617279"
                                           "42 0f 08 07 12 04 12 02 08 01 42 05 68656c6c6f"
                                           "4a 08 0a 06 0a 04 74657874"));
  // Empty text: the repeated string_val element is still written, as an empty entry.
  out.clear();
  xfast::append_text_event(out, kH, "t", "");
  CHECK_EQ(data_of(out), from_hex(kHeaderHex) +
                             from_hex("2a 1b 0a 19 0a 01 74 42 0a 08 07 12 04 12 02 08 01 42 00"
                                      "4a 08 0a 06 0a 04 74657874"));
}

TEST(file_version_and_session_start) {
  std::string out;
  xfast::append_file_version_event(out, EventHeader{1.5, 0}, "xfast");
  CHECK_EQ(data_of(out), from_hex("09 000000000000f83f 1a 0d 627261696e2e4576656e743a32"
                                  "52 07 0a 05 7866617374"));
  out.clear();
  xfast::append_file_version_event(out, kH, "");
  CHECK_EQ(data_of(out), from_hex(kHeaderHex) + from_hex("1a 0d 627261696e2e4576656e743a32"));
  out.clear();
  xfast::append_session_start_event(out, kH);
  CHECK_EQ(data_of(out), from_hex(kHeaderHex) + from_hex("3a 02 08 01"));
}

TEST(summary_and_raw_events) {
  const std::string summary = from_hex("0a 08 0a 01 61 15 0000803f");
  std::string out;
  xfast::append_summary_event(out, kH, summary);
  CHECK_EQ(data_of(out), from_hex(kHeaderHex) + from_hex("2a 0a") + summary);
  out.clear();
  xfast::append_raw_event(out, "anything");
  CHECK_EQ(data_of(out), std::string("anything"));
}

TEST(appends_do_not_disturb_earlier_bytes) {
  std::string out;
  xfast::append_scalar_event(out, kH, "a", 1.0, ScalarStyle::kSimpleValue);
  const std::string first = out;
  xfast::append_text_event(out, kH, "b", "x");
  CHECK_EQ(out.substr(0, first.size()), first);
  std::vector<std::string> records;
  CHECK(xfast::test::read_records(out, &records));
  CHECK_EQ(records.size(), std::size_t{2});
}

}  // namespace
