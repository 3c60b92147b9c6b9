// SPDX-License-Identifier: Apache-2.0
// EventWriter: one event file, fed through a bounded MPSC ring to one writer thread.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "event_encode.h"
#include "mpsc_ring.h"
#include "pending_summary.h"

namespace xfast {

// The result of a fallible call. err is an errno value (0 when the failure has none).
struct Status {
  int err = 0;
  std::string message;
  bool ok() const { return err == 0 && message.empty(); }
};

struct WriterOptions {
  // Ring slots (64 bytes each), rounded up to a power of two. 16384 slots = 1 MiB buffers ~8 ms of
  // a 2M events/s storm, while the writer thread wakes at a quarter full.
  std::size_t ring_capacity = 16384;
  // When the ring is full: false = the producer waits (nothing lost); true = the record is
  // dropped and counted in Stats::dropped.
  bool drop_when_full = false;
  // Longest time an idle writer thread sleeps before looking at the ring again: the bound on how
  // long an event can sit in memory before it reaches the OS (besides the quarter-full wake-up).
  double max_latency_s = 0.05;
  // SourceMetadata.writer of the file's first record.
  std::string source_writer = "xfast";
  // Read by the bindings only: report the writer thread's I/O errors as Python warnings instead
  // of exceptions (SummaryWriter's on_error="warn").
  bool warn_on_error = false;
  // Test hook: the writer thread sleeps this long before each batch write(), simulating a slow
  // disk (the first records, written by open(), are not delayed). open() takes it from the
  // environment variable XFAST_TEST_WRITE_DELAY_US when 0; it costs one branch per batch.
  uint32_t test_write_delay_us = 0;
};

// What a record asks the writer thread to do. Payload ownership (see Record::payload) passes
// with the record.
enum class RecordKind : uint8_t {
  kScalar,     // value, style
  kHistogram,  // payload: HistogramData*
  kText,       // payload: std::string* (UTF-8)
  kSummary,    // payload: std::string* (a serialized Summary)
  kRawEvent,   // payload: std::string* (a serialized Event; step and wall_time unused)
  kFlush,      // payload: FlushTicket*; style != 0 asks for fsync
  kPending,    // payload: PendingSummary* (the record's reference); a Summary settled later
};

// One ring slot's worth of work (48 bytes; the ring pads cells to a cache line).
struct Record {
  RecordKind kind;
  ScalarStyle style;
  uint32_t tag;  // from EventWriter::intern
  int64_t step;
  double wall_time;
  double value;
  void* payload;
};

// Frees the payload a record owns (used when a record is dropped instead of written).
void free_record_payload(Record& r);

struct WriterStats {
  uint64_t events_written = 0;  // records on disk, the file's first records included
  uint64_t bytes_written = 0;
  uint64_t dropped = 0;         // records refused because the ring was full (drop mode)
  uint64_t lost = 0;            // records discarded after an I/O error
  uint64_t high_water = 0;      // largest backlog the writer thread has seen, in records
  uint64_t capacity = 0;
};

// Seconds since the epoch from the system clock (what time.time() returns).
double wall_clock_now();

// EventWriter
//
// Owns one event file and the thread that writes it. open() creates the file, writes the first
// record(s) and returns only once they reached the OS; records pushed afterwards are encoded,
// framed, CRC'ed and written by the writer thread, in ring order, batched per wake-up. A
// kPending record (a media event encoded elsewhere) keeps its place: the writer thread waits
// for it to be settled before it writes anything behind it (docs/ordering.md).
//
// A deleted file (or log directory) is noticed at the next flush or close, or within about a
// second while events are written: Linux lets writes to an unlinked file succeed, so without
// the check every later event would vanish silently. The loss is latched as an ENOENT error
// (counting the events the deleted file held) and the file is created again at the same path,
// with a new first record; TF's EventsWriter re-opens a deleted file the same way.
//
// Threads: push/try_push/intern/flush/close/stats may be called from any thread. flush and
// close wait and must be called without the GIL held. After fork(), the child must call
// abandon_after_fork() before anything else (the writer thread does not exist there).
class EventWriter {
 public:
  // Creates `path` (failing if it exists), writes Event{file_version, source_metadata} and, when
  // purge_step is set, the file_version + SessionLog START pair torch writes for purge_step.
  // Returns nullptr and fills *status when the file cannot be created or written.
  static std::unique_ptr<EventWriter> open(const std::string& path, double wall_time,
                                           std::optional<int64_t> purge_step,
                                           const WriterOptions& options, Status* status);
  ~EventWriter();  // closes if still open; never throws; errors are dropped (call close() first)

  EventWriter(const EventWriter&) = delete;
  EventWriter& operator=(const EventWriter&) = delete;

  // Returns the id of `tag`, registering it on first use. Any thread; takes a mutex only for a
  // new tag. Tags are never forgotten while the writer lives.
  uint32_t intern(std::string_view tag);
  // Any thread: whether `id` was returned by intern() on this writer.
  bool valid_tag(uint32_t id) const;

  enum class PushResult { kOk, kFull, kClosed };
  // Any thread. Never blocks. On kFull or kClosed the record (and its payload) stays with the
  // caller. Cost: one ring push (~20 ns uncontended).
  PushResult try_push(const Record& r);
  // Any thread; call without the GIL. Waits for space; returns kClosed if the writer closes
  // while waiting (the record stays with the caller).
  PushResult push_blocking(const Record& r);
  // Drop-mode bookkeeping for a record try_push refused: frees its payload and counts it.
  void drop(Record& r);

