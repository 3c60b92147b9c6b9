// SPDX-License-Identifier: Apache-2.0
// EventWriter: ring producers, the writer thread's batch loop, the flush barrier and error latch.
#include "event_writer.h"

#include <fcntl.h>
#include <pthread.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <deque>
#include <unordered_map>
#include <utility>
#include <vector>

#include "platform.h"

namespace xfast {

namespace {

// The writer thread hands a batch to write() once it holds this many bytes even if the ring is
// not yet empty: large enough that a scalar storm costs one syscall per ~20k events (44 B each),
// small enough to stay in L2 while it is built.
constexpr std::size_t kWriteThreshold = 1 << 20;

// The spare histogram payloads a writer keeps (see histogram_payload): enough for a model-wide
// call's ~200 small histograms (~4 KiB of counts each) to come back between two calls.
constexpr std::size_t kSpareHistogramBytes = 1 << 20;

std::size_t payload_bytes(const HistogramData& h) {
  return sizeof(HistogramData) + (h.bucket.capacity() + h.bucket_limit.capacity()) * sizeof(double);
}

// XFAST_TEST_WRITE_DELAY_US, read at each open(): the slow-disk test hook (0 when unset).
uint32_t test_write_delay_from_env() {
  const char* v = std::getenv("XFAST_TEST_WRITE_DELAY_US");
  if (v == nullptr) return 0;
  const long us = std::strtol(v, nullptr, 10);
  return us > 0 ? static_cast<uint32_t>(us) : 0;
}

std::string errno_message(int err) {
  char buf[256];
  // GNU strerror_r may return a static string instead of filling buf.
  const char* s = strerror_r(err, buf, sizeof(buf));
  return std::string(s);
}

}  // namespace

double wall_clock_now() {
  const auto now = std::chrono::system_clock::now().time_since_epoch();
  return std::chrono::duration<double>(now).count();
}

void free_record_payload(Record& r) {
  switch (r.kind) {
    case RecordKind::kHistogram:
      delete static_cast<HistogramData*>(r.payload);
      break;
    case RecordKind::kText:
    case RecordKind::kSummary:
    case RecordKind::kRawEvent:
      delete static_cast<std::string*>(r.payload);
      break;
    case RecordKind::kPending:
      static_cast<PendingSummary*>(r.payload)->release();
      break;
    case RecordKind::kScalar:
    case RecordKind::kFlush:  // tickets live on the waiter's stack
      break;
  }
  r.payload = nullptr;
}

// A waiter's flush request; the writer thread fills it in and signals space_cv_.
struct EventWriter::FlushTicket {
  bool done = false;
  bool stop = false;  // close(): the writer thread exits after this ticket
};

// Tag strings by id in fixed chunks that never move, so the writer thread can read entry i while
// another thread appends entry j. The ring's release/acquire pair orders an entry's write before
// any record that names it.
class EventWriter::TagTable {
 public:
  uint32_t intern(std::string_view tag) {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = ids_.find(std::string(tag));
    if (it != ids_.end()) return it->second;
    const auto id = static_cast<uint32_t>(tags_.size());
    tags_.emplace_back(tag);
    ids_.emplace(std::string(tag), id);
    size_.store(id + 1, std::memory_order_release);
    return id;
  }
  // Any thread: whether `id` names a registered tag.
  bool valid(uint32_t id) const { return id < size_.load(std::memory_order_acquire); }
  // Writer thread. std::deque never moves existing elements on emplace_back, and the ring's
  // acquire made this entry's construction visible.
  std::string_view get(uint32_t id) const { return tags_[id]; }

