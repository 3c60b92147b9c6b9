// SPDX-License-Identifier: Apache-2.0
#include "event_scan.h"

#include <fcntl.h>
#include <fnmatch.h>
#include <regex.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstring>
#include <memory>
#include <stdexcept>
#include <string_view>
#include <thread>
#include <unordered_map>

#include "crc32c.h"
#include "platform.h"
#include "record.h"

namespace xfast {
namespace {

// A bounded protobuf reader: every get_* returns false instead of reading past `end`.
struct Wire {
  const uint8_t* p;
  const uint8_t* end;

  bool done() const { return p >= end; }

  bool get_varint(uint64_t* v) {
    if (XFAST_LIKELY(p < end && *p < 0x80)) {  // tags, small lengths and steps: one byte
      *v = *p++;
      return true;
    }
    uint64_t r = 0;
    for (int shift = 0; shift < 64 && p < end; shift += 7) {
      const uint8_t b = *p++;
      r |= static_cast<uint64_t>(b & 0x7f) << shift;
      if (b < 0x80) {
        *v = r;
        return true;
      }
    }
    return false;
  }
  bool get_fixed64(uint64_t* v) {
    if (end - p < 8) return false;
    std::memcpy(v, p, 8);
    p += 8;
    return true;
  }
  bool get_fixed32(uint32_t* v) {
    if (end - p < 4) return false;
    std::memcpy(v, p, 4);
    p += 4;
    return true;
  }
  bool get_double(double* d) {
    uint64_t b;
    if (!get_fixed64(&b)) return false;
    std::memcpy(d, &b, 8);
    return true;
  }
  // A length-delimited field's payload.
  bool get_bytes(Wire* out) {
    uint64_t n;
    if (!get_varint(&n) || n > static_cast<uint64_t>(end - p)) return false;
    *out = Wire{p, p + n};
    p += n;
    return true;
  }
  bool skip(uint32_t wire_type) {
    uint64_t v;
    Wire w;
    switch (wire_type) {
      case 0: return get_varint(&v);
      case 1: return get_fixed64(&v);
      case 2: return get_bytes(&w);
      case 5: {
        uint32_t u;
        return get_fixed32(&u);
      }
      default: return false;  // groups (3, 4) never appear in these messages
    }
  }
  std::string_view view() const {
    return std::string_view(reinterpret_cast<const char*>(p), static_cast<std::size_t>(end - p));
  }
};

// A growable array of doubles whose new elements are not zeroed first: the bucket values of
// the event being parsed are copied over right away (std::vector::resize's zero fill was half
// of a histogram file's instructions).
class DoubleBuffer {
 public:
  std::size_t size() const { return size_; }
  const double* data() const { return data_.get(); }
  void clear() { size_ = 0; }
  // Room for n more elements, counted in size(); returns where they start.
  double* extend(std::size_t n) {
    if (size_ + n > cap_) {
      const std::size_t cap = std::max(size_ + n, cap_ * 2);
      std::unique_ptr<double[]> bigger(new double[cap]);
      std::copy(data_.get(), data_.get() + size_, bigger.get());
      data_ = std::move(bigger);
      cap_ = cap;
    }
    size_ += n;
    return data_.get() + size_ - n;
  }

