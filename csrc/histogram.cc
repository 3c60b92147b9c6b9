// SPDX-License-Identifier: Apache-2.0
// Default-bins histogram: an O(1) bucket index from the float's bits, checked against the exact
// edge table, fused with the moments; plus torch's max_bins grouping and trimming.
#include "histogram.h"

#include <algorithm>
#include <array>
#include <atomic>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <limits>
#include <memory>
#include <mutex>
#include <tuple>
#include <type_traits>
#include <utility>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

#include "cpu_features.h"
#include "histogram_moments.h"
#include "histogram_slot_poly.h"
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

// A count as a double, rounded as static_cast rounds it, without the scalar conversion: x86-64
// has no unsigned 64-bit one before AVX-512DQ, and GCC's (a sign test, then cvtsi2sd, whose
// merge into its register chains each value on the one before) took ~4 cycles a bin, most of
// finish_default_histogram's time on a small tensor's ~480-bin band. The halves go into the
// mantissas of 2^84 and 2^52, and removing those is exact, so the one rounding is the last add:
// integer operations and two floating-point ones, which the compiler vectorizes.
inline double u64_to_double(uint64_t c) {
  const uint64_t hi_bits = (c >> 32) | 0x4530000000000000u;          // 2^84 + hi * 2^32
  const uint64_t lo_bits = (c & 0xFFFFFFFFu) | 0x4330000000000000u;  // 2^52 + lo
  double hi, lo;
  std::memcpy(&hi, &hi_bits, 8);
  std::memcpy(&lo, &lo_bits, 8);
  return (hi - 0x1.00000001p84) + lo;  // (hi * 2^32 - 2^52) + (2^52 + lo)
}

// Slots: 0 = below e_0, 1 + i = bin i, kSlots - 1 = above e_1548. Counting into a slot array
// with the two out-of-range slots lets the hot loop increment without a range branch.
constexpr std::size_t kSlots = kDefaultBins + 2;
static_assert(kSlots == internal::kSlotCount);
constexpr uint16_t kAbove = static_cast<uint16_t>(kSlots - 1);
constexpr uint32_t kRanges = 1u << 17;  // float32 bits >> 15: sign, exponent, 8 mantissa bits

// Slot of a double by binary search over the edges (the reference the table is built from):
// np.histogram's rule, half-open bins and the last one closed.
uint16_t exact_slot(const std::vector<double>& e, double v) {
  if (v < e.front()) return 0;
  if (v > e.back()) return kAbove;
  if (v == e.back()) return static_cast<uint16_t>(kDefaultBins);  // the last bin is closed
  const auto it = std::upper_bound(e.begin(), e.end(), v);
  return static_cast<uint16_t>(it - e.begin());  // 1 + (index of the bin's left edge)
}

float bits_to_f32(uint32_t b) {
  float f;
  std::memcpy(&f, &b, 4);
  return f;
}

inline uint32_t f32_bits(float f) {
  uint32_t b;
  std::memcpy(&b, &f, 4);
  return b;
}

// SlotTable: the O(1) bucket index.
//
// A float32's top 17 bits (bits >> 15) select a range of values of relative width 2^-8. The
// edges are 1.1x apart (log2 1.1 = 0.1375 octave >> 2^-8), so a range holds at most one edge:
// slot[range] is the slot of the range's smallest value, and a value v in the range belongs to
// slot + (v >= thr[slot]), where thr[s] is the smallest float >= the edge that opens slot s + 1.
// This is exact for every float32: when the range holds no edge, thr[slot] lies above the whole
// range. One branch-free compare replaces the old two correction loops (about a quarter of the
// f32 time in perf). Ranges around 0 hold the edges -1e-12, 0 and 1e-12 only on the two sides
// of the sign bit, so they too hold at most one edge each; build() checks the invariant.
struct SlotTable {
  std::vector<uint16_t> slot = std::vector<uint16_t>(kRanges);
  std::array<float, kSlots> thr{};
  std::array<double, kSlots> thr_f64{};  // the edges themselves, for float64/integer inputs
};

const SlotTable& slot_table() {
  static const SlotTable table = [] {
    const auto& e = default_edges();
    SlotTable t;
    for (std::size_t s = 0; s + 1 < kSlots; ++s) {
      // Smallest float >= e[s]. e_1548 is not a float32, so thr[kSlots - 2] > e_1548 and a
      // float never lands on the closed last edge.
      float f = static_cast<float>(e[s]);
      if (static_cast<double>(f) < e[s]) f = std::nextafter(f, std::numeric_limits<float>::infinity());
      t.thr[s] = f;
      t.thr_f64[s] = e[s];
    }
    t.thr[kSlots - 1] = std::numeric_limits<float>::infinity();
    t.thr_f64[kSlots - 1] = std::numeric_limits<double>::infinity();
    for (uint32_t r = 0; r < kRanges; ++r) {
      const uint32_t lo_bits = r << 15;
      const uint32_t hi_bits = lo_bits | 0x7fffu;
      if (((lo_bits >> 23) & 0xffu) == 0xffu) {  // inf/NaN: never reach the table (see below)
        t.slot[r] = kAbove;
        continue;
      }
      // Negative ranges grow in magnitude with the bits: their smallest value is at the top.
      const float smallest = bits_to_f32((lo_bits >> 31) ? hi_bits : lo_bits);
      t.slot[r] = exact_slot(e, smallest);
    }
    return t;
  }();
  return table;
}

// Moments of the finite values of one chunk or worker.
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
  // A block of `len` finite float32 values.
  inline void add_block(const internal::BlockMoments& b, std::size_t len) {
    min = std::min(min, static_cast<double>(b.min));
    max = std::max(max, static_cast<double>(b.max));
    sum += b.sum;
    sum_squares += b.sum_squares;
    finite += len;
  }
  void merge(const Moments& o) {
    min = std::min(min, o.min);
    max = std::max(max, o.max);
    sum += o.sum;
    sum_squares += o.sum_squares;
    finite += o.finite;
    nan += o.nan;
    pos_inf += o.pos_inf;
    neg_inf += o.neg_inf;
  }
};

// Sub-count arrays: consecutive elements often share a bucket (weights cluster around 0), and
// incrementing one counter back to back stalls on store-to-load forwarding. Four arrays, one per
// element position mod 4, break that chain. uint32 halves their cache footprint; they are folded
// into the worker's uint64 slots before any counter could reach 2^32, and drained from there.
constexpr std::size_t kSubCounts = internal::kSubCountRows;
constexpr std::size_t kLineFloats = kCacheLineSize / sizeof(float);
using SubCounts = std::array<std::array<uint32_t, kSlots>, kSubCounts>;
static_assert(sizeof(SubCounts) == kSubCounts * kSlots * sizeof(uint32_t));  // rows back to back