 private:
  std::atomic<uint32_t> size_{0};
  std::mutex mu_;
  std::deque<std::string> tags_;
  std::unordered_map<std::string, uint32_t> ids_;
};

std::unique_ptr<EventWriter> EventWriter::open(const std::string& path, double wall_time,
                                               std::optional<int64_t> purge_step,
                                               const WriterOptions& given, Status* status) {
  WriterOptions options = given;
  if (options.test_write_delay_us == 0) options.test_write_delay_us = test_write_delay_from_env();
  // O_EXCL: names carry a process-wide counter, so an existing file means someone else's data,
  // which must never be truncated (tensorboardX's same-second name clash).
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_APPEND | O_CLOEXEC, 0666);
  if (fd < 0) {
    const int err = errno;
    *status = Status{err, errno_message(err) + ": '" + path + "'"};
    return nullptr;
  }
  std::unique_ptr<EventWriter> w(new EventWriter(path, fd, options));
  append_file_version_event(w->buf_, EventHeader{wall_time, 0}, options.source_writer);
  w->buf_records_ = 1;
  if (purge_step.has_value()) {
    append_file_version_event(w->buf_, EventHeader{wall_time, *purge_step}, "");
    append_session_start_event(w->buf_, EventHeader{wall_time, *purge_step});
    w->buf_records_ += 2;
  }
  // Written before the thread starts: the file holds its first record when the constructor
  // returns, as torch's does.
  w->write_out();
  if (w->has_error()) {
    *status = w->take_error();
    w->closing_.store(true);
    ::close(w->fd_);
    w->fd_ = -1;
    w->joined_ = true;
    return nullptr;
  }
  w->write_delay_us_ = options.test_write_delay_us;
  w->thread_ = std::thread([raw = w.get()] { raw->run(); });
  return w;
}

EventWriter::EventWriter(std::string path, int fd, const WriterOptions& options)
    : path_(std::move(path)),
      fd_(fd),
      options_(options),
      ring_(options.ring_capacity),
      wake_mask_(ring_.capacity() / 4 - 1),
      tags_(new TagTable()) {
  buf_.reserve(kWriteThreshold + 4096);
}

EventWriter::~EventWriter() {
  if (abandoned_) return;
  close();
}

uint32_t EventWriter::intern(std::string_view tag) { return tags_->intern(tag); }

bool EventWriter::valid_tag(uint32_t id) const { return tags_->valid(id); }

EventWriter::PushResult EventWriter::try_push(const Record& r) {
  // pushers_ lets close() wait until no producer is between this check and its push, so no
  // record can land in the ring after the writer thread's final drain.
  pushers_.fetch_add(1, std::memory_order_seq_cst);
  if (closing_.load(std::memory_order_seq_cst)) {
    pushers_.fetch_sub(1, std::memory_order_release);
    return PushResult::kClosed;
  }
  uint64_t pos = 0;
  const bool ok = ring_.try_push(r, &pos);
  // release: pairs with close()'s acquire load, ordering this push before its final drain.
  pushers_.fetch_sub(1, std::memory_order_release);
  if (!ok) return PushResult::kFull;
  if ((pos & wake_mask_) == 0 && writer_sleeping_.load(std::memory_order_relaxed)) wake_writer();
  return PushResult::kOk;
}

EventWriter::PushResult EventWriter::push_blocking(const Record& r) {
  for (int spin = 0;; ++spin) {
    const PushResult res = try_push(r);
    if (res != PushResult::kFull) return res;
    wake_writer();
    if (spin < 16) {
      std::this_thread::yield();
      continue;
    }
    std::unique_lock<std::mutex> lock(mu_);
    space_waiters_.fetch_add(1, std::memory_order_seq_cst);
    // Bounded wait: the writer notifies after each batch, and the timeout covers a notify that
    // raced with this thread's registration.
    space_cv_.wait_for(lock, std::chrono::milliseconds(1));
    space_waiters_.fetch_sub(1, std::memory_order_relaxed);
  }
}

void EventWriter::drop(Record& r) {
  free_record_payload(r);
  dropped_.fetch_add(1, std::memory_order_relaxed);
}

void EventWriter::settle(PendingSummary* slot, std::string* summary) {
  if (summary != nullptr) {
    slot->fill(std::move(*summary));
  } else {
    slot->fail();
  }
  // relaxed: set in the child by the only thread there, before any settle it affects.
  if (!forked_away_.load(std::memory_order_relaxed)) {
    // Taking mu_ after the state store closes the race with wait_settled's check (under mu_).
    std::lock_guard<std::mutex> lock(mu_);
    work_cv_.notify_one();
  }
  slot->release();
}

void EventWriter::wait_settled(const PendingSummary& slot) {
  std::unique_lock<std::mutex> lock(mu_);
  work_cv_.wait(lock, [&] { return slot.settled(); });
}

void EventWriter::wake_writer() {
  std::lock_guard<std::mutex> lock(mu_);
  work_cv_.notify_one();
}