 private:
  std::unique_ptr<double[]> data_;
  std::size_t size_ = 0, cap_ = 0;
};

// Reads a repeated double field value (packed, or one unpacked fixed64) into out.
bool get_doubles(Wire* w, uint32_t wire_type, DoubleBuffer* out) {
  if (wire_type == 1) {
    double d;
    if (!w->get_double(&d)) return false;
    *out->extend(1) = d;
    return true;
  }
  Wire packed;
  if (wire_type != 2 || !w->get_bytes(&packed) || (packed.end - packed.p) % 8 != 0) return false;
  const std::size_t n = static_cast<std::size_t>(packed.end - packed.p) / 8;
  if (n > 0) std::memcpy(out->extend(n), packed.p, n * 8);
  return true;
}

// DataType values (tensorboard/compat/proto/types.proto).
constexpr uint64_t kDtFloat = 1;
constexpr uint64_t kDtDouble = 2;

// A scalar float/double TensorProto's value. False for anything else (shape, dtype, count).
bool scalar_tensor_value(Wire t, double* out) {
  uint64_t dtype = 0;
  int values = 0;
  double v = 0;
  while (!t.done()) {
    uint64_t key;
    if (!t.get_varint(&key)) return false;
    const uint32_t field = static_cast<uint32_t>(key >> 3), wt = static_cast<uint32_t>(key & 7);
    Wire sub;
    if (field == 1 && wt == 0) {
      if (!t.get_varint(&dtype)) return false;
    } else if (field == 2 && wt == 2) {  // TensorShapeProto: any dim makes it non-scalar
      if (!t.get_bytes(&sub)) return false;
      while (!sub.done()) {
        uint64_t k;
        if (!sub.get_varint(&k)) return false;
        if ((k >> 3) == 2 || (k >> 3) == 3) return false;  // a dim, or unknown_rank
        if (!sub.skip(static_cast<uint32_t>(k & 7))) return false;
      }
    } else if (field == 4 && wt == 2) {  // tensor_content
      if (!t.get_bytes(&sub)) return false;
      const std::size_t n = static_cast<std::size_t>(sub.end - sub.p);
      if (n == 4) {
        float f;
        std::memcpy(&f, sub.p, 4);
        v = f;
      } else if (n == 8) {
        std::memcpy(&v, sub.p, 8);
      } else if (n != 0) {
        return false;
      }
      values += n != 0;
      if (n != 0 && (n == 4) != (dtype == kDtFloat)) return false;
    } else if (field == 5 && (wt == 2 || wt == 5)) {  // float_val
      if (wt == 5) {
        uint32_t b;
        if (!t.get_fixed32(&b)) return false;
        float f;
        std::memcpy(&f, &b, 4);
        v = f;
        ++values;
      } else {
        if (!t.get_bytes(&sub) || (sub.end - sub.p) % 4 != 0) return false;
        for (; sub.p < sub.end; sub.p += 4, ++values) {
          float f;
          std::memcpy(&f, sub.p, 4);
          v = f;
        }
      }
    } else if (field == 6 && (wt == 2 || wt == 1)) {  // double_val
      DoubleBuffer d;
      if (!get_doubles(&t, wt, &d)) return false;
      values += static_cast<int>(d.size());
      if (d.size() > 0) v = d.data()[d.size() - 1];
    } else if (field == 3 && wt == 0) {  // version_number
      if (!t.skip(wt)) return false;
    } else {
      return false;  // other value fields: not a float/double scalar
    }
  }
  if (values != 1 || (dtype != kDtFloat && dtype != kDtDouble)) return false;
  *out = v;
  return true;
}

// SummaryMetadata -> (plugin_name, content).
void read_plugin(Wire m, std::string_view* name, std::string_view* content) {
  while (!m.done()) {
    uint64_t key;
    if (!m.get_varint(&key)) return;
    Wire sub;
    if (key == ((1 << 3) | 2)) {  // plugin_data
      if (!m.get_bytes(&sub)) return;
      while (!sub.done()) {
        uint64_t k;
        Wire s;
        if (!sub.get_varint(&k)) return;
        if ((k & 7) == 2 && ((k >> 3) == 1 || (k >> 3) == 2)) {
          if (!sub.get_bytes(&s)) return;
          *((k >> 3) == 1 ? name : content) = s.view();
        } else if (!sub.skip(static_cast<uint32_t>(k & 7))) {
          return;
        }
      }
    } else if (!m.skip(static_cast<uint32_t>(key & 7))) {
      return;
    }
  }
}

enum class ValueKind : uint8_t { kScalar, kTensor, kHistogram, kOther, kNone };

// One decoded Summary.Value, held until the whole event parsed cleanly.
struct PendingValue {
  std::string_view tag;
  std::string_view plugin_name, plugin_content;
  bool has_metadata = false;
  ValueKind kind = ValueKind::kNone;
  uint32_t index = 0;
  double value = 0;
  double hist[5] = {0, 0, 0, 0, 0};  // min, max, num, sum, sum_squares
  std::size_t limits_at = 0, counts_at = 0, limits_n = 0, counts_n = 0;
};

class Scanner {
 public:
  Scanner(const ScanOptions& options, FileScan* out) : opt_(options), out_(out) {
    if (!options.tag_regex.empty()) {
      if (regcomp(&regex_, options.tag_regex.c_str(), REG_EXTENDED | REG_NOSUB) != 0) {
        throw std::invalid_argument("invalid tag regex: " + options.tag_regex);
      }
      has_regex_ = true;
    }
  }
  ~Scanner() {
    if (has_regex_) regfree(&regex_);
  }
  Scanner(const Scanner&) = delete;
  Scanner& operator=(const Scanner&) = delete;

