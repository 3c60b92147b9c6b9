// SPDX-License-Identifier: Apache-2.0
// Hand-encoded Event/Summary messages. Field numbers come from tensorboard/compat/proto
// (event.proto, summary.proto, tensor.proto); fields go out in ascending number order, as the
// official serializer writes them, so the bytes match SerializeToString() exactly.
#include "event_encode.h"

#include <cstring>

#include "proto_wire.h"
#include "record.h"

namespace xfast {

using wire::delimited_size;
using wire::kFixed32;
using wire::kFixed64;
using wire::kLengthDelimited;
using wire::kVarint;
using wire::make_tag;
using wire::varint_size;

namespace {

// Event (event.proto): 1 wall_time double, 2 step int64, 3 file_version string, 5 summary,
// 7 session_log, 10 source_metadata.
constexpr uint32_t kEventWallTime = 1;
constexpr uint32_t kEventStep = 2;
constexpr uint32_t kEventFileVersion = 3;
constexpr uint32_t kEventSummary = 5;
constexpr uint32_t kEventSessionLog = 7;
constexpr uint32_t kEventSourceMetadata = 10;
// Summary: 1 repeated Value value. Summary.Value: 1 tag, 2 simple_value float, 5 histo,
// 8 tensor, 9 metadata.
constexpr uint32_t kSummaryValue = 1;
constexpr uint32_t kValueTag = 1;
constexpr uint32_t kValueSimpleValue = 2;
constexpr uint32_t kValueHisto = 5;
constexpr uint32_t kValueTensor = 8;
constexpr uint32_t kValueMetadata = 9;
// TensorProto: 1 dtype enum, 2 tensor_shape, 5 float_val packed, 6 double_val packed,
// 8 string_val repeated bytes. DataType: DT_FLOAT 1, DT_DOUBLE 2, DT_STRING 7.
constexpr uint32_t kTensorDtype = 1;
constexpr uint32_t kTensorShape = 2;
constexpr uint32_t kTensorFloatVal = 5;
constexpr uint32_t kTensorDoubleVal = 6;
constexpr uint32_t kTensorStringVal = 8;
constexpr uint32_t kDtFloat = 1;
constexpr uint32_t kDtDouble = 2;
constexpr uint32_t kDtString = 7;
// HistogramProto: 1 min, 2 max, 3 num, 4 sum, 5 sum_squares (doubles), 6 bucket_limit and
// 7 bucket (packed doubles).
constexpr uint32_t kHistoBucketLimit = 6;
constexpr uint32_t kHistoBucket = 7;

constexpr std::string_view kFileVersion = "brain.Event:2";

// SummaryMetadata{plugin_data{plugin_name="scalars"}}: 4A 0B 0A 09 0A 07 "scalars". The
// ScalarPluginData content serializes to empty bytes and is therefore omitted.
constexpr uint8_t kScalarsMetadata[] = {0x4a, 0x0b, 0x0a, 0x09, 0x0a, 0x07, 's', 'c',
                                        'a',  'l',  'a',  'r',  's'};
// SummaryMetadata{plugin_data{plugin_name="text"}} (TextPluginData{version=0} is empty bytes).
constexpr uint8_t kTextMetadata[] = {0x4a, 0x08, 0x0a, 0x06, 0x0a, 0x04, 't', 'e', 'x', 't'};
// TensorShapeProto{dim{size=1}}: 12 04 [12 02 [08 01]] as the tensor's field 2.
constexpr uint8_t kShapeOne[] = {0x12, 0x04, 0x12, 0x02, 0x08, 0x01};

std::size_t header_size(const EventHeader& h) {
  std::size_t n = 0;
  if (wire::double_bits(h.wall_time) != 0) n += 9;
  if (h.step != 0) n += 1 + varint_size(static_cast<uint64_t>(h.step));
  return n;
}

uint8_t* write_header(const EventHeader& h, uint8_t* p) {
  if (wire::double_bits(h.wall_time) != 0) p = wire::write_double_field(kEventWallTime, h.wall_time, p);
  if (h.step != 0) {
    p = wire::write_varint(make_tag(kEventStep, kVarint), p);
    // int64 is encoded as its two's-complement uint64: negative steps take 10 bytes.
    p = wire::write_varint(static_cast<uint64_t>(h.step), p);
  }
  return p;
}

std::size_t tag_size(std::string_view tag) { return tag.empty() ? 0 : delimited_size(tag.size()); }

uint8_t* write_tag(std::string_view tag, uint8_t* p) {
  return tag.empty() ? p : wire::write_bytes_field(kValueTag, tag, p);
}

uint8_t* write_raw(const uint8_t* src, std::size_t n, uint8_t* p) {
  std::memcpy(p, src, n);
  return p + n;
}

// Reserves a framed record of `data_size` bytes at the end of `out`, lets `fill` write the data
// and frames it. `fill` must write exactly data_size bytes.
template <typename Fill>
void append_framed(std::string& out, std::size_t data_size, Fill&& fill) {
  const std::size_t at = out.size();
  out.resize(at + kHeaderSize + data_size + kFooterSize);
  auto* rec = reinterpret_cast<uint8_t*>(&out[at]);
  uint8_t* data = rec + kHeaderSize;
  fill(data);
  populate_header(rec, data_size);
  populate_footer(data + data_size, data, data_size);
}

// An Event whose only other field is `summary` holding one Value of value_size bytes.
template <typename FillValue>
void append_single_value_event(std::string& out, const EventHeader& h, std::size_t value_size,
                               FillValue&& fill_value) {
  const std::size_t summary_size = delimited_size(value_size);
  const std::size_t data_size = header_size(h) + delimited_size(summary_size);
  append_framed(out, data_size, [&](uint8_t* p) {
    p = write_header(h, p);
    p = wire::write_delimited_header(kEventSummary, summary_size, p);
    p = wire::write_delimited_header(kSummaryValue, value_size, p);
    fill_value(p);
  });
}

std::size_t packed_doubles_size(std::size_t n) { return n == 0 ? 0 : delimited_size(8 * n); }

uint8_t* write_packed_doubles(uint32_t field, const double* v, std::size_t n, uint8_t* p) {
  if (n == 0) return p;
  p = wire::write_delimited_header(field, 8 * n, p);
  for (std::size_t i = 0; i < n; ++i) p = wire::write_fixed64(wire::double_bits(v[i]), p);
  return p;
}

}  // namespace

void append_scalar_event(std::string& out, const EventHeader& h, std::string_view tag, double value,
                         ScalarStyle style) {
  std::size_t value_size = tag_size(tag);
  switch (style) {
    case ScalarStyle::kSimpleValue:
      value_size += 5;  // 15 <float32>
      break;
    case ScalarStyle::kTensorFloat:
      value_size += delimited_size(2 + 6) + sizeof(kScalarsMetadata);  // dtype + float_val[1]
      break;
    case ScalarStyle::kTensorDouble:
      value_size += delimited_size(2 + 10) + sizeof(kScalarsMetadata);  // dtype + double_val[1]
      break;
  }
  append_single_value_event(out, h, value_size, [&](uint8_t* p) {
    p = write_tag(tag, p);
    switch (style) {
      case ScalarStyle::kSimpleValue:
        p = wire::write_varint(make_tag(kValueSimpleValue, kFixed32), p);
        // Rounds to nearest like protobuf's float field; out-of-range doubles become +-inf.
        wire::write_fixed32(wire::float_bits(static_cast<float>(value)), p);
        break;
      case ScalarStyle::kTensorFloat:
        p = wire::write_delimited_header(kValueTensor, 8, p);
        p = wire::write_varint(make_tag(kTensorDtype, kVarint), p);
        p = wire::write_varint(kDtFloat, p);
        p = wire::write_delimited_header(kTensorFloatVal, 4, p);
        p = wire::write_fixed32(wire::float_bits(static_cast<float>(value)), p);
        write_raw(kScalarsMetadata, sizeof(kScalarsMetadata), p);
        break;
      case ScalarStyle::kTensorDouble:
        p = wire::write_delimited_header(kValueTensor, 12, p);
        p = wire::write_varint(make_tag(kTensorDtype, kVarint), p);
        p = wire::write_varint(kDtDouble, p);
        p = wire::write_delimited_header(kTensorDoubleVal, 8, p);
        p = wire::write_fixed64(wire::double_bits(value), p);
        write_raw(kScalarsMetadata, sizeof(kScalarsMetadata), p);
        break;
    }
  });
}

void append_histogram_event(std::string& out, const EventHeader& h, std::string_view tag,
                            const HistogramData& histo) {
  const double stats[5] = {histo.min, histo.max, histo.num, histo.sum, histo.sum_squares};
  std::size_t histo_size =
      packed_doubles_size(histo.limit_count()) + packed_doubles_size(histo.bucket.size());
  for (double s : stats) histo_size += wire::double_bits(s) != 0 ? 9 : 0;
  const std::size_t value_size = tag_size(tag) + delimited_size(histo_size);
  append_single_value_event(out, h, value_size, [&](uint8_t* p) {
    p = write_tag(tag, p);
    p = wire::write_delimited_header(kValueHisto, histo_size, p);
    for (uint32_t i = 0; i < 5; ++i) {
      if (wire::double_bits(stats[i]) != 0) p = wire::write_double_field(i + 1, stats[i], p);
    }
    p = write_packed_doubles(kHistoBucketLimit, histo.limit_data(), histo.limit_count(), p);
    write_packed_doubles(kHistoBucket, histo.bucket.data(), histo.bucket.size(), p);
  });
}

void append_text_event(std::string& out, const EventHeader& h, std::string_view tag,
                       std::string_view text) {
  const std::size_t tensor_size = 2 + sizeof(kShapeOne) + delimited_size(text.size());
  const std::size_t value_size = tag_size(tag) + delimited_size(tensor_size) + sizeof(kTextMetadata);
  append_single_value_event(out, h, value_size, [&](uint8_t* p) {
    p = write_tag(tag, p);
    p = wire::write_delimited_header(kValueTensor, tensor_size, p);
    p = wire::write_varint(make_tag(kTensorDtype, kVarint), p);
    p = wire::write_varint(kDtString, p);
    p = write_raw(kShapeOne, sizeof(kShapeOne), p);
    // A repeated bytes element is written even when empty (only singular fields are omitted).
    p = wire::write_bytes_field(kTensorStringVal, text, p);
    write_raw(kTextMetadata, sizeof(kTextMetadata), p);
  });
  static_assert(kTensorShape == 2, "kShapeOne encodes field 2");
}

void append_summary_event(std::string& out, const EventHeader& h, std::string_view summary_bytes) {
  const std::size_t data_size = header_size(h) + delimited_size(summary_bytes.size());
  append_framed(out, data_size, [&](uint8_t* p) {
    p = write_header(h, p);
    wire::write_bytes_field(kEventSummary, summary_bytes, p);
  });
}

void append_file_version_event(std::string& out, const EventHeader& h, std::string_view writer) {
  const std::size_t source_size = writer.empty() ? 0 : delimited_size(delimited_size(writer.size()));
  const std::size_t data_size = header_size(h) + delimited_size(kFileVersion.size()) + source_size;
  append_framed(out, data_size, [&](uint8_t* p) {
    p = write_header(h, p);
    p = wire::write_bytes_field(kEventFileVersion, kFileVersion, p);
    if (!writer.empty()) {
      // SourceMetadata{1 writer string}
      p = wire::write_delimited_header(kEventSourceMetadata, delimited_size(writer.size()), p);
      wire::write_bytes_field(1, writer, p);
    }
  });
}

void append_session_start_event(std::string& out, const EventHeader& h) {
  // SessionLog{1 status = START (1)}: 3A 02 08 01
  constexpr uint8_t kStart[] = {0x08, 0x01};
  const std::size_t data_size = header_size(h) + delimited_size(sizeof(kStart));
  append_framed(out, data_size, [&](uint8_t* p) {
    p = write_header(h, p);
    p = wire::write_delimited_header(kEventSessionLog, sizeof(kStart), p);
    write_raw(kStart, sizeof(kStart), p);
  });
}

void append_raw_event(std::string& out, std::string_view event_bytes) {
  append_record(out, reinterpret_cast<const uint8_t*>(event_bytes.data()), event_bytes.size());
}

}  // namespace xfast
