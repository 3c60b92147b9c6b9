// SPDX-License-Identifier: Apache-2.0
// EventWriter against real files: the synchronous first record, ordered delivery from several
// producers, close/flush contracts, drop accounting, and the latched I/O error.
#include "event_writer.h"

#include <signal.h>
#include <sys/resource.h>
#include <sys/stat.h>

#include <cerrno>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "check.h"
#include "test_util.h"

namespace {

using xfast::EventWriter;
using xfast::Record;
using xfast::RecordKind;
using xfast::ScalarStyle;
using xfast::Status;
using xfast::WriterOptions;
using PushResult = EventWriter::PushResult;

// A fresh directory per test, removed at the end.
class TempDir {
 public:
  TempDir() {
    std::string tmpl = (std::filesystem::temp_directory_path() / "xfast_writer_XXXXXX").string();
    path_ = mkdtemp(tmpl.data()) != nullptr ? tmpl : std::string();
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  std::string file(const char* name) const { return path_ + "/" + name; }

 private:
  std::string path_;
};

std::string slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

std::vector<std::string> records_of(const std::string& path) {
  std::vector<std::string> records;
  CHECK(xfast::test::read_records(slurp(path), &records));
  return records;
}

// Event.step (field 2) of a serialized Event: 0 when absent, as proto3 reads it. Only wall_time
// (field 1) can come before it.
int64_t step_of(const std::string& event) {
  std::size_t at = 0;
  while (at < event.size()) {
    const auto key = static_cast<uint8_t>(event[at++]);
    if (key == 0x09) {
      at += 8;
    } else if (key == 0x10) {
      uint64_t v = 0;
      for (int shift = 0; at < event.size(); shift += 7) {
        const auto b = static_cast<uint8_t>(event[at++]);
        v |= uint64_t{b & 0x7fu} << shift;
        if ((b & 0x80u) == 0) break;
      }
      return static_cast<int64_t>(v);
    } else {
      break;
    }
  }
  return 0;
}

Record scalar(uint32_t tag, int64_t step, double value) {
  return Record{RecordKind::kScalar, ScalarStyle::kSimpleValue, tag, step, 1.5, value, nullptr};
}

std::unique_ptr<EventWriter> open_writer(const std::string& path, const WriterOptions& opts = {},
                                         std::optional<int64_t> purge_step = std::nullopt) {
  Status st;
  auto w = EventWriter::open(path, 1.5, purge_step, opts, &st);
  CHECK(w != nullptr);
  CHECK(st.ok());
  return w;
}

off_t file_size(const std::string& path) {
  struct stat sb{};
  return ::stat(path.c_str(), &sb) == 0 ? sb.st_size : -1;
}

TEST(open_writes_first_record_synchronously) {
  TempDir dir;
  const std::string path = dir.file("a.tfevents");
  auto w = open_writer(path);
  CHECK(file_size(path) > 0);  // on disk before any flush
  std::string expected;
  xfast::append_file_version_event(expected, xfast::EventHeader{1.5, 0}, "xfast");
  CHECK_EQ(slurp(path), expected);
  CHECK(w->close().ok());
}

TEST(open_with_purge_step_writes_the_purge_pair) {
  TempDir dir;
  const std::string path = dir.file("p.tfevents");
  auto w = open_writer(path, {}, 42);
  const auto records = records_of(path);
  CHECK_EQ(records.size(), std::size_t{3});
  if (records.size() == 3) {
    CHECK_EQ(step_of(records[1]), int64_t{42});
    CHECK_EQ(step_of(records[2]), int64_t{42});
  }
  CHECK_EQ(w->stats().events_written, uint64_t{3});
  CHECK(w->close().ok());
}

TEST(open_refuses_an_existing_file) {
  TempDir dir;
  const std::string path = dir.file("x");
  std::ofstream(path) << "someone else's data";
  Status st;
  auto w = EventWriter::open(path, 1.5, std::nullopt, WriterOptions{}, &st);
  CHECK(w == nullptr);
  CHECK_EQ(st.err, EEXIST);
  CHECK_EQ(slurp(path), std::string("someone else's data"));
}

TEST(many_pushes_then_flush_parse_back_in_order) {
  TempDir dir;
  const std::string path = dir.file("m");
  WriterOptions opts;
  opts.ring_capacity = 256;  // small, so producers wait on a full ring
  auto w = open_writer(path, opts);
  constexpr int kProducers = 4;
  constexpr int64_t kPer = 5000;
  std::vector<uint32_t> tags;
  for (int p = 0; p < kProducers; ++p) tags.push_back(w->intern("tag" + std::to_string(p)));
  CHECK_EQ(w->intern("tag0"), tags[0]);
  std::vector<std::thread> threads;
  for (int p = 0; p < kProducers; ++p) {
    threads.emplace_back([&, p] {
      for (int64_t i = 0; i < kPer; ++i) {
        if (w->push_blocking(scalar(tags[static_cast<std::size_t>(p)], p * 1000000 + i, 0.5)) !=
            PushResult::kOk) {
          return;
        }
      }
    });
  }
  for (auto& t : threads) t.join();
  CHECK(w->flush(false).ok());
  const auto records = records_of(path);
  CHECK_EQ(records.size(), static_cast<std::size_t>(1 + kProducers * kPer));
  std::vector<int64_t> next(kProducers, 0);
  int out_of_order = 0;
  for (std::size_t i = 1; i < records.size(); ++i) {
    const int64_t step = step_of(records[i]);
    const auto p = static_cast<std::size_t>(step / 1000000);
    if (p >= next.size() || step % 1000000 != next[p]) {
      ++out_of_order;
      continue;
    }
    ++next[p];
  }
  CHECK_EQ(out_of_order, 0);
  const auto s = w->stats();
  CHECK_EQ(s.events_written, static_cast<uint64_t>(1 + kProducers * kPer));
  CHECK_EQ(s.bytes_written, static_cast<uint64_t>(file_size(path)));
  CHECK_EQ(s.dropped, uint64_t{0});
  CHECK_EQ(s.lost, uint64_t{0});
  CHECK_EQ(s.capacity, uint64_t{256});
  CHECK(s.high_water <= 256);
  CHECK(w->flush(true).ok());
  CHECK(w->close().ok());
}

TEST(payload_records_are_written_and_freed) {
  TempDir dir;
  const std::string path = dir.file("p");
  auto w = open_writer(path);
  const uint32_t tag = w->intern("t");
  auto* histo = new xfast::HistogramData{0, 2, 3, 3, 5, {1, 2}, {1, 2}};
  const std::string summary = xfast::test::from_hex("0a 08 0a 01 61 15 0000803f");
  const std::string raw = xfast::test::from_hex("09 000000000000f83f 10 09");
  CHECK(w->try_push(Record{RecordKind::kText, ScalarStyle::kSimpleValue, tag, 1, 1.5, 0.0,
                           new std::string("hello")}) == PushResult::kOk);
  CHECK(w->try_push(Record{RecordKind::kHistogram, ScalarStyle::kSimpleValue, tag, 2, 1.5, 0.0,
                           histo}) == PushResult::kOk);
  CHECK(w->try_push(Record{RecordKind::kSummary, ScalarStyle::kSimpleValue, 0, 3, 1.5, 0.0,
                           new std::string(summary)}) == PushResult::kOk);
  CHECK(w->try_push(Record{RecordKind::kRawEvent, ScalarStyle::kSimpleValue, 0, 0, 0.0, 0.0,
                           new std::string(raw)}) == PushResult::kOk);
  CHECK(w->try_push(Record{RecordKind::kScalar, ScalarStyle::kTensorDouble, tag, 4, 1.5, 0.25,
                           nullptr}) == PushResult::kOk);
  CHECK(w->close().ok());
  std::string expected;
  const xfast::EventHeader h{1.5, 0};
  xfast::append_file_version_event(expected, h, "xfast");
  xfast::append_text_event(expected, xfast::EventHeader{1.5, 1}, "t", "hello");
  xfast::append_histogram_event(expected, xfast::EventHeader{1.5, 2}, "t",
                                xfast::HistogramData{0, 2, 3, 3, 5, {1, 2}, {1, 2}});
  xfast::append_summary_event(expected, xfast::EventHeader{1.5, 3}, summary);
  xfast::append_raw_event(expected, raw);
  xfast::append_scalar_event(expected, xfast::EventHeader{1.5, 4}, "t", 0.25,
                             ScalarStyle::kTensorDouble);
  CHECK_EQ(slurp(path), expected);
}

// A written histogram payload comes back from histogram_payload() emptied (no limits, counts or
// moments of the event it carried) with its capacity, and the events written from reused
// payloads are those of fresh ones. The spares kept are bounded in bytes.
TEST(written_histogram_payloads_come_back_emptied) {
  TempDir dir;
  const std::string path = dir.file("h");
  auto w = open_writer(path);
  const uint32_t tag = w->intern("t");
  static const double shared[] = {0.5, 1.0, 2.0};
  const xfast::HistogramData events[] = {{1, 2, 8, 12, 20, {}, {0, 5, 3}},
                                         {-1, 1, 2, 0, 2, {0.0, 1.0}, {1, 1}},
                                         {3, 3, 1, 3, 9, {}, {0, 1}}};
  std::string expected;
  xfast::append_file_version_event(expected, xfast::EventHeader{1.5, 0}, "xfast");
  for (int step = 0; step < 3; ++step) {
    std::unique_ptr<xfast::HistogramData> h = w->histogram_payload();
    CHECK(h->bucket.empty() && h->bucket_limit.empty() && h->shared_limits == nullptr);
    CHECK(h->min == 0 && h->max == 0 && h->num == 0 && h->sum == 0 && h->sum_squares == 0);
    if (step > 0) CHECK(h->bucket.capacity() > 0);  // the last step's, written by now
    *h = events[step];
    if (step != 1) h->shared_limits = shared;
    xfast::append_histogram_event(expected, xfast::EventHeader{1.5, step}, "t", *h);
    CHECK(w->try_push(Record{RecordKind::kHistogram, ScalarStyle::kSimpleValue, tag, step, 1.5, 0.0,
                             h.release()}) == PushResult::kOk);
    CHECK(w->flush(false).ok());
  }
  // 300 payloads of 8 KiB come back; the spares stop at 1 MiB and the rest are freed.
  for (int i = 0; i < 300; ++i) {
    std::unique_ptr<xfast::HistogramData> h = w->histogram_payload();
    h->bucket.assign(1024, 1.0);
    h->num = 1024;
    xfast::append_histogram_event(expected, xfast::EventHeader{1.5, 3}, "t", *h);
    CHECK(w->try_push(Record{RecordKind::kHistogram, ScalarStyle::kSimpleValue, tag, 3, 1.5, 0.0,
                             h.release()}) == PushResult::kOk);
  }
  CHECK(w->flush(false).ok());
  std::vector<std::unique_ptr<xfast::HistogramData>> taken;
  while (true) {
    taken.push_back(w->histogram_payload());
    if (taken.back()->bucket.capacity() == 0) break;  // a new one: no spare left
  }
  CHECK(taken.size() > 100 && taken.size() < 130);  // 1 MiB / ~8.3 KiB
  CHECK(w->close().ok());
  CHECK_EQ(slurp(path), expected);
}

TEST(close_is_idempotent_and_later_pushes_are_refused) {
  TempDir dir;
  const std::string path = dir.file("c");
  auto w = open_writer(path);
  const uint32_t tag = w->intern("x");
  CHECK(w->try_push(scalar(tag, 1, 1.0)) == PushResult::kOk);
  CHECK(!w->closed());
  CHECK(w->close().ok());
  CHECK(w->closed());
  CHECK(w->close().ok());
  CHECK(w->try_push(scalar(tag, 2, 1.0)) == PushResult::kClosed);
  CHECK(w->push_blocking(scalar(tag, 3, 1.0)) == PushResult::kClosed);
  CHECK(w->flush(false).ok());
  CHECK_EQ(records_of(path).size(), std::size_t{2});  // the record pushed before close is kept
}

TEST(destructor_closes_and_drains) {
  TempDir dir;
  const std::string path = dir.file("d");
  {
    auto w = open_writer(path);
    const uint32_t tag = w->intern("x");
    for (int64_t i = 0; i < 100; ++i)
      CHECK(w->push_blocking(scalar(tag, i, 1.0)) == PushResult::kOk);
  }
  CHECK_EQ(records_of(path).size(), std::size_t{101});
}

TEST(drop_mode_counts_drops_exactly) {
  TempDir dir;
  const std::string path = dir.file("drop");
  WriterOptions opts;
  opts.ring_capacity = 4;
  opts.drop_when_full = true;
  auto w = open_writer(path, opts);
  CHECK(w->drop_when_full());
  const uint32_t tag = w->intern("t");
  uint64_t accepted = 0;
  uint64_t dropped = 0;
  // Text records carry a heap payload: a dropped one must be freed (LeakSanitizer checks).
  for (int64_t i = 0; (i < 2000 || dropped == 0) && i < 2000000; ++i) {
    Record r{RecordKind::kText,         ScalarStyle::kSimpleValue, tag, i, 1.5, 0.0,
             new std::string("payload")};
    if (w->try_push(r) == PushResult::kOk) {
      ++accepted;
    } else {
      w->drop(r);
      CHECK(r.payload == nullptr);
      ++dropped;
    }
  }
  CHECK(dropped > 0);
  CHECK(w->flush(false).ok());
  const auto s = w->stats();
  CHECK_EQ(s.dropped, dropped);
  CHECK_EQ(s.events_written, 1 + accepted);
  CHECK_EQ(records_of(path).size(), static_cast<std::size_t>(1 + accepted));
  CHECK(w->close().ok());
}

// Makes writes to regular files past `limit` bytes fail with EFBIG (SIGXFSZ ignored) for the
// scope's lifetime; the simplest way to give a real descriptor a real write error.
class FileSizeLimit {
 public:
  explicit FileSizeLimit(off_t limit) {
    getrlimit(RLIMIT_FSIZE, &saved_);
    old_handler_ = signal(SIGXFSZ, SIG_IGN);
    rlimit lim = saved_;
    lim.rlim_cur = static_cast<rlim_t>(limit);
    CHECK_EQ(setrlimit(RLIMIT_FSIZE, &lim), 0);
  }
  ~FileSizeLimit() {
    setrlimit(RLIMIT_FSIZE, &saved_);
    signal(SIGXFSZ, old_handler_);
  }