// What one worker gathers over the chunks it claims.
struct WorkerAccum {
  std::vector<uint64_t> slots = std::vector<uint64_t>(kSlots, 0);
  std::vector<uint64_t> raw;  // 8/16-bit types: count per bit pattern
  Moments m;
  // Counts not yet in `slots` (every type but the bit patterns' counts here): folded only when
  // a counter could wrap (folding is ~12k memory operations, ~3% of a 2^18-element chunk's
  // pass); the drains read them where they are.
  std::unique_ptr<SubCounts> sub;
  uint64_t sub_pending = 0;  // elements counted into `sub` since the last fold
  // Whether `slots` holds counts (a fold since the last drain, which only an input of ~4e9
  // values on one worker needs): otherwise the drains neither read nor clear them, 12 bytes a
  // slot of a small tensor's band.
  bool folded = false;

  void fold_sub_counts() {
    if (!sub) return;
    for (std::size_t j = 0; j < kSubCounts; ++j) {
      for (std::size_t s = 0; s < kSlots; ++s) slots[s] += (*sub)[j][s];
      (*sub)[j].fill(0);
    }
    sub_pending = 0;
    folded = true;
  }
};

// float32 is processed in L1-sized blocks. The vector paths count and gather moments in one pass
// over a block and redo it element by element when it holds NaN/inf; the table paths read each
// block twice from L1: a moments loop, then a counting loop (the moments then run four floats
// per instruction while counting stays a tight scalar loop; memory is still read once).
constexpr std::size_t kBlock = 2048;  // 8 KiB of float32: stays in a 32 KiB L1 with the counts' hot lines

using internal::BlockMoments;

// Moments of p[0..n) (n >= 1) assuming every value is finite. If one is not, sum_squares comes
// out inf or NaN (no finite float32 square, even summed over a block, overflows a double), which
// is the caller's cue to redo the block with per-element checks: a free non-finite test.
BlockMoments block_moments_portable(const float* p, std::size_t n) {
  return internal::block_moments_scalar(p, n);
}

#if defined(__SSE2__)
// SSE2 is part of x86-64, so this needs no run-time check. GCC 12 does not vectorize the
// portable loop (the float->double widening and the min/max selects defeat it: perf showed
// scalar cvtss2sd/addsd with stack spills, ~45% of the f32 time), hence intrinsics. Eight floats
// per iteration feed four independent double accumulators per sum, hiding addpd's latency.
BlockMoments block_moments_sse2(const float* p, std::size_t n) {
  __m128 mn = _mm_set1_ps(p[0]);
  __m128 mx = mn;
  __m128d s0 = _mm_setzero_pd(), s1 = s0, s2 = s0, s3 = s0;
  __m128d q0 = s0, q1 = s0, q2 = s0, q3 = s0;
  const std::size_t full = n - n % 8;
  for (std::size_t i = 0; i < full; i += 8) {
    const __m128 a = _mm_loadu_ps(p + i);
    const __m128 b = _mm_loadu_ps(p + i + 4);
    mn = _mm_min_ps(mn, _mm_min_ps(a, b));
    mx = _mm_max_ps(mx, _mm_max_ps(a, b));
    const __m128d a0 = _mm_cvtps_pd(a);
    const __m128d a1 = _mm_cvtps_pd(_mm_movehl_ps(a, a));
    const __m128d b0 = _mm_cvtps_pd(b);
    const __m128d b1 = _mm_cvtps_pd(_mm_movehl_ps(b, b));
    s0 = _mm_add_pd(s0, a0);
    s1 = _mm_add_pd(s1, a1);
    s2 = _mm_add_pd(s2, b0);
    s3 = _mm_add_pd(s3, b1);
    q0 = _mm_add_pd(q0, _mm_mul_pd(a0, a0));
    q1 = _mm_add_pd(q1, _mm_mul_pd(a1, a1));
    q2 = _mm_add_pd(q2, _mm_mul_pd(b0, b0));
    q3 = _mm_add_pd(q3, _mm_mul_pd(b1, b1));
  }
  alignas(16) float fmn[4], fmx[4];
  alignas(16) double ds[2], dq[2];
  _mm_store_ps(fmn, mn);
  _mm_store_ps(fmx, mx);
  _mm_store_pd(ds, _mm_add_pd(_mm_add_pd(s0, s1), _mm_add_pd(s2, s3)));
  _mm_store_pd(dq, _mm_add_pd(_mm_add_pd(q0, q1), _mm_add_pd(q2, q3)));
  BlockMoments r{std::min(std::min(fmn[0], fmn[1]), std::min(fmn[2], fmn[3])),
                 std::max(std::max(fmx[0], fmx[1]), std::max(fmx[2], fmx[3])), ds[0] + ds[1],
                 dq[0] + dq[1]};
  if (full < n) internal::add_block_moments(block_moments_portable(p + full, n - full), &r);
  return r;
}
#endif

using BlockMomentsFn = BlockMoments (*)(const float*, std::size_t);

// How float32 blocks are processed, decided once from the CPU and the environment: AVX-512F or
// AVX2+FMA count and gather moments in one vector pass, the slot computed from a log2
// polynomial (csrc/histogram_avx512.cc, csrc/histogram_avx2.cc); otherwise a moments loop
// (SSE2 or scalar) is followed by the table-lookup counting loop. XFAST_FORCE_PORTABLE=1
// selects the scalar loops, XFAST_NO_AVX512 (any value) the AVX2 path and XFAST_NO_AVX2 the
// SSE2 one, so the tests cover each path on one machine.
struct F32Path {
  const char* name;
  internal::CountBlockFn count;  // the one-pass vector path, or nullptr
  BlockMomentsFn moments;        // the table path's moments loop otherwise
};

F32Path choose_f32_path() {
  if (internal::force_portable()) return {"portable", nullptr, block_moments_portable};
  const bool no_avx2 = std::getenv("XFAST_NO_AVX2") != nullptr;
#if defined(XFAST_HAVE_AVX512)
  if (internal::cpu_has_avx512f() && !no_avx2 && std::getenv("XFAST_NO_AVX512") == nullptr) {
    return {"avx512", internal::count_block_avx512, nullptr};
  }
#endif
#if defined(XFAST_HAVE_AVX2)
  if (internal::cpu_has_avx2_fma() && !no_avx2) {
    return {"avx2", internal::count_block_avx2, nullptr};
  }
#endif
  (void)no_avx2;
#if defined(__SSE2__)
  return {"sse2", nullptr, block_moments_sse2};
#else
  return {"portable", nullptr, block_moments_portable};
#endif
}

const F32Path& f32_path() {
  static const F32Path path = choose_f32_path();
  return path;
}

// One element's slot. The SSE2 form loads the float once, as integer bits, and moves it into
// an XMM register for the compare; the portable form lets the compiler load it twice (as int
// and as float). The counting loop is bound by loads (slot, threshold, counter and the value),
// so saving one of five cut the f32 pass by ~10% (85 -> 77 ms CPU per 1e8 here).
template <bool kSse2>
inline uint32_t slot_f32(const uint16_t* XFAST_RESTRICT slot, const float* XFAST_RESTRICT thr,
                         const float* x) {
  uint32_t b;
  std::memcpy(&b, x, 4);
  uint32_t s = slot[b >> 15];
#if defined(__SSE2__)
  if constexpr (kSse2) {
    const __m128 xv = _mm_castsi128_ps(_mm_cvtsi32_si128(static_cast<int>(b)));
    return s + static_cast<uint32_t>(_mm_comige_ss(xv, _mm_load_ss(thr + s)));
  }
#endif
  s += *x >= thr[s];
  return s;
}