  void scan(const uint8_t* data, std::size_t size, uint64_t start) {
    std::size_t pos = static_cast<std::size_t>(std::min<uint64_t>(start, size));
    while (pos < size) {
      if (size - pos < kHeaderSize) {
        out_->truncated_bytes = size - pos;
        break;
      }
      if (!header_ok(data + pos)) {
        ++out_->corrupt;
        const std::size_t next = resync(data, size, pos + 1);
        out_->skipped_bytes += next - pos;
        pos = next;
        out_->end_offset = pos;
        continue;
      }
      uint64_t len;
      std::memcpy(&len, data + pos, 8);
      if (len > size - pos - kHeaderSize || size - pos - kHeaderSize - len < kFooterSize) {
        out_->truncated_bytes = size - pos;  // the header is genuine: the rest is still coming
        break;
      }
      const uint8_t* body = data + pos + kHeaderSize;
      uint32_t stored;
      std::memcpy(&stored, body + len, 4);
      if (crc32c_mask(crc32c_value(body, len)) != stored || !parse_event(body, len, pos + kHeaderSize)) {
        ++out_->corrupt;
      } else {
        ++out_->records;
      }
      pos += kHeaderSize + len + kFooterSize;
      out_->end_offset = pos;
    }
  }

 private:
  static bool header_ok(const uint8_t* h) {
    uint32_t stored;
    std::memcpy(&stored, h + 8, 4);
    return crc32c_mask(crc32c_value(h, 8)) == stored;
  }

  // The first offset at or after `from` where a header with a valid CRC starts (or `size`).
  static std::size_t resync(const uint8_t* data, std::size_t size, std::size_t from) {
    for (std::size_t q = from; q + kHeaderSize <= size; ++q) {
      if (header_ok(data + q)) return q;
    }
    return size;
  }

  uint32_t intern(std::string_view tag, const PendingValue& v) {
    uint32_t id = lookup(tag);
    if (id == kNoTag) {
      id = static_cast<uint32_t>(out_->tags.size());
      tag_ids_.emplace(tag, id);
      out_->tags.emplace_back();
      TagData& t = out_->tags.back();
      t.name.assign(tag);
      next_tag_.push_back(kNoTag);
      t.selected = (opt_.tag_glob.empty() || fnmatch(opt_.tag_glob.c_str(), t.name.c_str(), 0) == 0) &&
                   (!has_regex_ || regexec(&regex_, t.name.c_str(), 0, nullptr, 0) == 0);
    }
    if (last_tag_ != kNoTag) next_tag_[last_tag_] = id;
    last_tag_ = id;
    TagData& t = out_->tags[id];
    if (v.has_metadata && !t.has_metadata) {  // the first metadata of a tag wins, as in TensorBoard
      t.has_metadata = true;
      t.plugin_name.assign(v.plugin_name);
      t.plugin_content.assign(v.plugin_content);
    }
    return id;
  }

  // Writers log their tags in a repeating order, so the tag that followed this one last time
  // is tried before the hash table, whose hash and key compare were the largest cost of a
  // scalar event: callgrind, 757 -> 585 instructions an event (docs/reading.md).
  uint32_t lookup(std::string_view tag) const {
    if (last_tag_ != kNoTag) {
      const uint32_t guess = next_tag_[last_tag_];
      if (guess != kNoTag && out_->tags[guess].name == tag) return guess;
    }
    auto it = tag_ids_.find(tag);
    return it == tag_ids_.end() ? kNoTag : it->second;
  }

  bool parse_value(Wire v, uint32_t index, PendingValue* pv) {
    pv->index = index;
    while (!v.done()) {
      uint64_t key;
      if (!v.get_varint(&key)) return false;
      const uint32_t field = static_cast<uint32_t>(key >> 3), wt = static_cast<uint32_t>(key & 7);
      Wire sub;
      if (field == 1 && wt == 2) {
        if (!v.get_bytes(&sub)) return false;
        pv->tag = sub.view();
      } else if (field == 2 && wt == 5) {
        uint32_t b;
        if (!v.get_fixed32(&b)) return false;
        float f;
        std::memcpy(&f, &b, 4);
        pv->value = f;
        pv->kind = ValueKind::kScalar;
      } else if (field == 9 && wt == 2) {
        if (!v.get_bytes(&sub)) return false;
        pv->has_metadata = true;
        read_plugin(sub, &pv->plugin_name, &pv->plugin_content);
      } else if (field == 5 && wt == 2) {
        if (!v.get_bytes(&sub) || !parse_histogram(sub, pv)) return false;
        pv->kind = ValueKind::kHistogram;
      } else if (field == 8 && wt == 2) {
        if (!v.get_bytes(&sub)) return false;
        pv->kind = scalar_tensor_value(sub, &pv->value) ? ValueKind::kTensor : ValueKind::kOther;
      } else if ((field == 3 || field == 4 || field == 6) && wt == 2) {
        if (!v.get_bytes(&sub)) return false;
        pv->kind = ValueKind::kOther;
      } else if (!v.skip(wt)) {
        return false;
      }
    }
    return true;
  }

