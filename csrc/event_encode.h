// SPDX-License-Identifier: Apache-2.0
// Hand-encoded tensorboard.Event messages for the hot events. Each append_* writes one whole
// TFRecord (framing + CRC) holding bytes identical to the official message's
// SerializeToString(); tests/test_encode.py checks that byte for byte.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace xfast {

// Fields every Event carries. proto3 omits zero values: wall_time +0.0 and step 0 are not
// written (-0.0 is, its bits being non-zero), exactly as protobuf does.
struct EventHeader {
  double wall_time;  // seconds since the epoch
  int64_t step;
};

// How add_scalar stores the value (torch.utils.tensorboard's new_style/double_precision flags).
enum class ScalarStyle : uint8_t {
  kSimpleValue = 0,   // Value.simple_value, float32 (the default)
  kTensorFloat = 1,   // new_style: DT_FLOAT tensor + "scalars" plugin metadata
  kTensorDouble = 2,  // new_style + double_precision: DT_DOUBLE tensor + "scalars" metadata
};

// A finished histogram, as written to HistogramProto (all doubles, counts included).
struct HistogramData {
  double min = 0;
  double max = 0;
  double num = 0;
  double sum = 0;
  double sum_squares = 0;
  std::vector<double> bucket_limit;
  std::vector<double> bucket;
  // When set, the limits written are shared_limits[0..bucket.size()) and bucket_limit is
  // unused: a slice of default_edges(), which lives as long as the process. The default bins'
  // events point there instead of copying up to 12 KiB of edges per event.
  const double* shared_limits = nullptr;

  std::size_t limit_count() const { return shared_limits ? bucket.size() : bucket_limit.size(); }
  const double* limit_data() const { return shared_limits ? shared_limits : bucket_limit.data(); }
};

// Each function appends one framed record to `out`. Pure; any thread. Cost: one pass over the
// output bytes plus the CRC.
void append_scalar_event(std::string& out, const EventHeader& h, std::string_view tag, double value,
                         ScalarStyle style);
void append_histogram_event(std::string& out, const EventHeader& h, std::string_view tag,
                            const HistogramData& histo);
// add_text: tag is used as given (the caller appends "/text_summary"); text is UTF-8.
void append_text_event(std::string& out, const EventHeader& h, std::string_view tag,
                       std::string_view text);
// Event{wall_time, step, summary=<summary_bytes>}: wraps a Summary serialized elsewhere.
void append_summary_event(std::string& out, const EventHeader& h, std::string_view summary_bytes);
// Event{wall_time, step, file_version="brain.Event:2", source_metadata{writer}}; an empty
// `writer` omits source_metadata.
void append_file_version_event(std::string& out, const EventHeader& h, std::string_view writer);
// Event{wall_time, step, session_log{status=START}}: with the file_version event before it, the
// pair torch writes for purge_step.
void append_session_start_event(std::string& out, const EventHeader& h);
// An already serialized Event, framed as is.
void append_raw_event(std::string& out, std::string_view event_bytes);

}  // namespace xfast