template <bool kSse2>
void count_block_f32(const SlotTable& t, const float* XFAST_RESTRICT p, std::size_t n,
                     SubCounts& c) {
  const uint16_t* XFAST_RESTRICT slot = t.slot.data();
  const float* XFAST_RESTRICT thr = t.thr.data();
  std::size_t i = 0;
  for (; i + kLineFloats <= n; i += kLineFloats) {
    // The next block streams in while this one is counted: without it the moments loop waits
    // on DRAM alone and the counting loop leaves memory idle (perf: the moments loop's time sat
    // on its loads; this prefetch cut the f32 pass by about a fifth, 110 -> 85 ms CPU per 1e8).
    XFAST_PREFETCH(p + i + kBlock);
    for (std::size_t k = 0; k < kLineFloats; k += kSubCounts) {
      for (std::size_t j = 0; j < kSubCounts; ++j) ++c[j][slot_f32<kSse2>(slot, thr, p + i + k + j)];
    }
  }
  for (; i < n; ++i) ++c[0][slot_f32<kSse2>(slot, thr, p + i)];
}

// A block holding NaN or +-inf: per-element checks (rare in training data).
void count_block_f32_checked(const SlotTable& t, const float* p, std::size_t n, SubCounts& c,
                             Moments& m) {
  for (std::size_t i = 0; i < n; ++i) {
    const float x = p[i];
    if (!std::isfinite(x)) {
      m.add_nonfinite(x);
      continue;
    }
    m.add_finite(x);
    ++c[0][internal::exact_slot(t.slot.data(), t.thr.data(), x)];
  }
}

// The worker's sub-count rows, ready for n more increments.
SubCounts& sub_counts_for(WorkerAccum* out, std::size_t n) {
  if (!out->sub) out->sub = std::make_unique<SubCounts>();  // value-initialized: zeros
  // A counter takes at most one increment per element: fold before any could wrap.
  if (out->sub_pending + n > std::numeric_limits<uint32_t>::max()) out->fold_sub_counts();
  out->sub_pending += n;
  return *out->sub;
}

void count_f32(const float* p, std::size_t n, WorkerAccum* out) {
  const SlotTable& t = slot_table();
  SubCounts& c = sub_counts_for(out, n);
  const F32Path& path = f32_path();
  const internal::ExactSlots exact{t.slot.data(), t.thr.data()};
  Moments m;
  for (std::size_t lo = 0; lo < n; lo += kBlock) {
    const std::size_t len = std::min(kBlock, n - lo);
    if (path.count != nullptr) {
      const BlockMoments b = path.count(p + lo, len, 1, c[0].data(), exact);
      if (XFAST_UNLIKELY(!std::isfinite(b.sum_squares))) {
        // Undo the block's increments (same slots, minus one each; uint32 wraps back), then
        // count it with per-element checks.
        path.count(p + lo, len, ~uint32_t{0}, c[0].data(), exact);
        count_block_f32_checked(t, p + lo, len, c, m);
        continue;
      }
      m.add_block(b, len);
      continue;
    }
    const BlockMoments b = path.moments(p + lo, len);
    if (XFAST_UNLIKELY(!std::isfinite(b.sum_squares))) {
      count_block_f32_checked(t, p + lo, len, c, m);
      continue;
    }
    m.add_block(b, len);
    if (path.moments == block_moments_portable) {
      count_block_f32<false>(t, p + lo, len, c);
    } else {
      count_block_f32<true>(t, p + lo, len, c);
    }
  }
  out->m.merge(m);
}

// Slot of a finite double (internal::exact_slot_f64).
inline uint32_t slot_of_double(const SlotTable& t, double v) {
  return internal::exact_slot_f64(t.slot.data(), t.thr_f64.data(), v);
}

template <typename T>
void count_as_double(const T* p, std::size_t n, WorkerAccum* out) {
  const SlotTable& t = slot_table();
  uint32_t* counts = sub_counts_for(out, n)[0].data();
  Moments m;
  for (std::size_t i = 0; i < n; ++i) {
    const auto v = static_cast<double>(p[i]);  // numpy's astype(float64): round to nearest
    if (XFAST_UNLIKELY(!std::isfinite(v))) {
      m.add_nonfinite(v);
      continue;
    }
    m.add_finite(v);
    ++counts[slot_of_double(t, v)];
  }
  out->m.merge(m);
}

