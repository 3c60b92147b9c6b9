// SPDX-License-Identifier: Apache-2.0
// Default-bins histogram: an O(1) bucket index from the float's bits, checked against the exact
// edge table, fused with the moments; plus torch's max_bins grouping and trimming.
#include "histogram.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <cstring>
#include <limits>
#include <memory>

#include "platform.h"
#include "thread_pool.h"

namespace xfast {

const std::vector<double>& default_edges() {
  static const std::vector<double> edges = [] {
    std::vector<double> pos;
    // torch.utils.tensorboard's SummaryWriter default_bins loop, in IEEE doubles.
    for (double v = 1e-12; v < 1e20; v *= 1.1) pos.push_back(v);
    std::vector<double> e;
    e.reserve(2 * pos.size() + 1);
    for (auto it = pos.rbegin(); it != pos.rend(); ++it) e.push_back(-*it);
    e.push_back(0.0);
    e.insert(e.end(), pos.begin(), pos.end());
    return e;
  }();
  return edges;
}

namespace {

constexpr int32_t kNotCounted = -1;  // out of [e_0, e_last]; still part of the moments

// Candidate-bin table indexed by a float32's sign, exponent and top 8 mantissa bits. Each
// index covers values within a relative width of 2^-8; the edges are 1.1x apart, so at most one
// edge falls inside, and the exact compare in bin_of() fixes the candidate with <= 2 steps.
// Exponents below kExpLo hold only |v| < 2^-40 < 1e-12 (the two bins around 0); exponents above
// kExpHi hold only |v| >= 2^67 > e_last (not counted).
constexpr uint32_t kExpLo = 127 - 40;
constexpr uint32_t kExpHi = 127 + 66;
constexpr uint32_t kPerSign = (kExpHi - kExpLo + 1) * 256;
constexpr int32_t kZeroBin = static_cast<int32_t>(kDefaultBins / 2);  // [0, 1e-12)

struct BinTable {
  const double* edges;
  double last_edge;
  std::vector<uint16_t> candidate;  // 2 * kPerSign entries
};

// Exact bin of v by binary search (the reference the table is built from).
int32_t exact_bin(const std::vector<double>& e, double v) {
  if (!(v >= e.front() && v <= e.back())) return kNotCounted;
  if (v == e.back()) return static_cast<int32_t>(kDefaultBins - 1);  // the last bin is closed
  const auto it = std::upper_bound(e.begin(), e.end(), v);
  return static_cast<int32_t>(it - e.begin()) - 1;
}

const BinTable& bin_table() {
  static const BinTable table = [] {
    const auto& e = default_edges();
    BinTable t{e.data(), e.back(), std::vector<uint16_t>(2 * kPerSign)};
    for (uint32_t sign = 0; sign < 2; ++sign) {
      for (uint32_t i = 0; i < kPerSign; ++i) {
        const uint32_t bits = (sign << 31) | ((kExpLo + i / 256) << 23) | ((i % 256) << 15);
        float f;
        std::memcpy(&f, &bits, 4);
        int32_t b = exact_bin(e, f);
        if (b == kNotCounted) b = sign ? 0 : static_cast<int32_t>(kDefaultBins - 1);
        t.candidate[sign * kPerSign + i] = static_cast<uint16_t>(b);
      }
    }
    return t;
  }();
  return table;
}

// Bin of a finite double v whose float32 rounding has bits `fbits`.
inline int32_t bin_of(const BinTable& t, double v, uint32_t fbits) {
  const uint32_t exp = (fbits >> 23) & 0xffu;
  if (exp < kExpLo) {
    // |v| < 2^-40: bin [-1e-12, 0) for negatives, [0, 1e-12) for +0, -0 (which numpy compares
    // equal to 0) and positives.
    return v < 0 ? kZeroBin - 1 : kZeroBin;
  }
  if (exp > kExpHi || std::fabs(v) > t.last_edge) return kNotCounted;
  const uint32_t sign = fbits >> 31;
  int32_t k = t.candidate[sign * kPerSign + (exp - kExpLo) * 256 + ((fbits >> 15) & 0xffu)];
  const double* e = t.edges;
  while (k < static_cast<int32_t>(kDefaultBins) - 1 && v >= e[k + 1]) ++k;
  while (k > 0 && v < e[k]) --k;
  return k;
}

inline uint32_t f32_bits(float f) {
  uint32_t b;
  std::memcpy(&b, &f, 4);
  return b;
}

// Moments of finite values; four independent sums would change rounding only at the 1e-16
// level, but one chain is simpler and the bin lookup dominates the cost.
struct Moments {
  double min = std::numeric_limits<double>::infinity();
  double max = -std::numeric_limits<double>::infinity();
  double sum = 0;
  double sum_squares = 0;
  uint64_t finite = 0;
  uint64_t nan = 0;
  uint64_t pos_inf = 0;
  uint64_t neg_inf = 0;