  bool parse_histogram(Wire h, PendingValue* pv) {
    pv->limits_at = limits_.size();
    pv->counts_at = counts_.size();
    while (!h.done()) {
      uint64_t key;
      if (!h.get_varint(&key)) return false;
      const uint32_t field = static_cast<uint32_t>(key >> 3), wt = static_cast<uint32_t>(key & 7);
      if (field >= 1 && field <= 5 && wt == 1) {
        if (!h.get_double(&pv->hist[field - 1])) return false;
      } else if (field == 6) {
        if (!get_doubles(&h, wt, &limits_)) return false;
      } else if (field == 7) {
        if (!get_doubles(&h, wt, &counts_)) return false;
      } else if (!h.skip(wt)) {
        return false;
      }
    }
    pv->limits_n = limits_.size() - pv->limits_at;
    pv->counts_n = counts_.size() - pv->counts_at;
    return true;
  }

  // Parses one event and, only when all of it is well formed, appends its values.
  bool parse_event(const uint8_t* data, std::size_t len, uint64_t offset) {
    Wire e{data, data + len};
    double wall_time = 0;
    int64_t step = 0;
    Wire summary{nullptr, nullptr};
    bool has_summary = false, session_start = false;
    std::string_view file_version;
    while (!e.done()) {
      uint64_t key;
      if (!e.get_varint(&key)) return false;
      const uint32_t field = static_cast<uint32_t>(key >> 3), wt = static_cast<uint32_t>(key & 7);
      Wire sub;
      if (field == 1 && wt == 1) {
        if (!e.get_double(&wall_time)) return false;
      } else if (field == 2 && wt == 0) {
        uint64_t s;
        if (!e.get_varint(&s)) return false;
        step = static_cast<int64_t>(s);
      } else if (field == 3 && wt == 2) {
        if (!e.get_bytes(&sub)) return false;
        file_version = sub.view();
      } else if (field == 5 && wt == 2) {
        if (!e.get_bytes(&summary)) return false;
        has_summary = true;
      } else if (field == 7 && wt == 2) {  // SessionLog: status 1 = START
        if (!e.get_bytes(&sub)) return false;
        while (!sub.done()) {
          uint64_t k, status;
          if (!sub.get_varint(&k)) return false;
          if (k == 8) {
            if (!sub.get_varint(&status)) return false;
            session_start = status == 1;
          } else if (!sub.skip(static_cast<uint32_t>(k & 7))) {
            return false;
          }
        }
      } else if (!e.skip(wt)) {
        return false;
      }
    }
    pending_.clear();
    limits_.clear();
    counts_.clear();
    if (has_summary) {
      uint32_t index = 0;
      while (!summary.done()) {
        uint64_t key;
        if (!summary.get_varint(&key)) return false;
        Wire v;
        if (key == ((1 << 3) | 2)) {
          if (!summary.get_bytes(&v)) return false;
          pending_.emplace_back();
          if (!parse_value(v, index++, &pending_.back())) return false;
        } else if (!summary.skip(static_cast<uint32_t>(key & 7))) {
          return false;
        }
      }
    }
    if (!file_version.empty() && out_->file_version.empty()) out_->file_version.assign(file_version);
    if (session_start) record_start(step);
    for (const PendingValue& v : pending_) commit(v, step, wall_time, offset, len);
    return true;
  }

  void record_start(int64_t step) {
    SessionStart s;
    s.step = step;
    s.counts.reserve(out_->tags.size() * 3);
    for (const TagData& t : out_->tags) {
      s.counts.push_back(t.scalars.size());
      s.counts.push_back(t.tensors.size());
      s.counts.push_back(t.histograms.size());
    }
    s.others = out_->others.size();
    out_->starts.push_back(std::move(s));
  }