#if defined(__SSE2__)
// Narrows a block of float64 to float32 for the vector loops (buf) and adds the block's
// moments, from the doubles, into *m; false, with *m untouched, when the block holds NaN or inf.
// Finite values beyond float32's range become +-FLT_MAX, and nonzero ones that round to zero
// the smallest subnormal of their sign: either float lands in the double's bin (beyond the last
// edge; the bin on the double's side of 0), where plain rounding gives inf (read as
// non-finite) or -0.0 (counted with +0.0 in [0, 1e-12)). SSE2 intrinsics, as for
// block_moments_sse2: GCC 12 left the plain loop scalar (min/max selects, the zero count),
// and it then cost more than the counting (1.6 ns an element in all, against float32's 0.47).
bool narrow_f64_block(const double* p, std::size_t n, float* buf, Moments* m) {
  // Four independent accumulators of two lanes: dependent adds would cost ~4 cycles each.
  __m128d s[4], q[4], lo[4], hi[4];
  __m128i z[4];
  for (int k = 0; k < 4; ++k) {
    s[k] = q[k] = _mm_setzero_pd();
    lo[k] = hi[k] = _mm_set1_pd(p[0]);
    z[k] = _mm_setzero_si128();
  }
  const __m128d zero = _mm_setzero_pd();
  __m128i zf = _mm_setzero_si128();  // zeros among the floats, to find values that underflowed
  std::size_t i = 0;
  for (; i + 8 <= n; i += 8) {
    for (int k = 0; k < 4; ++k) {
      const __m128d v = _mm_loadu_pd(p + i + 2 * k);
      s[k] = _mm_add_pd(s[k], v);
      q[k] = _mm_add_pd(q[k], _mm_mul_pd(v, v));
      lo[k] = _mm_min_pd(lo[k], v);
      hi[k] = _mm_max_pd(hi[k], v);
      z[k] = _mm_sub_epi64(z[k], _mm_castpd_si128(_mm_cmpeq_pd(v, zero)));  // -1 where zero
    }
    const __m128 f0 = _mm_cvtpd_ps(_mm_loadu_pd(p + i));
    const __m128 f1 = _mm_cvtpd_ps(_mm_loadu_pd(p + i + 2));
    const __m128 f2 = _mm_cvtpd_ps(_mm_loadu_pd(p + i + 4));
    const __m128 f3 = _mm_cvtpd_ps(_mm_loadu_pd(p + i + 6));
    const __m128 lo4 = _mm_movelh_ps(f0, f1);
    const __m128 hi4 = _mm_movelh_ps(f2, f3);
    _mm_storeu_ps(buf + i, lo4);
    _mm_storeu_ps(buf + i + 4, hi4);
    zf = _mm_sub_epi32(zf, _mm_castps_si128(_mm_cmpeq_ps(lo4, _mm_setzero_ps())));
    zf = _mm_sub_epi32(zf, _mm_castps_si128(_mm_cmpeq_ps(hi4, _mm_setzero_ps())));
  }
  alignas(16) double lanes[2];
  double sum = 0, sum_squares = 0, mn = p[0], mx = p[0];
  uint64_t zeros = 0;
  alignas(16) uint32_t zl[4];
  _mm_store_si128(reinterpret_cast<__m128i*>(zl), zf);
  uint64_t float_zeros = uint64_t{zl[0]} + zl[1] + zl[2] + zl[3];
  for (int k = 0; k < 4; ++k) {
    _mm_store_pd(lanes, s[k]);
    sum += lanes[0] + lanes[1];
    _mm_store_pd(lanes, q[k]);
    sum_squares += lanes[0] + lanes[1];
    _mm_store_pd(lanes, lo[k]);
    mn = std::min({mn, lanes[0], lanes[1]});
    _mm_store_pd(lanes, hi[k]);
    mx = std::max({mx, lanes[0], lanes[1]});
    alignas(16) uint64_t c[2];
    _mm_store_si128(reinterpret_cast<__m128i*>(c), z[k]);
    zeros += c[0] + c[1];
  }
  for (; i < n; ++i) {
    const double v = p[i];
    sum += v;
    sum_squares += v * v;
    mn = std::min(mn, v);
    mx = std::max(mx, v);
    zeros += v == 0.0 ? 1 : 0;
    buf[i] = static_cast<float>(v);
    float_zeros += buf[i] == 0.0f ? 1 : 0;
  }
  // A NaN or inf makes the sum of squares NaN or inf; so does a finite value beyond ~1e154,
  // whose square overflows: that block takes the per-element path too.
  if (!std::isfinite(sum_squares)) return false;
  constexpr float kMax = std::numeric_limits<float>::max();
  const bool beyond = mn < -static_cast<double>(kMax) || mx > static_cast<double>(kMax);
  if (beyond || float_zeros != zeros) {  // rare: values beyond float32, or below ~7e-46
    constexpr float kTiny = std::numeric_limits<float>::denorm_min();
    for (std::size_t k = 0; k < n; ++k) {
      const double v = p[k];
      if (buf[k] == 0.0f && v != 0.0) buf[k] = v < 0 ? -kTiny : kTiny;
      if (std::isinf(buf[k])) buf[k] = v < 0 ? -kMax : kMax;
    }
  }
  m->min = std::min(m->min, mn);
  m->max = std::max(m->max, mx);
  m->sum += sum;
  m->sum_squares += sum_squares;
  m->finite += n;
  return true;
}
#endif

// float64: each block narrowed to float32 in an L1 buffer and counted by the float32 vector
// loop, whose lanes near an edge take their slot from the double (ExactSlots::source64); the
// moments come from the doubles. The per-element table path (count_as_double) measured
// 2.8-3.3 ns an element against float32's ~0.46 on the loaded machine; blocks with NaN/inf,
// and machines without AVX2, still take it.
void count_f64(const double* p, std::size_t n, WorkerAccum* out) {
#if defined(__SSE2__)
  const F32Path& path = f32_path();
  if (path.count == nullptr) return count_as_double(p, n, out);
  const SlotTable& t = slot_table();
  SubCounts& c = sub_counts_for(out, n);
  alignas(64) float buf[kBlock];
  Moments m;
  for (std::size_t lo = 0; lo < n; lo += kBlock) {
    const std::size_t len = std::min(kBlock, n - lo);
    if (XFAST_UNLIKELY(!narrow_f64_block(p + lo, len, buf, &m))) {
      count_as_double(p + lo, len, out);
      continue;
    }
    const internal::ExactSlots exact{t.slot.data(), t.thr.data(), t.thr_f64.data(), p + lo};
    path.count(buf, len, 1, c[0].data(), exact);  // its float moments are not the doubles'
  }
  out->m.merge(m);
#else
  count_as_double(p, n, out);  // the vector loops are x86's
#endif
}

// 32- and 64-bit integers: each block converted to float64 (numpy's astype rounding) in an L1
// buffer, then counted as float64 (count_f64): ~3 ns an element through the per-element table
// path before.
template <typename T>
void count_integers(const T* p, std::size_t n, WorkerAccum* out) {
  alignas(64) double buf[kBlock];
  for (std::size_t lo = 0; lo < n; lo += kBlock) {
    const std::size_t len = std::min(kBlock, n - lo);
    for (std::size_t i = 0; i < len; ++i) buf[i] = static_cast<double>(p[lo + i]);
    count_f64(buf, len, out);
  }
}

// float16 and bfloat16 widen exactly to float32, so their blocks are widened into an L1 buffer
// and counted by the float32 loops. Counting bit patterns instead (one increment per element
// into 65536 uint64 counters, folded at the end) cost ~0.6-0.8 ns per element against
// float32's ~0.5 on the same loaded machine, and each tensor paid for clearing and folding the
// 512 KiB of counters: tens of microseconds for a 256-element bias.
// Exact for every pattern: the portable widening (AVX-512 machines use vcvtph2ps; a 65536-entry
// table measured ~1.0 ns per element there, this loop ~1.3 including the count, vcvtph2ps ~0.6).
inline uint32_t f16_to_f32_bits(uint32_t h) {
  const uint32_t em = h & 0x7fffu;
  const float tiny = static_cast<float>(static_cast<int32_t>(em)) * 5.9604645e-8f;  // 2^-24
  uint32_t tiny_bits;
  std::memcpy(&tiny_bits, &tiny, 4);
  const uint32_t normal = (em << 13) + 0x38000000u;  // exponent rebiased by 127 - 15
  const uint32_t special = (em << 13) | 0x7f800000u;  // inf and NaN keep their payload
  const uint32_t bits = em >= 0x7c00u ? special : (em >= 0x400u ? normal : tiny_bits);
  return bits | ((h & 0x8000u) << 16);
}

