// SPDX-License-Identifier: Apache-2.0
// EventScan: reads TFRecord event files back into per-tag column buffers (the reader's hot path).
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include "column_memory.h"
#include "platform.h"

namespace xfast {

// Column<T>
//
// An append-only column in one buffer that grows without copying (ColumnMemory), so release()
// hands numpy the very array the scan wrote: no second allocation, no final copy.
template <typename T>
class Column {
  static_assert(std::is_trivially_copyable_v<T>);

 public:
  void push_back(T v) {
    if (XFAST_UNLIKELY(size_ == cap_)) grow(size_ + 1);
    data()[size_++] = v;
  }
  // Appends v[0..n) (histogram buckets).
  void append(const T* v, std::size_t n) {
    if (size_ + n > cap_) grow(size_ + n);
    if (n > 0) std::memcpy(data() + size_, v, n * sizeof(T));
    size_ += n;
  }
  std::size_t size() const { return size_; }

  // The elements (nullptr when empty); the column is left empty.
  ReleasedColumn<T> release() {
    ReleasedColumn<T> out(size_ > 0 ? static_cast<T*>(memory_.release(size_ * sizeof(T)))
                                    : nullptr);
    size_ = cap_ = 0;  // memory_.release left it empty
    return out;
  }

 private:
  T* data() const { return static_cast<T*>(memory_.data()); }
  void grow(std::size_t n) {
    memory_.reserve(n * sizeof(T));
    cap_ = memory_.capacity() / sizeof(T);
  }

  ColumnMemory memory_;
  std::size_t size_ = 0;
  std::size_t cap_ = 0;
};

// One (step, wall_time, value) series: simple_value scalars, or float/double scalar tensors.
struct ScalarSeries {
  Column<int64_t> step;
  Column<double> wall_time;
  Column<double> value;
  std::size_t size() const { return step.size(); }
};

// HistogramProto values of one tag. Event i's buckets are limits/counts[offset[i], offset[i+1]);
// offset starts with a 0.
struct HistogramSeries {
  Column<int64_t> step;
  Column<double> wall_time;
  Column<double> min, max, num, sum, sum_squares;
  Column<int64_t> offset;
  Column<double> limits, counts;
  std::size_t size() const { return step.size(); }
};

// A summary value the scan does not decode (images, audio, text, other tensors...): where its
// event is in the file, so the caller parses that one event with protobuf.
struct OtherValue {
  uint64_t offset;       // of the event's serialized bytes in the file
  uint32_t length;       // of those bytes
  uint32_t value_index;  // index in Summary.value
  uint32_t tag;          // index in FileScan::tags
  int64_t step;
  double wall_time;
};

struct TagData {
  std::string name;
  bool has_metadata = false;   // some value of the tag carried SummaryMetadata
  std::string plugin_name;     // from the first value of the tag that carried metadata
  std::string plugin_content;  // SummaryMetadata.plugin_data.content of that value
  bool selected = true;        // passed the tag filter
  ScalarSeries scalars;        // simple_value
  ScalarSeries tensors;        // float/double scalar tensors
  HistogramSeries histograms;  // histo
};

// A SessionLog.START event and how many values of each series had been read before it, so the
// caller can purge what a restarted run overwrote (TensorBoard's purge_orphaned_data).
struct SessionStart {
  int64_t step;
  // For tag t: 3*t = scalars, 3*t+1 = tensors, 3*t+2 = histograms read before the event. Tags
  // first seen after it are missing and had 0.
  std::vector<uint64_t> counts;
  uint64_t others;  // FileScan::others.size() before the event
};

// Kinds of value the scan keeps (ScanOptions::kinds).
enum ScanKind : uint32_t {
  kScanScalars = 1,
  kScanTensors = 2,     // scalar tensors decoded natively; other tensors go to `others`
  kScanHistograms = 4,
  kScanOthers = 8,      // images, audio, non-scalar tensors, obsolete histograms
  kScanAll = 15,
};

struct ScanOptions {
  // A tag is kept when it matches both (each checked once per tag per file; empty = any):
  // tag_glob with fnmatch(3) over the whole tag, tag_regex (POSIX extended) searched in it.
  std::string tag_glob;
  std::string tag_regex;
  uint32_t kinds = kScanAll;
  // Worker threads for scan_files; 0 = one per core.
  std::size_t threads = 0;
};

struct FileScan {
  std::string path;
  uint64_t start_offset = 0;
  std::string error;         // open/read failure (errno text); the rest is empty then
  std::string file_version;  // Event.file_version of the file's first such event
  std::vector<TagData> tags;
  std::vector<OtherValue> others;
  std::vector<SessionStart> starts;
  uint64_t records = 0;          // records whose CRCs checked out
  uint64_t corrupt = 0;          // records skipped: a bad CRC or an unparsable event
  uint64_t skipped_bytes = 0;    // bytes passed over while resynchronizing after damage
  uint64_t end_offset = 0;       // just past the last whole record: where a follower resumes
  uint64_t truncated_bytes = 0;  // bytes of an incomplete last record (a run still writing)
};

// Scans one file from start_offset. Never throws for bad data: damage is counted in the result.
// Throws std::invalid_argument for an invalid options.tag_regex.
FileScan scan_file(const std::string& path, uint64_t start_offset, const ScanOptions& options);

// Scans an in-memory copy of a file (for tests and fuzzing). Same rules as scan_file.
FileScan scan_buffer(const uint8_t* data, std::size_t size, const ScanOptions& options);

// Scans several files on up to options.threads threads; results are in the order of `files`
// (path, start offset). Thread-safe; touches no global state.
std::vector<FileScan> scan_files(const std::vector<std::pair<std::string, uint64_t>>& files,
                                 const ScanOptions& options);

}  // namespace xfast