void EventWriter::notify_space() {
  if (space_waiters_.load(std::memory_order_seq_cst) == 0) return;
  std::lock_guard<std::mutex> lock(mu_);
  space_cv_.notify_all();
}

EventWriter::PushResult EventWriter::push_marker(const Record& r) {
  const PushResult res = push_blocking(r);
  if (res == PushResult::kOk) wake_writer();
  return res;
}

Status EventWriter::flush(bool fsync) {
  FlushTicket ticket;
  Record r{RecordKind::kFlush, static_cast<ScalarStyle>(fsync ? 1 : 0), 0, 0, 0.0, 0.0, &ticket};
  if (push_marker(r) == PushResult::kOk) {
    std::unique_lock<std::mutex> lock(mu_);
    space_cv_.wait(lock, [&] { return ticket.done; });
  }
  return take_error();
}

Status EventWriter::close(double timeout_s) {
  std::lock_guard<std::mutex> close_lock(close_mu_);
  if (joined_) return take_error();
  using Clock = std::chrono::steady_clock;
  const bool bounded = timeout_s >= 0;
  const auto deadline =
      Clock::now() + std::chrono::duration_cast<Clock::duration>(
                         std::chrono::duration<double>(bounded ? timeout_s : 0.0));
  // The stop ticket is the last record: closing_ refuses new pushes, and waiting for pushers_
  // to reach zero lets every producer that passed its check finish its push first (each is
  // inside a non-blocking try_push, so this wait is short).
  closing_.store(true, std::memory_order_seq_cst);
  while (pushers_.load(std::memory_order_acquire) != 0) std::this_thread::yield();
  // On the heap: after a timeout the writer thread may still reach it once this call returned.
  auto* ticket = new FlushTicket();
  ticket->stop = true;
  Record r{RecordKind::kFlush, ScalarStyle::kSimpleValue, 0, 0, 0.0, 0.0, ticket};
  // The ring may be full; push directly (try_push refuses once closing_ is set).
  bool pushed = false;
  while (!(pushed = ring_.try_push(r)) && !(bounded && Clock::now() >= deadline)) {
    wake_writer();
    std::this_thread::yield();
  }
  wake_writer();
  bool done = true;
  if (pushed) {
    std::unique_lock<std::mutex> lock(mu_);
    const auto is_done = [&] { return ticket->done; };
    if (bounded) {
      done = space_cv_.wait_until(lock, deadline, is_done);
    } else {
      space_cv_.wait(lock, is_done);
    }
  }
  if (!pushed || !done) {
    // The writer thread is stuck (a hung disk). Leave it running on this object, which the
    // caller must now leak, and report what may not have reached the file.
    thread_.detach();
    abandoned_ = true;
    joined_ = true;
    return Status{ETIMEDOUT, "close timed out after " + std::to_string(timeout_s) + " s on '" +
                                 path_ + "': events still queued may not have been written"};
  }
  delete ticket;
  thread_.join();
  joined_ = true;
  if (::close(fd_) != 0) latch_error(errno, "close failed", 0);
  fd_ = -1;
  return take_error();
}

void EventWriter::abandon_after_fork() {
  abandoned_ = true;
  forked_away_.store(true, std::memory_order_relaxed);
  closing_.store(true, std::memory_order_seq_cst);
  // The child owns a copy of the descriptor; the parent's stays open and keeps writing.
  if (fd_ >= 0) ::close(fd_);
  fd_ = -1;
  // The std::thread names a thread that does not exist here: release it without joining.
  thread_.detach();
}

std::unique_ptr<HistogramData> EventWriter::histogram_payload() {
  // try_lock: a caller never waits for the writer thread handing payloads back; it allocates
  // instead. In a forked child spare_mu_ may have been held by the parent's writer thread at
  // fork.
  if (!forked_away_.load(std::memory_order_relaxed)) {
    std::unique_lock<std::mutex> lock(spare_mu_, std::try_to_lock);
    if (lock.owns_lock() && !spare_.empty()) {
      std::unique_ptr<HistogramData> h = std::move(spare_.back());
      spare_.pop_back();
      spare_bytes_ -= payload_bytes(*h);
      return h;
    }
  }
  return std::make_unique<HistogramData>();
}

