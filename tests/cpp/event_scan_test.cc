// SPDX-License-Identifier: Apache-2.0
// EventScan: files written by the engine's own encoders read back value for value, damage
// (flipped bytes, cuts) counted and stepped over, filters, restarts, and several files on threads.
#include "event_scan.h"

#include <cstdio>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "check.h"
#include "event_encode.h"
#include "record.h"

namespace {

using xfast::FileScan;
using xfast::ScanOptions;

// A file of `n` scalars per tag over tags "a", "b" (simple_value), then one histogram and one
// text event.
std::string sample_file(int n) {
  std::string f;
  xfast::append_file_version_event(f, {1.0, 0}, "test");
  for (int i = 0; i < n; ++i) {
    xfast::append_scalar_event(f, {10.0 + i, i}, "a", i * 0.5, xfast::ScalarStyle::kSimpleValue);
    xfast::append_scalar_event(f, {10.0 + i, i}, "b", -i, xfast::ScalarStyle::kTensorDouble);
  }
  xfast::HistogramData h;
  h.min = 1;
  h.max = 3;
  h.num = 4;
  h.sum = 7;
  h.sum_squares = 15;
  h.bucket_limit = {1.5, 2.5, 3.5};
  h.bucket = {1, 2, 1};
  xfast::append_histogram_event(f, {20.0, 7}, "h", h);
  xfast::append_text_event(f, {21.0, 8}, "t/text_summary", "hello");
  return f;
}

FileScan scan(const std::string& f, const ScanOptions& opt = {}) {
  return xfast::scan_buffer(reinterpret_cast<const uint8_t*>(f.data()), f.size(), opt);
}

const xfast::TagData* find(FileScan& s, const std::string& name) {
  for (auto& t : s.tags) {
    if (t.name == name) return &t;
  }
  return nullptr;
}

TEST(reads_every_kind) {
  FileScan s = scan(sample_file(100));
  CHECK_EQ(s.records, uint64_t{203});
  CHECK_EQ(s.corrupt, uint64_t{0});
  CHECK_EQ(s.file_version, std::string("brain.Event:2"));
  CHECK_EQ(s.tags.size(), std::size_t{4});
  auto* a = const_cast<xfast::TagData*>(find(s, "a"));
  auto* b = const_cast<xfast::TagData*>(find(s, "b"));
  CHECK_EQ(a->scalars.size(), std::size_t{100});
  CHECK_EQ(b->tensors.size(), std::size_t{100});
  CHECK_EQ(b->plugin_name, std::string("scalars"));
  auto step = a->scalars.step.release();
  auto value = a->scalars.value.release();
  auto wall = a->scalars.wall_time.release();
  auto bval = b->tensors.value.release();
  for (int i = 0; i < 100; ++i) {
    CHECK_EQ(step[i], int64_t{i});
    CHECK_EQ(value[i], i * 0.5);
    CHECK_EQ(wall[i], 10.0 + i);
    CHECK_EQ(bval[i], static_cast<double>(-i));
  }
  auto* h = const_cast<xfast::TagData*>(find(s, "h"));
  CHECK_EQ(h->histograms.size(), std::size_t{1});
  auto counts = h->histograms.counts.release();
  auto offset = h->histograms.offset.release();
  CHECK_EQ(offset[0], int64_t{0});
  CHECK_EQ(offset[1], int64_t{3});
  CHECK_EQ(counts[1], 2.0);
  auto sum_squares = h->histograms.sum_squares.release();
  CHECK_EQ(sum_squares[0], 15.0);
  CHECK_EQ(s.others.size(), std::size_t{1});  // the text tensor is left to protobuf
  CHECK_EQ(s.tags[s.others[0].tag].plugin_name, std::string("text"));
  CHECK_EQ(s.others[0].step, int64_t{8});
}

TEST(filters_by_tag_and_kind) {
  ScanOptions opt;
  opt.tag_regex = "^a$";
  FileScan s = scan(sample_file(10), opt);
  CHECK_EQ(find(s, "a")->scalars.size(), std::size_t{10});
  CHECK_EQ(find(s, "b")->tensors.size(), std::size_t{0});
  CHECK(!find(s, "b")->selected);
  ScanOptions kinds;
  kinds.kinds = xfast::kScanHistograms;
  FileScan k = scan(sample_file(10), kinds);
  CHECK_EQ(find(k, "a")->scalars.size(), std::size_t{0});
  CHECK_EQ(find(k, "h")->histograms.size(), std::size_t{1});
  CHECK_EQ(k.others.size(), std::size_t{0});
}

TEST(truncated_tail_is_reported_not_read) {
  const std::string f = sample_file(10);
  std::string whole;
  xfast::append_scalar_event(whole, {1.0, 1}, "a", 1.0, xfast::ScalarStyle::kSimpleValue);
  for (std::size_t cut = 1; cut < whole.size(); ++cut) {
    FileScan s = scan(f + whole.substr(0, cut));
    CHECK_EQ(s.records, uint64_t{23});
    CHECK_EQ(s.corrupt, uint64_t{0});
    CHECK_EQ(s.truncated_bytes, uint64_t{cut});
    CHECK_EQ(s.end_offset, uint64_t{f.size()});
  }
}

TEST(flipped_bytes_cost_one_record) {
  const std::string f = sample_file(10);
  // Every byte of the third record (the first "b" scalar): flipping it loses that record only.
  std::size_t start = 0;
  for (int r = 0; r < 2; ++r) {
    uint64_t len = 0;
    std::memcpy(&len, f.data() + start, 8);
    start += xfast::kHeaderSize + len + xfast::kFooterSize;
  }
  uint64_t len = 0;
  std::memcpy(&len, f.data() + start, 8);
  const std::size_t end = start + xfast::kHeaderSize + len + xfast::kFooterSize;
  for (std::size_t at = start; at < end; ++at) {
    std::string bad = f;
    bad[at] = static_cast<char>(bad[at] ^ 0x40);
    FileScan s = scan(bad);
    CHECK_EQ(s.records, uint64_t{22});
    CHECK_EQ(s.corrupt, uint64_t{1});
    CHECK_EQ(find(s, "a")->scalars.size(), std::size_t{10});
    CHECK_EQ(find(s, "b")->tensors.size(), std::size_t{9});
  }
}

TEST(session_start_snapshots_counts) {
  std::string f;
  for (int i = 0; i < 5; ++i) {
    xfast::append_scalar_event(f, {1.0, i}, "a", i, xfast::ScalarStyle::kSimpleValue);
  }
  xfast::append_session_start_event(f, {2.0, 3});
  xfast::append_scalar_event(f, {3.0, 3}, "a", 9, xfast::ScalarStyle::kSimpleValue);
  FileScan s = scan(f);
  CHECK_EQ(s.starts.size(), std::size_t{1});
  CHECK_EQ(s.starts[0].step, int64_t{3});
  CHECK_EQ(s.starts[0].counts[0], uint64_t{5});
  CHECK_EQ(s.tags[0].scalars.size(), std::size_t{6});
}

TEST(files_on_threads_keep_their_order) {
  std::vector<std::pair<std::string, uint64_t>> files;
  std::vector<std::unique_ptr<char[]>> names;
  for (int i = 0; i < 6; ++i) {
    char name[64];
    std::snprintf(name, sizeof(name), "event_scan_test_%d.tfevents", i);
    const std::string data = sample_file(50 * (i + 1));
    std::FILE* fp = std::fopen(name, "wb");
    CHECK(fp != nullptr);
    std::fwrite(data.data(), 1, data.size(), fp);
    std::fclose(fp);
    files.emplace_back(name, 0);
  }
  files.emplace_back("event_scan_test_missing.tfevents", 0);
  ScanOptions opt;
  opt.threads = 3;
  std::vector<FileScan> out = xfast::scan_files(files, opt);
  for (int i = 0; i < 6; ++i) {
    CHECK_EQ(out[static_cast<std::size_t>(i)].error, std::string());
    CHECK_EQ(find(out[static_cast<std::size_t>(i)], "a")->scalars.size(),
             static_cast<std::size_t>(50 * (i + 1)));
    std::remove(files[static_cast<std::size_t>(i)].first.c_str());
  }
  CHECK(!out[6].error.empty());
}

TEST(column_release_is_exact) {
  xfast::Column<int64_t> c;
  for (int64_t i = 0; i < 200000; ++i) c.push_back(i);
  CHECK_EQ(c.size(), std::size_t{200000});
  auto all = c.release();
  bool ok = true;
  for (int64_t i = 0; i < 200000; ++i) ok = ok && all[static_cast<std::size_t>(i)] == i;
  CHECK(ok);
  CHECK_EQ(c.size(), std::size_t{0});
}

TEST(column_append_spans_growth) {
  xfast::Column<double> c;
  std::vector<double> v(70000);
  for (std::size_t i = 0; i < v.size(); ++i) v[i] = static_cast<double>(i);
  c.push_back(-1.0);
  c.append(v.data(), 100);  // past the first heap block
  c.append(v.data() + 100, v.size() - 100);
  CHECK_EQ(c.size(), v.size() + 1);
  auto all = c.release();
  bool ok = all[0] == -1.0;
  for (std::size_t i = 0; i < v.size(); ++i) ok = ok && all[i + 1] == v[i];
  CHECK(ok);
}

}  // namespace