template <bool kBFloat16>
void count_half(const uint16_t* p, std::size_t n, WorkerAccum* out) {
  alignas(64) float buf[kBlock];
  for (std::size_t lo = 0; lo < n; lo += kBlock) {
    const std::size_t len = std::min(kBlock, n - lo);
    if constexpr (kBFloat16) {
      std::size_t i = 0;
#if defined(XFAST_HAVE_AVX512)
      if (f32_path().count == internal::count_block_avx512) {
        i = internal::widen_bf16_avx512(p + lo, len, buf);
      }
#endif
      for (; i < len; ++i) {
        const uint32_t b = static_cast<uint32_t>(p[lo + i]) << 16;  // bfloat16 is float32's top half
        std::memcpy(&buf[i], &b, 4);
      }
    } else {
      std::size_t i = 0;
#if defined(XFAST_HAVE_AVX512)
      if (f32_path().count == internal::count_block_avx512) {
        i = internal::widen_f16_avx512(p + lo, len, buf);
      }
#endif
      for (; i < len; ++i) {
        const uint32_t b = f16_to_f32_bits(p[lo + i]);
        std::memcpy(&buf[i], &b, 4);
      }
    }
    count_f32(buf, len, out);
  }
}

// 8- and 16-bit integers: count each bit pattern (one increment per element, no conversion),
// then fold the at most 65536 distinct values into slots and moments once at the end.
template <typename T>
void count_patterns(const T* p, std::size_t n, WorkerAccum* out) {
  constexpr std::size_t kValues = std::size_t{1} << (8 * sizeof(T));
  if (out->raw.empty()) out->raw.assign(kValues, 0);
  uint64_t* XFAST_RESTRICT r = out->raw.data();
  for (std::size_t i = 0; i < n; ++i) ++r[p[i]];
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

double pattern_value(DType dt, uint32_t pattern) {
  switch (dt) {
    case DType::kFloat16:
      return half_to_double(static_cast<uint16_t>(pattern));
    case DType::kBFloat16:
      return bits_to_f32(pattern << 16);
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

void fold_patterns(DType dt, const std::vector<uint64_t>& raw, HistogramAccum* out,
                   Moments* m) {
  const SlotTable& t = slot_table();
  for (uint32_t pattern = 0; pattern < raw.size(); ++pattern) {
    const uint64_t c = raw[pattern];
    if (c == 0) continue;
    const double v = pattern_value(dt, pattern);
    if (!std::isfinite(v)) {
      if (std::isnan(v)) {
        m->nan += c;
      } else if (v > 0) {
        m->pos_inf += c;
      } else {
        m->neg_inf += c;
      }
      continue;
    }
    const auto cd = static_cast<double>(c);
    m->min = std::min(m->min, v);
    m->max = std::max(m->max, v);
    m->sum += cd * v;
    m->sum_squares += cd * v * v;
    m->finite += c;
    const uint32_t s = slot_of_double(t, v);
    if (s >= 1 && s <= kDefaultBins) out->counts[s - 1] += c;
  }
}


bool is_pattern_type(DType dt) {
  return dtype_size(dt) <= 2 && dt != DType::kFloat16 && dt != DType::kBFloat16;
}

void count_chunk(const void* data, std::size_t n, DType dt, WorkerAccum* out) {
  switch (dt) {
    case DType::kFloat32:
      return count_f32(static_cast<const float*>(data), n, out);
    case DType::kFloat64:
      return count_f64(static_cast<const double*>(data), n, out);
    case DType::kInt32:
      return count_integers(static_cast<const int32_t*>(data), n, out);
    case DType::kUInt32:
      return count_integers(static_cast<const uint32_t*>(data), n, out);
    case DType::kInt64:
      return count_integers(static_cast<const int64_t*>(data), n, out);
    case DType::kUInt64:
      return count_integers(static_cast<const uint64_t*>(data), n, out);
    case DType::kFloat16:
      return count_half<false>(static_cast<const uint16_t*>(data), n, out);
    case DType::kBFloat16:
      return count_half<true>(static_cast<const uint16_t*>(data), n, out);
    case DType::kInt16:
    case DType::kUInt16:
      return count_patterns(static_cast<const uint16_t*>(data), n, out);
    case DType::kInt8:
    case DType::kUInt8:
    case DType::kBool:
      return count_patterns(static_cast<const uint8_t*>(data), n, out);
  }
}

// The largest chunk a pass hands out (1 MiB of float32): large enough that claiming one (an
// atomic add) costs nothing next to its ~40 us pass, small enough that on a busy 2-core machine
// the faster worker picks up the slower one's share of a large tensor.
constexpr std::size_t kChunk = std::size_t{1} << 18;

// Below this many elements one thread does the whole pass. Measured on the 2-core machine with
// torch's team spinning after a matmul, the add_histogram loop per tensor: at 2^16 values one or
// two threads take the same time (~35 us: the writer thread shares the second core), at 196608
// two take 73 us against 98 on one.
constexpr std::size_t kParallelThreshold = std::size_t{1} << 16;

// The smallest chunk a pass hands out: flushing a worker's counts for an input costs a few
// hundred slot operations, ~1 % of a 2^14-element chunk.
constexpr std::size_t kMinChunk = std::size_t{1} << 14;

// The chunk size of a tensor of n elements: about eight chunks, between kMinChunk and kChunk
// elements (four a worker on two cores, so a core shared with another process hands its share
// to the faster one). With 1 MiB chunks every tensor below 2^18 values was one chunk and ran on
// one thread (a GPT-2 layer's 256x768 weight logged with add_histogram). It depends on n alone,
// not on the path (one thread, the pool, a batch), and the chunks' moments are merged in chunk
// order (count_piece): a tensor's float64 sums come out the same bit for bit whichever path
// counted it and however the workers shared its chunks.
std::size_t chunk_of(std::size_t n) {
  std::size_t c = kMinChunk;
  while (c < kChunk && c * 2 * 8 <= n) c *= 2;
  return c;
}

// Zeroes what w counted into slots lo..hi (the band of its min and max): the sub-count rows, and
// the slots after a fold.
void clear_band(WorkerAccum& w, uint32_t lo, uint32_t hi) {
  if (w.sub) {
    for (auto& row : *w.sub) std::fill(row.data() + lo, row.data() + hi + 1, 0u);
  }
  if (w.folded) std::fill(w.slots.data() + lo, w.slots.data() + hi + 1, uint64_t{0});
}

// A count as a drain target holds it: a packed row's double (u64_to_double), or a uint64.
template <typename Bin>
Bin as_bin(uint64_t c) {
  if constexpr (std::is_same_v<Bin, double>) {
    return u64_to_double(c);
  } else {
    return c;
  }
}

// Adds the bin counts `w` gathered since it was last drained into bins[0..kDefaultBins) and
// leaves its slots, sub-counts and moments zeroed, ready for the next tensor. Slots are monotone
// in the value, so every count lies between the slots of the smallest and the largest finite
// value seen (NaN/inf blocks were undone to zero): only that range is read and cleared. A
// 256-element tensor then costs a few hundred slot operations, not 4 x 1550 sub-counts folded,
// 1550 slots copied and both cleared (~30k instructions, most of its fixed cost). `Bin` is
// uint64_t (HistogramAccum) or double (a packed row: exact, counts stay far below 2^53).
template <typename Bin>
void drain(WorkerAccum& w, Bin* bins) {
  if (w.m.finite > 0) {
    const SlotTable& t = slot_table();
    const uint32_t lo = slot_of_double(t, w.m.min);
    const uint32_t hi = slot_of_double(t, w.m.max);
    const uint64_t* slots = w.slots.data();
    // Slots 0 and kDefaultBins + 1 (beyond the edges) hold no bin: their counts are dropped.
    const uint32_t first = std::max<uint32_t>(lo, 1);
    const uint32_t last = std::min<uint32_t>(hi, kDefaultBins);
    // One pass adding the four sub-count rows (and the slots, after a fold) straight into the
    // bins, then plain clears: a loop the compiler vectorizes, with at most 7 memory operations
    // a slot where folding the rows into the slots first took 15 (a 256-value N(0, 0.02) bias
    // spans ~500 slots).
    static_assert(kSubCounts == 4, "the pass below adds four rows");
    if (w.sub) {  // every counting path but the bit patterns' counts into these rows
      const uint32_t* r0 = (*w.sub)[0].data();
      const uint32_t* r1 = (*w.sub)[1].data();
      const uint32_t* r2 = (*w.sub)[2].data();
      const uint32_t* r3 = (*w.sub)[3].data();
      if (w.folded) {
        for (uint32_t s = first; s <= last; ++s) {
          bins[s - 1] += as_bin<Bin>(slots[s] + r0[s] + r1[s] + r2[s] + r3[s]);
        }
      } else {
        for (uint32_t s = first; s <= last; ++s) {
          bins[s - 1] += as_bin<Bin>(uint64_t{r0[s]} + r1[s] + r2[s] + r3[s]);
        }
      }
    }
    clear_band(w, lo, hi);
  }
  w.sub_pending = 0;
  w.folded = false;
  w.m = Moments{};
}

// drain for an input counted on this thread alone, straight into its event: the band's
// sub-count rows are summed and converted into out->bucket, then cleared, trimmed as
// finish_default_histogram trims, with the limits shared from default_edges(). drain into a
// HistogramAccum then finish_default_histogram went over the band six times (clear the
// accumulator, fold the rows, clear them and the slots, convert, copy), and a 256-value
// N(0, 0.02) bias spans ~480 slots: perf gave memset, drain and the conversion ~40 % of the
// native time of add_histograms on the GPT-2-shaped model's small tensors. False when no finite
// value lies within the edges (nothing to write). Leaves w drained. Only for an input of fewer
// than 2^31 values: its counts are all in the rows (no fold), and each slot's fits an int32.
bool drain_to_event(WorkerAccum& w, HistogramData* out) {
  bool written = false;
  if (w.m.finite > 0 && w.sub) {  // finite values are counted into the rows (see drain)
    const SlotTable& t = slot_table();
    const uint32_t lo = slot_of_double(t, w.m.min);
    const uint32_t hi = slot_of_double(t, w.m.max);
    const uint32_t first = std::max<uint32_t>(lo, 1);  // slot s is bin s - 1
    const uint32_t last = std::min<uint32_t>(hi, kDefaultBins);
    const uint32_t* r0 = (*w.sub)[0].data();
    const uint32_t* r1 = (*w.sub)[1].data();
    const uint32_t* r2 = (*w.sub)[2].data();
    const uint32_t* r3 = (*w.sub)[3].data();
    static_assert(kSubCounts == 4, "the passes below add four rows");
    std::vector<double>& bucket = out->bucket;
    bucket.clear();
    if (first <= last) {
      // bucket[0] is the leading empty bucket: bin first - 2 (below the min, so empty) or, when
      // first is bin 0, the 0 finish_histogram adds. bucket[1 + s - first] is slot s's count.
      bucket.resize(last - first + 2);
      double* b = bucket.data() + 1;
      // The rows are cleared in a pass of their own below: with the clears in this loop GCC
      // kept it scalar (~4 cycles a slot, half the native time of a small tensor). Summed and
      // converted as int32, which SSE2 does four and two lanes at a time (cvtdq2pd), where the
      // uint64 sum and u64_to_double took two lanes and six instructions.
      for (uint32_t s = first; s <= last; ++s) {
        b[s - first] = static_cast<int32_t>(r0[s] + r1[s] + r2[s] + r3[s]);
      }
    }
    clear_band(w, lo, hi);  // counts beyond the edges (slot 0, kDefaultBins + 1) are dropped
    // The band's ends are the min's and max's bins, never empty, unless those values lie beyond
    // the edges.
    std::size_t from = 1;
    while (from < bucket.size() && bucket[from] == 0) ++from;
    if (from < bucket.size()) {
      while (bucket.back() == 0) bucket.pop_back();
      bucket.erase(bucket.begin() + 1, bucket.begin() + static_cast<std::ptrdiff_t>(from));
      out->bucket_limit.clear();
      out->shared_limits = default_edges().data() + (first - 1) + (from - 1);
      out->min = w.m.min;
      out->max = w.m.max;
      out->num = static_cast<double>(w.m.finite);
      out->sum = w.m.sum;
      out->sum_squares = w.m.sum_squares;
      written = true;
    }
  }
  w.sub_pending = 0;
  w.m = Moments{};
  return written;
}

// Merges the workers' results into *out, leaving them drained. Pattern types are folded once
// over the summed raw counts rather than once per worker.
// Empties *out for a new pass. Cleared in place, not replaced, and only where the last pass
// wrote: a reused accumulator keeps its 12 KiB of counts allocated and a small tensor does not
// clear all of them.
void reset_accum(HistogramAccum* out) {
  out->counts.resize(kDefaultBins, 0);
  std::fill(out->counts.begin() + static_cast<std::ptrdiff_t>(out->dirty_first),
            out->counts.begin() + static_cast<std::ptrdiff_t>(out->dirty_end), 0);
  out->min = out->max = out->sum = out->sum_squares = 0;
  out->finite = out->nan = out->pos_inf = out->neg_inf = 0;
  out->dirty_first = out->dirty_end = 0;
}

// Adds a part's moments into *out; min/max only when the part saw a finite value.
void accumulate_moments(const Moments& m, HistogramAccum* out) {
  if (m.finite > 0) {
    out->min = out->finite > 0 ? std::min(out->min, m.min) : m.min;
    out->max = out->finite > 0 ? std::max(out->max, m.max) : m.max;
  }
  out->finite += m.finite;
  out->sum += m.sum;
  out->sum_squares += m.sum_squares;
  out->nan += m.nan;
  out->pos_inf += m.pos_inf;
  out->neg_inf += m.neg_inf;
}

// Records which bins a pass may have written into *out, from its moments: those between the
// min's and the max's (drain writes only there), or all of them for a pattern type (folded).
void mark_written_bins(DType dt, HistogramAccum* out) {
  if (is_pattern_type(dt)) {
    out->dirty_first = 0;
    out->dirty_end = kDefaultBins;
  } else if (out->finite > 0) {
    std::tie(out->dirty_first, out->dirty_end) = default_bin_range(out->min, out->max);
  }
}

// Moves one worker's result into *out (emptied first), leaving the worker drained. A pattern
// type's raw counts are folded into bins here.
void take_worker(WorkerAccum& w, DType dt, HistogramAccum* out) {
  reset_accum(out);
  Moments m = w.m;
  drain(w, out->counts.data());
  if (is_pattern_type(dt) && !w.raw.empty()) {
    std::vector<uint64_t> raw;
    raw.swap(w.raw);
    fold_patterns(dt, raw, out, &m);
  }
  accumulate_moments(m, out);
  mark_written_bins(dt, out);
}

// This thread's accumulator, left drained after each use: a pass allocates and clears no
// ~40 KiB of counts per thread (on the pool's workers and torch's team alike).
WorkerAccum& thread_accum() {
  thread_local WorkerAccum acc;
  return acc;
}

// Counts one chunk into *acc and returns that chunk's own moments; acc->m goes on gathering the
// running min and max that drain's band needs.
Moments count_piece(const void* data, std::size_t n, DType dt, WorkerAccum* acc) {
  const Moments before = acc->m;
  acc->m = Moments{};
  count_chunk(data, n, dt, acc);
  const Moments piece = acc->m;
  acc->m = before;
  acc->m.merge(piece);
  return piece;
}

// Adds one finished partial result into *out.
void accumulate(const HistogramAccum& p, HistogramAccum* out) {
  for (std::size_t i = 0; i < kDefaultBins; ++i) out->counts[i] += p.counts[i];
  accumulate_moments(Moments{p.min, p.max, p.sum, p.sum_squares, p.finite, p.nan, p.pos_inf, p.neg_inf},
              out);
}

}  // namespace

std::size_t dtype_size(DType dt) {
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

namespace {

// One pool dispatch over every input's chunks (see histogram_default_batch). A worker keeps one
// accumulator (its thread's, reused across calls) for the input it is on and hands it to `sink`
// when it moves on, under a lock: sink.add(input, moments, worker) takes a float/integer input's
// moments and drains the worker's counts; sink.add_part(input, result) a pattern type's folded
// result. Memory stays one accumulator per worker whatever the batch size.
template <typename Sink>
void run_batch(const std::vector<HistogramInput>& inputs, ThreadPool* pool, Sink& sink) {
  struct Item {
    std::size_t input, lo, len;
  };
  std::size_t total = 0;
  std::vector<Item> items;
  std::vector<std::size_t> first_item(inputs.size() + 1);
  for (std::size_t i = 0; i < inputs.size(); ++i) {
    first_item[i] = items.size();
    const std::size_t chunk = chunk_of(inputs[i].n);
    for (std::size_t lo = 0; lo < inputs[i].n; lo += chunk) {
      items.push_back({i, lo, std::min(chunk, inputs[i].n - lo)});
    }
    total += inputs[i].n;
  }
  first_item[inputs.size()] = items.size();
  const bool parallel = pool != nullptr && pool->size() > 1 && total >= kParallelThreshold;
  const std::size_t nworkers = parallel ? std::min(pool->size(), items.size()) : 1;
  std::vector<Moments> moments(items.size());  // each chunk's own, merged in order below
  std::mutex mu;  // guards the sink while a worker drains what it gathered for one input
  // Relaxed: the counter only hands out distinct items; the results are published to the
  // caller by parallel_for's completion (a mutex), not by this atomic.
  std::atomic<std::size_t> next{0};
  auto work = [&](std::size_t) {
    WorkerAccum& acc = thread_accum();
    std::size_t cur = inputs.size();
    auto flush = [&] {
      if (cur == inputs.size()) return;
      if (is_pattern_type(inputs[cur].dtype)) {  // raw pattern counts fold through take_worker
        HistogramAccum part;
        take_worker(acc, inputs[cur].dtype, &part);
        std::lock_guard<std::mutex> lock(mu);
        sink.add_part(cur, part);
        return;
      }
      std::lock_guard<std::mutex> lock(mu);
      sink.add_counts(cur, acc);
    };
    for (std::size_t k = next.fetch_add(1, std::memory_order_relaxed); k < items.size();
         k = next.fetch_add(1, std::memory_order_relaxed)) {
      const Item& it = items[k];
      if (it.input != cur) {
        flush();
        cur = it.input;
      }
      const HistogramInput& in = inputs[it.input];
      const auto* base = static_cast<const uint8_t*>(in.data);
      moments[k] = count_piece(base + it.lo * dtype_size(in.dtype), it.len, in.dtype, &acc);
    }
    flush();
  };
  if (nworkers <= 1) {
    work(0);
  } else {
    pool->parallel_for(nworkers, work);
  }
  for (std::size_t i = 0; i < inputs.size(); ++i) {
    if (is_pattern_type(inputs[i].dtype)) continue;  // their parts carried the moments
    Moments m;
    for (std::size_t k = first_item[i]; k < first_item[i + 1]; ++k) m.merge(moments[k]);
    sink.add_moments(i, m);
  }
}

// run_batch's results as one HistogramAccum per input, out[0..inputs).
struct AccumSink {
  HistogramAccum* out;
  void add_counts(std::size_t i, WorkerAccum& w) { drain(w, out[i].counts.data()); }
  void add_moments(std::size_t i, const Moments& m) { accumulate_moments(m, &out[i]); }
  void add_part(std::size_t i, const HistogramAccum& part) { accumulate(part, &out[i]); }
};

// Counts data[0..n) into *acc on this thread, in run_batch's chunks with their moments merged
// in the same order (see chunk_of).
void count_on_this_thread(const void* data, std::size_t n, DType dt, WorkerAccum* acc) {
  const std::size_t chunk = chunk_of(n);
  const auto* base = static_cast<const uint8_t*>(data);
  for (std::size_t lo = 0; lo < n; lo += chunk) {
    count_piece(base + lo * dtype_size(dt), std::min(chunk, n - lo), dt, acc);
  }
}

// Counts data[0..n) into *out (emptied first). A small tensor runs on the calling thread's
// accumulator; a larger one is one run_batch input, its chunks shared by the pool's workers.
void run_histogram(const void* data, std::size_t n, DType dt, HistogramAccum* out,
                   ThreadPool* pool) {
  if (pool == nullptr || pool->size() <= 1 || n < kParallelThreshold) {
    WorkerAccum& acc = thread_accum();
    count_on_this_thread(data, n, dt, &acc);
    take_worker(acc, dt, out);
    return;
  }
  reset_accum(out);
  AccumSink sink{out};
  run_batch({HistogramInput{data, n, dt}}, pool, sink);
  mark_written_bins(dt, out);
}

// run_batch's results written straight into packed float64 rows (see histogram_default_rows):
// no per-input accumulator, and only the worker's min..max slot range is added into the row.
struct RowsSink {
  double* rows;
  std::size_t stride;
  double* row(std::size_t i) const { return rows + i * stride; }
  static void add_moments_to(const Moments& m, double* mo) {
    mo[0] = std::min(mo[0], m.min);  // Moments start at +-inf, as the row does
    mo[1] = std::max(mo[1], m.max);
    mo[2] += m.sum;
    mo[3] += m.sum_squares;
    mo[4] += static_cast<double>(m.finite);
    mo[5] += static_cast<double>(m.nan);
    mo[6] += static_cast<double>(m.pos_inf);
    mo[7] += static_cast<double>(m.neg_inf);
  }
  void add_counts(std::size_t i, WorkerAccum& w) { drain(w, row(i)); }
  void add_moments(std::size_t i, const Moments& m) { add_moments_to(m, row(i) + kDefaultBins); }
  void add_part(std::size_t i, const HistogramAccum& p) {
    double* r = row(i);
    for (std::size_t b = 0; b < kDefaultBins; ++b) r[b] += u64_to_double(p.counts[b]);
    Moments m{p.min, p.max, p.sum, p.sum_squares, p.finite, p.nan, p.pos_inf, p.neg_inf};
    if (p.finite == 0) {  // p.min and p.max are meaningless then
      m.min = std::numeric_limits<double>::infinity();
      m.max = -std::numeric_limits<double>::infinity();
    }
    add_moments_to(m, r + kDefaultBins);
  }
};

}  // namespace

void histogram_default_batch(const std::vector<HistogramInput>& inputs,
                             std::vector<HistogramAccum>* out, ThreadPool* pool) {
  out->assign(inputs.size(), HistogramAccum{});
  AccumSink sink{out->data()};
  run_batch(inputs, pool, sink);
}

void histogram_default_rows(const std::vector<HistogramInput>& inputs, double* rows,
                            std::size_t stride, ThreadPool* pool) {
  const double inf = std::numeric_limits<double>::infinity();
  for (std::size_t i = 0; i < inputs.size(); ++i) {
    double* r = rows + i * stride;
    std::fill_n(r, kDefaultBins, 0.0);
    const double moments[kRowMoments] = {inf, -inf, 0, 0, 0, 0, 0, 0};
    std::copy_n(moments, kRowMoments, r + kDefaultBins);
  }
  RowsSink sink{rows, stride};
  run_batch(inputs, pool, sink);
}

void histogram_default_serial(const void* data, std::size_t n, DType dtype, HistogramAccum* out) {
  run_histogram(data, n, dtype, out, nullptr);
}

void histogram_default(const void* data, std::size_t n, DType dtype, HistogramAccum* out,
                       ThreadPool* pool) {
  run_histogram(data, n, dtype, out, pool);
}

bool histogram_default_event(const void* data, std::size_t n, DType dtype, ThreadPool* pool,
                             HistogramData* out, NonFiniteCounts* skipped) {
  if (n < kParallelThreshold && !is_pattern_type(dtype)) {
    WorkerAccum& acc = thread_accum();
    count_on_this_thread(data, n, dtype, &acc);
    *skipped = {acc.m.nan, acc.m.pos_inf, acc.m.neg_inf};
    return drain_to_event(acc, out);
  }
  thread_local HistogramAccum acc;  // reused: see reset_accum
  run_histogram(data, n, dtype, &acc, pool);
  *skipped = {acc.nan, acc.pos_inf, acc.neg_inf};
  const auto [first, end] = acc.finite > 0 ? default_bin_range(acc.min, acc.max)
                                           : std::make_pair(std::size_t{0}, std::size_t{0});
  if (!finish_default_histogram(acc.counts.data(), first, end, out)) return false;
  out->min = acc.min;
  out->max = acc.max;
  out->num = static_cast<double>(acc.finite);
  out->sum = acc.sum;
  out->sum_squares = acc.sum_squares;
  return true;
}

const char* histogram_implementation() { return f32_path().name; }

std::pair<std::size_t, std::size_t> default_bin_range(double min, double max) {
  if (!(min <= max)) return {0, 0};
  const SlotTable& t = slot_table();
  // Slot s is bin s - 1; slots 0 and kDefaultBins + 1 (beyond the edges) hold no bin.
  const std::size_t first = std::max<uint32_t>(slot_of_double(t, min), 1) - 1;
  const std::size_t end = std::min<uint32_t>(slot_of_double(t, max), kDefaultBins);
  return first < end ? std::make_pair(first, end) : std::make_pair(std::size_t{0}, std::size_t{0});
}

std::vector<uint16_t> default_slot_table(std::vector<float>* thresholds) {
  const SlotTable& t = slot_table();
  thresholds->assign(t.thr.begin(), t.thr.end());
  return t.slot;
}

bool finish_histogram(const double* counts, std::size_t nbins, const double* limits,
                      std::optional<int64_t> max_bins, HistogramData* out) {
  // Grouping needs copies; the default (no max_bins) trims the caller's arrays in place, which
  // keeps a model-wide call from copying 24 KiB per histogram.
  std::vector<double> grouped_c, grouped_l;
  const double* c = counts;
  const double* l = limits;
  std::size_t nc = nbins;
  if (max_bins.has_value() && *max_bins > 0 && nbins > static_cast<std::size_t>(*max_bins)) {
    const std::size_t s = nbins / static_cast<std::size_t>(*max_bins);
    const std::size_t padded = (nbins + s - 1) / s * s;  // zero-padded to a multiple of s
    grouped_c.assign(padded / s, 0.0);
    for (std::size_t i = 0; i < nbins; ++i) grouped_c[i / s] += counts[i];
    for (std::size_t i = 0; i < nbins; i += s) grouped_l.push_back(limits[i]);  // limits[:-1:s]
    grouped_l.push_back(limits[nbins]);
    c = grouped_c.data();
    l = grouped_l.data();
    nc = grouped_c.size();
  }
  // The first and last non-empty bins, each searched from its own end: a tensor's counts sit in
  // a band of the 1548 default bins, so the bins between first and last are never read.
  std::size_t first = 0;
  while (first < nc && !(c[first] > 0)) ++first;
  if (first == nc) return false;
  std::size_t end = nc;
  while (!(c[end - 1] > 0)) --end;
  out->bucket.clear();
  if (first > 0) {
    out->bucket.assign(c + (first - 1), c + end);
  } else {
    out->bucket.push_back(0.0);
    out->bucket.insert(out->bucket.end(), c, c + end);
  }
  out->bucket_limit.assign(l + first, l + end + 1);
  return true;
}

bool finish_default_histogram(const uint64_t* counts, std::size_t first, std::size_t end,
                              HistogramData* out) {
  // The band's ends hold the min's and max's bins, so these loops stop at once unless those
  // values lie beyond the edges (their counts are dropped).
  while (first < end && counts[first] == 0) ++first;
  if (first == end) return false;
  while (counts[end - 1] == 0) --end;
  // One zero-count bucket leads: the bin left of the first non-empty one (empty by definition),
  // or an added 0 when that is bin 0; the limits are the bins' right edges.
  const std::size_t from = first > 0 ? first - 1 : 0;
  const std::size_t lead = first > 0 ? 0 : 1;
  out->bucket.resize(lead + end - from);
  double* b = out->bucket.data() + lead;
  for (std::size_t i = 0; i < end - from; ++i) b[i] = u64_to_double(counts[from + i]);
  out->bucket_limit.clear();
  out->shared_limits = default_edges().data() + first;
  return true;
}

}  // namespace xfast