// Writer thread: empties a written payload and keeps it for give_back_payloads().
void EventWriter::recycle(HistogramData* h) {
  std::unique_ptr<HistogramData> owned(h);
  owned->bucket.clear();
  owned->bucket_limit.clear();
  owned->shared_limits = nullptr;
  owned->min = owned->max = owned->num = owned->sum = owned->sum_squares = 0;
  written_payloads_.push_back(std::move(owned));
}

// Writer thread: hands the payloads written since the last call to histogram_payload(), under
// one lock a batch rather than one an event (a model-wide call's ~200 events would otherwise
// contend with the caller taking them), and frees those beyond kSpareHistogramBytes.
void EventWriter::give_back_payloads() {
  if (written_payloads_.empty()) return;
  {
    std::lock_guard<std::mutex> lock(spare_mu_);
    for (std::unique_ptr<HistogramData>& h : written_payloads_) {
      const std::size_t bytes = payload_bytes(*h);
      if (spare_bytes_ + bytes > kSpareHistogramBytes) break;
      spare_bytes_ += bytes;
      spare_.push_back(std::move(h));
    }
  }
  written_payloads_.clear();  // frees the ones that did not fit, outside the lock
}

Status EventWriter::take_error() {
  if (!has_error_.load(std::memory_order_acquire)) return Status{};
  std::lock_guard<std::mutex> lock(err_mu_);
  Status s = error_;
  const uint64_t lost = lost_.load(std::memory_order_relaxed);
  s.message += " (" + std::to_string(lost - error_lost_reported_) +
               " event(s) lost; the writer keeps going)";
  error_lost_reported_ = lost;
  error_ = Status{};
  has_error_.store(false, std::memory_order_release);
  return s;
}

void EventWriter::latch_error(int err, const std::string& what, uint64_t lost) {
  lost_.fetch_add(lost, std::memory_order_relaxed);
  std::lock_guard<std::mutex> lock(err_mu_);
  if (error_.ok()) error_ = Status{err, what + " on '" + path_ + "': " + errno_message(err)};
  // release: pairs with take_error's acquire, publishing error_ and lost_.
  has_error_.store(true, std::memory_order_release);
}

WriterStats EventWriter::stats() const {
  WriterStats s;
  s.events_written = events_written_.load(std::memory_order_relaxed);
  s.bytes_written = bytes_written_.load(std::memory_order_relaxed);
  s.dropped = dropped_.load(std::memory_order_relaxed);
  s.lost = lost_.load(std::memory_order_relaxed);
  s.high_water = high_water_.load(std::memory_order_relaxed);
  s.capacity = ring_.capacity();
  return s;
}

void EventWriter::check_file_exists() {
  next_exists_check_ = std::chrono::steady_clock::now() + std::chrono::seconds(1);
  struct stat st;
  if (fd_ < 0 || ::fstat(fd_, &st) != 0 || st.st_nlink != 0) return;
  latch_error(ENOENT, "event file was deleted and is created again", file_events_);
  recreate_file();
}

void EventWriter::recreate_file() {
  ::close(fd_);
  fd_ = -1;
  good_offset_ = 0;
  file_events_ = 0;
  // mkdir -p of the directory, in case the whole log directory was removed.
  for (std::size_t slash = path_.find('/', 1); slash != std::string::npos;
       slash = path_.find('/', slash + 1)) {
    ::mkdir(path_.substr(0, slash).c_str(), 0777);  // EEXIST is the common case
  }
  fd_ = ::open(path_.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_APPEND | O_CLOEXEC, 0666);
  if (fd_ < 0) {
    // Later batches fail with EBADF and are counted as lost.
    latch_error(errno, "could not create the event file again", 0);
    return;
  }
  // The new file must start with its own file_version record to be read as an event file.
  // Both callers run right after write_out(), so buf_ holds nothing else.
  append_file_version_event(buf_, EventHeader{wall_clock_now(), 0}, options_.source_writer);
  ++buf_records_;
  write_out();
}