  // An empty histogram payload to fill and push: one this writer's thread has written and
  // handed back (its vectors keep their capacity), or a new one. Any thread. Why: a small
  // histogram's two allocations (the payload and its counts) were freed on the writer thread,
  // so none came back through the caller's per-thread malloc cache: each went through the
  // arena, ~10 % of the native time of add_histograms on a model's small tensors (perf).
  std::unique_ptr<HistogramData> histogram_payload();

  bool drop_when_full() const { return options_.drop_when_full; }

  // Settles a kPending record's slot (see pending_summary.h) with `summary`, or as failed when
  // `summary` is null, wakes the writer thread in case it waits for this slot, and drops the
  // caller's reference (the slot must not be used afterwards). Any thread; never blocks beyond
  // a short mutex hold. While a pending record is unsettled the writer thread writes nothing
  // behind it: records pushed later queue up in the ring (on_full applies when it fills), and
  // flush()/close() wait for it. In a forked child it only drops the reference.
  void settle(PendingSummary* slot, std::string* summary);

  // Barrier: returns once every record pushed before the call is written to the OS (and
  // fsync'ed when asked). Returns the latched I/O error, if any, and clears it.
  Status flush(bool fsync);
  // Drains, writes, stops the thread and closes the file. Idempotent. Returns the latched I/O
  // error, if any. With timeout_s >= 0 it waits at most that long for the writer thread (a
  // stuck disk must not hang interpreter exit): on timeout it returns ETIMEDOUT, leaves the
  // thread running detached, and the object is abandoned (the caller must never destroy it).
  Status close(double timeout_s = -1.0);
  bool closed() const { return closing_.load(std::memory_order_acquire); }
  // True once close() timed out or abandon_after_fork() ran: the object must be leaked.
  bool abandoned() const { return abandoned_; }
  bool warn_on_error() const { return options_.warn_on_error; }

  // Cheap check for the hot path: true when an I/O error is waiting to be reported.
  bool has_error() const { return has_error_.load(std::memory_order_relaxed); }
  // Returns and clears the latched error (ok() when there is none).
  Status take_error();

  WriterStats stats() const;
  const std::string& path() const { return path_; }

  // In a forked child: forget the (nonexistent) writer thread and close this process's copy of
  // the file descriptor, without touching mutexes the parent's threads may have held at fork.
  // Later pushes return kClosed. The state the parent's threads owned is leaked on purpose.
  void abandon_after_fork();

 private:
  struct FlushTicket;
  class TagTable;

  EventWriter(std::string path, int fd, const WriterOptions& options);
  void run();
  void handle(Record& r);
  void write_out();
  void check_file_exists();
  void recreate_file();
  void latch_error(int err, const std::string& what, uint64_t lost);
  void wake_writer();
  void sleep_until_work();
  void notify_space();
  void wait_settled(const PendingSummary& slot);
  void recycle(HistogramData* h);
  void give_back_payloads();
  PushResult push_marker(const Record& r);

  const std::string path_;
  int fd_;
  const WriterOptions options_;
  MpscRing<Record> ring_;
  const uint64_t wake_mask_;  // producers wake a sleeping writer at each quarter of the ring
  std::unique_ptr<TagTable> tags_;

  // Producer-side state.
  std::atomic<bool> closing_{false};
  std::atomic<uint32_t> pushers_{0};  // producers between their closing_ check and their push
  std::atomic<uint64_t> dropped_{0};

  // Writer-thread state (read by stats() through atomics).
  std::string buf_;
  uint64_t buf_records_ = 0;
  uint64_t good_offset_ = 0;  // file size up to the last complete record written
  std::atomic<uint64_t> events_written_{0};
  std::atomic<uint64_t> bytes_written_{0};
  std::atomic<uint64_t> lost_{0};
  std::atomic<uint64_t> high_water_{0};
  uint64_t file_events_ = 0;  // records in the current file (it is recreated if deleted)
  std::chrono::steady_clock::time_point next_exists_check_{};

  // Sleep/wake protocol between producers and the writer thread.
  std::mutex mu_;
  std::condition_variable work_cv_;   // writer waits here when the ring is empty
  std::condition_variable space_cv_;  // blocked producers and flush waiters wait here
  std::atomic<bool> writer_sleeping_{false};
  std::atomic<uint32_t> space_waiters_{0};

  // First I/O error from the writer thread, reported once at the next call.
  std::mutex err_mu_;
  Status error_;
  uint64_t error_lost_reported_ = 0;
  std::atomic<bool> has_error_{false};

  std::thread thread_;
  bool joined_ = false;  // guarded by close_mu_
  std::mutex close_mu_;
  bool abandoned_ = false;
  // Set by abandon_after_fork: settle() must not take mu_, which a parent's thread may have
  // held at fork.
  std::atomic<bool> forked_away_{false};
  uint32_t write_delay_us_ = 0;  // the test hook; set before the writer thread starts

  // Written histogram payloads: those of the writer thread's current batch, then those waiting
  // for histogram_payload(), their vectors' capacity at most kSpareHistogramBytes in all.
  std::vector<std::unique_ptr<HistogramData>> written_payloads_;  // writer thread only
  std::mutex spare_mu_;
  std::vector<std::unique_ptr<HistogramData>> spare_;  // guarded by spare_mu_
  std::size_t spare_bytes_ = 0;                         // guarded by spare_mu_
};

}  // namespace xfast