  void commit(const PendingValue& v, int64_t step, double wall_time, uint64_t offset,
              std::size_t len) {
    if (v.kind == ValueKind::kNone && !v.has_metadata) return;
    const uint32_t id = intern(v.tag, v);  // a value of metadata alone (hparams) still names its tag
    TagData& t = out_->tags[id];
    if (!t.selected) return;
    switch (v.kind) {
      case ValueKind::kScalar:
      case ValueKind::kTensor: {
        if (!(opt_.kinds & (v.kind == ValueKind::kScalar ? kScanScalars : kScanTensors))) return;
        ScalarSeries& s = v.kind == ValueKind::kScalar ? t.scalars : t.tensors;
        s.step.push_back(step);
        s.wall_time.push_back(wall_time);
        s.value.push_back(v.value);
        return;
      }
      case ValueKind::kHistogram: {
        if (!(opt_.kinds & kScanHistograms)) return;
        HistogramSeries& h = t.histograms;
        if (h.offset.size() == 0) h.offset.push_back(0);
        h.step.push_back(step);
        h.wall_time.push_back(wall_time);
        h.min.push_back(v.hist[0]);
        h.max.push_back(v.hist[1]);
        h.num.push_back(v.hist[2]);
        h.sum.push_back(v.hist[3]);
        h.sum_squares.push_back(v.hist[4]);
        // TensorBoard pairs limits with counts; a malformed proto's extra entries are dropped.
        const std::size_t n = std::min(v.limits_n, v.counts_n);
        h.limits.append(limits_.data() + v.limits_at, n);
        h.counts.append(counts_.data() + v.counts_at, n);
        h.offset.push_back(static_cast<int64_t>(h.limits.size()));
        return;
      }
      case ValueKind::kOther:
        if (!(opt_.kinds & kScanOthers)) return;
        out_->others.push_back(
            OtherValue{offset, static_cast<uint32_t>(len), v.index, id, step, wall_time});
        return;
      case ValueKind::kNone: return;
    }
  }

  const ScanOptions& opt_;
  FileScan* out_;
  regex_t regex_{};
  bool has_regex_ = false;
  // Keys point into the scanned bytes, which outlive the Scanner.
  std::unordered_map<std::string_view, uint32_t> tag_ids_;
  static constexpr uint32_t kNoTag = UINT32_MAX;
  std::vector<uint32_t> next_tag_;  // per tag: the tag seen right after it last time
  uint32_t last_tag_ = kNoTag;
  std::vector<PendingValue> pending_;
  DoubleBuffer limits_, counts_;  // bucket values of the event being parsed
};

std::string errno_text(const std::string& what, const std::string& path) {
  return what + " " + path + ": " + std::strerror(errno);
}

}  // namespace

FileScan scan_buffer(const uint8_t* data, std::size_t size, const ScanOptions& options) {
  FileScan out;
  Scanner(options, &out).scan(data, size, 0);
  return out;
}

FileScan scan_file(const std::string& path, uint64_t start_offset, const ScanOptions& options) {
  FileScan out;
  out.path = path;
  out.start_offset = start_offset;
  out.end_offset = start_offset;
  Scanner scanner(options, &out);  // before opening: a bad regex throws with nothing to close
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    out.error = errno_text("cannot open", path);
    return out;
  }
  struct stat st;
  if (::fstat(fd, &st) != 0) {
    out.error = errno_text("cannot stat", path);
    ::close(fd);
    return out;
  }
  const std::size_t size = static_cast<std::size_t>(st.st_size);
  if (size > start_offset) {
    // The page cache's pages, mapped: nothing is copied into memory the reader owns.
    void* m = ::mmap(nullptr, size, PROT_READ, MAP_PRIVATE, fd, 0);
    if (m == MAP_FAILED) {
      out.error = errno_text("cannot map", path);
      ::close(fd);
      return out;
    }
    ::madvise(m, size, MADV_SEQUENTIAL);
    scanner.scan(static_cast<const uint8_t*>(m), size, start_offset);
    ::munmap(m, size);
  }
  ::close(fd);
  return out;
}

std::vector<FileScan> scan_files(const std::vector<std::pair<std::string, uint64_t>>& files,
                                 const ScanOptions& options) {
  std::vector<FileScan> out(files.size());
  { Scanner check(options, nullptr); }  // an invalid regex throws here, not in a worker
  std::size_t threads = options.threads != 0 ? options.threads : std::thread::hardware_concurrency();
  threads = std::max<std::size_t>(1, std::min(threads, files.size()));
  std::atomic<std::size_t> next{0};
  auto work = [&] {
    for (std::size_t i = next++; i < files.size(); i = next++) {
      out[i] = scan_file(files[i].first, files[i].second, options);
    }
  };
  std::vector<std::thread> pool;
  for (std::size_t t = 1; t < threads; ++t) pool.emplace_back(work);
  work();
  for (std::thread& t : pool) t.join();
  return out;
}

}  // namespace xfast