void EventWriter::write_out() {
  give_back_payloads();
  if (buf_.empty()) return;
  if (XFAST_UNLIKELY(write_delay_us_ != 0)) {
    std::this_thread::sleep_for(std::chrono::microseconds(write_delay_us_));
  }
  const char* p = buf_.data();
  std::size_t left = buf_.size();
  while (left > 0) {
    const ssize_t n = ::write(fd_, p, left);
    if (n < 0) {
      if (errno == EINTR) continue;
      const int err = errno;
      // Cut a partial batch back to the last whole record so the file stays readable and later
      // batches land on a record boundary (best effort: the disk may refuse this too).
      if (left != buf_.size()) {
        if (::ftruncate(fd_, static_cast<off_t>(good_offset_)) != 0) {
          // Nothing more to do: the error below is already reported.
        }
      }
      latch_error(err, "write failed", buf_records_);
      buf_.clear();
      buf_records_ = 0;
      return;
    }
    p += n;
    left -= static_cast<std::size_t>(n);
  }
  good_offset_ += buf_.size();
  file_events_ += buf_records_;
  bytes_written_.fetch_add(buf_.size(), std::memory_order_relaxed);
  events_written_.fetch_add(buf_records_, std::memory_order_relaxed);
  buf_.clear();
  buf_records_ = 0;
}

void EventWriter::handle(Record& r) {
  const EventHeader h{r.wall_time, r.step};
  switch (r.kind) {
    case RecordKind::kScalar:
      append_scalar_event(buf_, h, tags_->get(r.tag), r.value, r.style);
      break;
    case RecordKind::kHistogram:
      append_histogram_event(buf_, h, tags_->get(r.tag), *static_cast<HistogramData*>(r.payload));
      ++buf_records_;
      recycle(static_cast<HistogramData*>(std::exchange(r.payload, nullptr)));
      return;
    case RecordKind::kText:
      append_text_event(buf_, h, tags_->get(r.tag), *static_cast<std::string*>(r.payload));
      break;
    case RecordKind::kSummary:
      append_summary_event(buf_, h, *static_cast<std::string*>(r.payload));
      break;
    case RecordKind::kRawEvent:
      append_raw_event(buf_, *static_cast<std::string*>(r.payload));
      break;
    case RecordKind::kPending: {
      auto* slot = static_cast<PendingSummary*>(r.payload);
      if (!slot->settled()) {
        // Hand what came before to the OS first: the encode may take a while.
        write_out();
        notify_space();
        wait_settled(*slot);
      }
      if (slot->state() == PendingSummary::State::kFailed) {
        free_record_payload(r);  // the encoder reports its error; nothing to write
        return;
      }
      append_summary_event(buf_, h, slot->summary());
      break;
    }
    case RecordKind::kFlush:
      return;  // handled by run()
  }
  ++buf_records_;
  free_record_payload(r);
}

void EventWriter::sleep_until_work() {
  std::unique_lock<std::mutex> lock(mu_);
  writer_sleeping_.store(true, std::memory_order_seq_cst);
  if (!ring_.ready()) {
    work_cv_.wait_for(lock, std::chrono::duration<double>(options_.max_latency_s));
  }
  writer_sleeping_.store(false, std::memory_order_relaxed);
}

void EventWriter::run() {
#if defined(__linux__)
  pthread_setname_np(pthread_self(), "xfast-writer");
#endif
  Record r;
  for (;;) {
    const uint64_t backlog = ring_.backlog();
    if (backlog > high_water_.load(std::memory_order_relaxed)) {
      high_water_.store(backlog, std::memory_order_relaxed);
    }
    bool any = false;
    while (ring_.try_pop(r)) {
      any = true;
      if (r.kind == RecordKind::kFlush) {
        auto* ticket = static_cast<FlushTicket*>(r.payload);
        write_out();
        if (r.style != ScalarStyle::kSimpleValue && fd_ >= 0 && ::fsync(fd_) != 0) {
          latch_error(errno, "fsync failed", 0);
        }
        check_file_exists();
        const bool stop = ticket->stop;
        {
          std::lock_guard<std::mutex> lock(mu_);
          ticket->done = true;
          space_cv_.notify_all();
        }
        if (stop) return;
        continue;
      }
      handle(r);
      if (buf_.size() >= kWriteThreshold) {
        write_out();
        notify_space();
      }
    }
    write_out();
    notify_space();
    if (any && std::chrono::steady_clock::now() >= next_exists_check_) check_file_exists();
    if (!any) sleep_until_work();
  }
}

}  // namespace xfast