 private:
  rlimit saved_{};
  void (*old_handler_)(int) = nullptr;
};

TEST(write_error_is_latched_reported_once_with_the_lost_count) {
  TempDir dir;
  const std::string path = dir.file("full");
  auto w = open_writer(path);
  const uint32_t tag = w->intern("t");
  {
    FileSizeLimit limit(file_size(path));  // not one more byte fits
    for (int64_t i = 0; i < 100; ++i)
      CHECK(w->push_blocking(scalar(tag, i, 1.0)) == PushResult::kOk);
    const Status st = w->flush(false);
    CHECK_EQ(st.err, EFBIG);
    CHECK(st.message.find("100 event(s) lost") != std::string::npos);
    CHECK_EQ(w->stats().lost, uint64_t{100});
    CHECK(w->flush(false).ok());  // reported once
    CHECK(!w->has_error());
  }
  // The writer keeps going once the disk takes data again.
  for (int64_t i = 100; i < 105; ++i)
    CHECK(w->push_blocking(scalar(tag, i, 1.0)) == PushResult::kOk);
  CHECK(w->close().ok());
  const auto records = records_of(path);
  CHECK_EQ(records.size(), std::size_t{6});
  if (records.size() == 6) CHECK_EQ(step_of(records[1]), int64_t{100});
}

TEST(partial_write_is_cut_back_to_a_record_boundary) {
  TempDir dir;
  const std::string path = dir.file("partial");
  auto w = open_writer(path);
  const uint32_t tag = w->intern("t");
  Status st;
  {
    FileSizeLimit limit(file_size(path) + 100);  // room for two 44-byte records and a fragment
    for (int64_t i = 0; i < 50; ++i)
      CHECK(w->push_blocking(scalar(tag, i, 1.0)) == PushResult::kOk);
    st = w->flush(false);
  }
  CHECK_EQ(st.err, EFBIG);
  const auto s = w->stats();
  const auto records = records_of(path);  // parses cleanly: no torn record left behind
  CHECK_EQ(records.size(), static_cast<std::size_t>(s.events_written));
  CHECK_EQ(s.events_written - 1 + s.lost, uint64_t{50});
  CHECK(s.events_written <= 3);
  CHECK(w->close().ok());
}

// A kPending record for `slot`, as the bindings push one for a media call.
Record pending(xfast::PendingSummary* slot, int64_t step) {
  return Record{RecordKind::kPending, ScalarStyle::kSimpleValue, 0, step, 1.5, 0.0, slot};
}

TEST(pending_records_keep_their_place_however_late_they_are_settled) {
  TempDir dir;
  const std::string path = dir.file("pending");
  WriterOptions opts;
  opts.ring_capacity = 8;  // later pushes wait on the unsettled head: backpressure, no loss
  auto w = open_writer(path, opts);
  const uint32_t tag = w->intern("t");
  auto* a = xfast::PendingSummary::create();
  auto* b = xfast::PendingSummary::create();
  const std::string summary_a = xfast::test::from_hex("0a 03 0a 01 61");
  const std::string summary_b = xfast::test::from_hex("0a 03 0a 01 62");
  CHECK(w->push_blocking(scalar(tag, 0, 1.0)) == PushResult::kOk);
  CHECK(w->push_blocking(pending(a, 1)) == PushResult::kOk);
  CHECK(w->push_blocking(scalar(tag, 2, 1.0)) == PushResult::kOk);
  CHECK(w->push_blocking(pending(b, 3)) == PushResult::kOk);
  // b settles first, a only once 20 more scalars wait behind it (more than the ring holds).
  std::thread encoder([&] {
    std::string sb = summary_b;
    w->settle(b, &sb);
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    std::string sa = summary_a;
    w->settle(a, &sa);
  });
  for (int64_t i = 4; i < 24; ++i) CHECK(w->push_blocking(scalar(tag, i, 1.0)) == PushResult::kOk);
  CHECK(w->flush(false).ok());
  encoder.join();
  std::string expected;
  xfast::append_file_version_event(expected, xfast::EventHeader{1.5, 0}, "xfast");
  xfast::append_scalar_event(expected, xfast::EventHeader{1.5, 0}, "t", 1.0,
                             ScalarStyle::kSimpleValue);
  xfast::append_summary_event(expected, xfast::EventHeader{1.5, 1}, summary_a);
  xfast::append_scalar_event(expected, xfast::EventHeader{1.5, 2}, "t", 1.0,
                             ScalarStyle::kSimpleValue);
  xfast::append_summary_event(expected, xfast::EventHeader{1.5, 3}, summary_b);
  for (int64_t i = 4; i < 24; ++i) {
    xfast::append_scalar_event(expected, xfast::EventHeader{1.5, i}, "t", 1.0,
                               ScalarStyle::kSimpleValue);
  }
  CHECK_EQ(slurp(path), expected);
  CHECK(w->close().ok());
}

TEST(a_failed_pending_record_is_skipped_and_nothing_else_is_lost) {
  TempDir dir;
  const std::string path = dir.file("failed");
  auto w = open_writer(path);
  const uint32_t tag = w->intern("t");
  auto* slot = xfast::PendingSummary::create();
  CHECK(w->try_push(pending(slot, 1)) == PushResult::kOk);
  CHECK(w->try_push(scalar(tag, 2, 1.0)) == PushResult::kOk);
  std::thread encoder([&] { w->settle(slot, nullptr); });
  CHECK(w->close().ok());  // waits for the slot, then writes what follows it
  encoder.join();
  const auto records = records_of(path);
  CHECK_EQ(records.size(), std::size_t{2});
  if (records.size() == 2) CHECK_EQ(step_of(records[1]), int64_t{2});
  const auto s = w->stats();
  CHECK_EQ(s.events_written, uint64_t{2});
  CHECK_EQ(s.lost, uint64_t{0});
}

TEST(close_waits_for_a_pending_record_settled_later) {
  TempDir dir;
  const std::string path = dir.file("close_pending");
  auto w = open_writer(path);
  auto* slot = xfast::PendingSummary::create();
  CHECK(w->try_push(pending(slot, 7)) == PushResult::kOk);
  std::thread encoder([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(30));
    std::string s = xfast::test::from_hex("0a 03 0a 01 61");
    w->settle(slot, &s);
  });
  CHECK(w->close().ok());
  encoder.join();
  const auto records = records_of(path);
  CHECK_EQ(records.size(), std::size_t{2});
  if (records.size() == 2) CHECK_EQ(step_of(records[1]), int64_t{7});
}

TEST(pending_records_refused_or_dropped_release_the_writer_side_reference) {
  TempDir dir;
  WriterOptions opts;
  opts.ring_capacity = 2;
  opts.drop_when_full = true;
  auto w = open_writer(dir.file("refused"), opts);
  auto* head = xfast::PendingSummary::create();
  CHECK(w->try_push(pending(head, 0)) == PushResult::kOk);  // never settled until the end
  int dropped = 0;
  for (int i = 0; i < 8; ++i) {
    auto* slot = xfast::PendingSummary::create();
    Record r = pending(slot, i + 1);
    if (w->try_push(r) == PushResult::kFull) {
      w->drop(r);  // releases the record's reference
      ++dropped;
    }
    w->settle(slot, nullptr);  // the encoder's reference; LeakSanitizer checks both are freed
  }
  CHECK(dropped > 0);
  w->settle(head, nullptr);
  CHECK(w->close().ok());
  auto* late = xfast::PendingSummary::create();
  Record r = pending(late, 99);
  CHECK(w->try_push(r) == PushResult::kClosed);
  xfast::free_record_payload(r);
  w->settle(late, nullptr);
}

}  // namespace