  inline void add_finite(double v) {
    min = v < min ? v : min;
    max = v > max ? v : max;
    sum += v;
    sum_squares += v * v;
    ++finite;
  }
  inline void add_nonfinite(double v) {
    if (std::isnan(v)) {
      ++nan;
    } else if (v > 0) {
      ++pos_inf;
    } else {
      ++neg_inf;
    }
  }
};

// One chunk's result.
struct Partial {
  std::vector<uint64_t> counts = std::vector<uint64_t>(kDefaultBins, 0);
  Moments m;
};

void count_f32(const float* p, std::size_t n, Partial* out) {
  const BinTable& t = bin_table();
  uint64_t* counts = out->counts.data();
  Moments m;
  for (std::size_t i = 0; i < n; ++i) {
    const float f = p[i];
    const double v = f;
    if (XFAST_UNLIKELY(!std::isfinite(f))) {
      m.add_nonfinite(v);
      continue;
    }
    m.add_finite(v);
    const int32_t k = bin_of(t, v, f32_bits(f));
    if (k >= 0) ++counts[k];
  }
  out->m = m;
}

template <typename T>
void count_as_double(const T* p, std::size_t n, Partial* out) {
  const BinTable& t = bin_table();
  uint64_t* counts = out->counts.data();
  Moments m;
  for (std::size_t i = 0; i < n; ++i) {
    const auto v = static_cast<double>(p[i]);  // numpy's astype(float64): round to nearest
    if (XFAST_UNLIKELY(!std::isfinite(v))) {
      m.add_nonfinite(v);
      continue;
    }
    m.add_finite(v);
    const float f = std::fabs(v) > t.last_edge ? 0.0f : static_cast<float>(v);
    const int32_t k = std::fabs(v) > t.last_edge ? kNotCounted : bin_of(t, v, f32_bits(f));
    if (k >= 0) ++counts[k];
  }
  out->m = m;
}

// 8- and 16-bit types: count each bit pattern, then fold the (at most 65536) distinct values into
// bins and moments. One increment per element; exact for every value.
template <typename T, std::size_t kValues>
void count_small(const T* p, std::size_t n, std::vector<uint64_t>* raw) {
  raw->assign(kValues, 0);
  uint64_t* r = raw->data();
  for (std::size_t i = 0; i < n; ++i) {
    if constexpr (sizeof(T) == 1) {
      ++r[static_cast<uint8_t>(p[i])];
    } else {
      ++r[static_cast<uint16_t>(p[i])];
    }
  }
}

double half_to_double(uint16_t h) {
  const uint32_t sign = (h >> 15) & 1u;
  const uint32_t exp = (h >> 10) & 0x1fu;
  const uint32_t man = h & 0x3ffu;
  double v;
  if (exp == 0) {
    v = std::ldexp(static_cast<double>(man), -24);  // subnormal
  } else if (exp == 31) {
    v = man == 0 ? std::numeric_limits<double>::infinity() : std::numeric_limits<double>::quiet_NaN();
  } else {
    v = std::ldexp(static_cast<double>(man | 0x400u), static_cast<int>(exp) - 25);
  }
  return sign ? -v : v;
}

double small_value(DType dt, uint32_t pattern) {
  switch (dt) {
    case DType::kFloat16:
      return half_to_double(static_cast<uint16_t>(pattern));
    case DType::kBFloat16: {
      const uint32_t bits = pattern << 16;
      float f;
      std::memcpy(&f, &bits, 4);
      return f;
    }
    case DType::kInt8:
      return static_cast<int8_t>(static_cast<uint8_t>(pattern));
    case DType::kInt16:
      return static_cast<int16_t>(static_cast<uint16_t>(pattern));
    case DType::kBool:
      return pattern != 0 ? 1.0 : 0.0;
    default:
      return static_cast<double>(pattern);
  }
}

void fold_small(DType dt, const std::vector<uint64_t>& raw, Partial* out) {
  const BinTable& t = bin_table();
  Moments m;
  for (uint32_t pattern = 0; pattern < raw.size(); ++pattern) {
    const uint64_t c = raw[pattern];
    if (c == 0) continue;
    const double v = small_value(dt, pattern);
    if (!std::isfinite(v)) {
      if (std::isnan(v)) {
        m.nan += c;
      } else if (v > 0) {
        m.pos_inf += c;
      } else {
        m.neg_inf += c;
      }
      continue;
    }
    const auto cd = static_cast<double>(c);
    m.min = std::min(m.min, v);
    m.max = std::max(m.max, v);
    m.sum += cd * v;
    m.sum_squares += cd * v * v;
    m.finite += c;
    const int32_t k = std::fabs(v) > t.last_edge ? kNotCounted
                                                  : bin_of(t, v, f32_bits(static_cast<float>(v)));
    if (k >= 0) out->counts[static_cast<std::size_t>(k)] += c;
  }
  out->m = m;
}

std::size_t elem_size(DType dt) {
  switch (dt) {
    case DType::kFloat64:
    case DType::kInt64:
    case DType::kUInt64:
      return 8;
    case DType::kFloat32:
    case DType::kInt32:
    case DType::kUInt32:
      return 4;
    case DType::kFloat16:
    case DType::kBFloat16:
    case DType::kInt16:
    case DType::kUInt16:
      return 2;
    case DType::kInt8:
    case DType::kUInt8:
    case DType::kBool:
      return 1;
  }
  return 1;
}

void count_chunk(const void* data, std::size_t n, DType dt, Partial* out) {
  switch (dt) {
    case DType::kFloat32:
      return count_f32(static_cast<const float*>(data), n, out);
    case DType::kFloat64:
      return count_as_double(static_cast<const double*>(data), n, out);
    case DType::kInt32:
      return count_as_double(static_cast<const int32_t*>(data), n, out);
    case DType::kUInt32:
      return count_as_double(static_cast<const uint32_t*>(data), n, out);
    case DType::kInt64:
      return count_as_double(static_cast<const int64_t*>(data), n, out);
    case DType::kUInt64:
      return count_as_double(static_cast<const uint64_t*>(data), n, out);
    case DType::kFloat16:
    case DType::kBFloat16:
    case DType::kInt16:
    case DType::kUInt16: {
      std::vector<uint64_t> raw;
      count_small<uint16_t, 65536>(static_cast<const uint16_t*>(data), n, &raw);
      return fold_small(dt, raw, out);
    }
    case DType::kInt8:
    case DType::kUInt8:
    case DType::kBool: {
      std::vector<uint64_t> raw;
      count_small<uint8_t, 256>(static_cast<const uint8_t*>(data), n, &raw);
      return fold_small(dt, raw, out);
    }
  }
}

void merge(const Partial& p, HistogramAccum* out) {
  for (std::size_t i = 0; i < kDefaultBins; ++i) out->counts[i] += p.counts[i];
  const Moments& m = p.m;
  if (m.finite > 0) {
    if (out->finite == 0) {
      out->min = m.min;
      out->max = m.max;
    } else {
      out->min = std::min(out->min, m.min);
      out->max = std::max(out->max, m.max);
    }
  }
  out->sum += m.sum;
  out->sum_squares += m.sum_squares;
  out->finite += m.finite;
  out->nan += m.nan;
  out->pos_inf += m.pos_inf;
  out->neg_inf += m.neg_inf;
}

// Below this many elements one thread does the whole pass: waking the pool costs ~10-20 us.
constexpr std::size_t kParallelThreshold = 1 << 18;

}  // namespace

void histogram_default_serial(const void* data, std::size_t n, DType dtype, HistogramAccum* out) {
  *out = HistogramAccum{};
  Partial p;
  count_chunk(data, n, dtype, &p);
  merge(p, out);
}

void histogram_default(const void* data, std::size_t n, DType dtype, HistogramAccum* out,
                       ThreadPool* pool) {
  if (pool == nullptr || pool->size() == 1 || n < kParallelThreshold) {
    histogram_default_serial(data, n, dtype, out);
    return;
  }
  *out = HistogramAccum{};
  // A few chunks per thread so a slow core does not hold up the merge.
  const std::size_t chunks = pool->size() * 4;
  const std::size_t per = (n + chunks - 1) / chunks;
  std::vector<Partial> parts(chunks);
  const auto* base = static_cast<const uint8_t*>(data);
  const std::size_t es = elem_size(dtype);
  pool->parallel_for(chunks, [&](std::size_t c) {
    const std::size_t lo = std::min(n, c * per);
    const std::size_t hi = std::min(n, lo + per);
    count_chunk(base + lo * es, hi - lo, dtype, &parts[c]);
  });
  for (const Partial& p : parts) merge(p, out);
}

bool finish_histogram(const double* counts, std::size_t nbins, const double* limits,
                      std::optional<int64_t> max_bins, HistogramData* out) {
  std::vector<double> c(counts, counts + nbins);
  std::vector<double> l(limits, limits + nbins + 1);
  if (max_bins.has_value() && *max_bins > 0 && nbins > static_cast<std::size_t>(*max_bins)) {
    const std::size_t s = nbins / static_cast<std::size_t>(*max_bins);
    const std::size_t rem = nbins % s;
    if (rem != 0) c.resize(nbins + (s - rem), 0.0);
    std::vector<double> grouped(c.size() / s, 0.0);
    for (std::size_t i = 0; i < c.size(); ++i) grouped[i / s] += c[i];
    std::vector<double> nl;
    for (std::size_t i = 0; i + 1 < l.size(); i += s) nl.push_back(l[i]);  // limits[:-1:s]
    nl.push_back(l.back());
    c.swap(grouped);
    l.swap(nl);
  }
  std::size_t first = c.size();
  std::size_t last = 0;
  for (std::size_t i = 0; i < c.size(); ++i) {
    if (c[i] > 0) {
      if (first == c.size()) first = i;
      last = i;
    }
  }
  if (first == c.size()) return false;
  const std::size_t end = last + 1;
  out->bucket.clear();
  if (first > 0) {
    out->bucket.assign(c.begin() + static_cast<std::ptrdiff_t>(first - 1),
                       c.begin() + static_cast<std::ptrdiff_t>(end));
  } else {
    out->bucket.push_back(0.0);
    out->bucket.insert(out->bucket.end(), c.begin(), c.begin() + static_cast<std::ptrdiff_t>(end));
  }
  out->bucket_limit.assign(l.begin() + static_cast<std::ptrdiff_t>(first),
                           l.begin() + static_cast<std::ptrdiff_t>(end + 1));
  return true;
}

}  // namespace xfast
