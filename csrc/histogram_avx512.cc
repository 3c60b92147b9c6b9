// SPDX-License-Identifier: Apache-2.0
// float32 counting and moments with AVX-512F: the bucket index computed from a log2 polynomial,
// sixteen floats per instruction, with no table lookup. The only histogram file compiled with
// -mavx512f; it is called only after cpu_has_avx512f() said yes (see histogram.cc).
// GCC 12's AVX-512 intrinsics (min, max, getexp, cvtps_pd, ...) start from _mm512_undefined_*(),
// which its own -Wuninitialized then flags wherever they inline: GCC bug 105593, fixed in 12.3
// (Debian 12 ships 12.2). Only for GCC 12 and only in this file; nothing here is uninitialized.
#if defined(__GNUC__) && !defined(__clang__) && __GNUC__ == 12
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#pragma GCC diagnostic ignored "-Wuninitialized"
#endif
#include <immintrin.h>

#include <cmath>
#include <cstring>

#include "histogram_moments.h"
#include "platform.h"

namespace xfast::internal {
namespace {

// Why a polynomial: the table path costs four dependent loads per element (value, slot, edge,
// counter) and measured ~0.58 ns/element on one Zen 5 core; computing the slot in vector
// registers and leaving only the counter increment scalar measured 0.36 ns/element, moments
// included.
//
// The positive edges are pos[k] ~= 1e-12 * 1.1^k, so the number of them <= a is
// floor(u) + 1 with u = (log2(a) - log2(1e-12)) / log2(1.1), clamped to [0, 774]. u is
// approximated in float32 (log2 of the mantissa by a degree-5 fit on [1, 2), max error 1.5e-5,
// i.e. 1.1e-4 in u; float rounding adds < 1e-4). A value whose approximate u lies within
// kDelta of an integer may sit on either side of an edge: those lanes (~0.1%) take the exact
// table lookup. Every other lane's floor(u) is exact. tests/cpp/histogram_test.cc checks this
// against the table for every finite float32.
constexpr float kDelta = 5e-4f;
// log2(m) ~= poly(m - 1.5) for m in [1, 2), highest power first.
constexpr float kPoly[6] = {0.04392957f, -0.08001248f, 0.14171792f,
                            -0.31974879f, 0.96182124f, 0.58495049f};
// u = log2(a) * kScale + kOffset; kScale = 1 / log2(1.1), kOffset = -log2(1e-12) / log2(1.1).
constexpr float kScale = 7.272540897341713f;
constexpr float kOffset = 289.9062951371614f;
// log2(a) is clamped so that u stays in [-0.5, 773.5]: 0 and values below the first edge get
// count 0, values above the last get count 774, without a lane ever being uncertain for it.
constexpr float kLog2Lo = (-0.5f - kOffset) / kScale;
constexpr float kLog2Hi = (773.5f - kOffset) / kScale;
// Slot of a value whose count of positive edges <= |x| is n + 1 (see histogram.cc's SlotTable:
// slot = number of edges <= x): 776 + n for x >= 0 (775 edges are <= 0), 773 - n for x < 0.
constexpr int kPositiveBase = 776;
constexpr int kNegativeBase = 773;

inline uint32_t exact_slot(const uint16_t* slot_table, const float* thr, float x) {
  uint32_t b;
  std::memcpy(&b, &x, 4);
  const uint32_t s = slot_table[b >> 15];
  return s + (x >= thr[s] ? 1u : 0u);
}

}  // namespace

BlockMoments count_block_avx512(const float* p, std::size_t n, uint32_t delta,
                                uint32_t* sub_counts, const uint16_t* slot_table,
                                const float* thr) {
  const __m512 mant_mid = _mm512_set1_ps(1.5f);
  const __m512 log_lo = _mm512_set1_ps(kLog2Lo);
  const __m512 log_hi = _mm512_set1_ps(kLog2Hi);
  const __m512 scale = _mm512_set1_ps(kScale);
  const __m512 off_lo = _mm512_set1_ps(kOffset - kDelta);
  const __m512 off_hi = _mm512_set1_ps(kOffset + kDelta);
  const __m512 zero = _mm512_setzero_ps();
  const __m512i pos_base = _mm512_set1_epi32(kPositiveBase);
  const __m512i neg_base = _mm512_set1_epi32(kNegativeBase);
  __m512 mn = _mm512_set1_ps(p[0]);
  __m512 mx = mn;
  __m512d s0 = _mm512_setzero_pd(), s1 = s0, q0 = s0, q1 = s0;
  uint32_t* XFAST_RESTRICT c = sub_counts;
  // Slots of the last kRing groups of 16. The counters of group g are incremented while group
  // g + kLag is computed: the scalar increments and the vector arithmetic then overlap in the
  // core (measured 0.43 -> 0.36 ns/element against computing a whole block's slots first), and
  // the increments read slots stored long before, never waiting on store forwarding.
  constexpr std::size_t kLag = 8;
  constexpr std::size_t kRing = 16;  // > kLag, a power of two: the index is a mask
  alignas(64) uint32_t ring[kRing][16];
  const auto compute = [&](std::size_t g) __attribute__((always_inline)) {
    const float* q = p + 16 * g;
    const __m512 x = _mm512_loadu_ps(q);
    // 4 KiB ahead: the hardware prefetcher alone left the pass ~13% slower (2e7 floats on two
    // threads: 3.8 -> 3.3 ms); 2 to 16 KiB ahead measured the same.
    XFAST_PREFETCH(q + 1024);
    mn = _mm512_min_ps(mn, x);
    mx = _mm512_max_ps(mx, x);
    const __m512d a0 = _mm512_cvtps_pd(_mm512_castps512_ps256(x));
    const __m512d a1 =
        _mm512_cvtps_pd(_mm256_castpd_ps(_mm512_extractf64x4_pd(_mm512_castps_pd(x), 1)));
    s0 = _mm512_add_pd(s0, a0);
    s1 = _mm512_add_pd(s1, a1);
    q0 = _mm512_fmadd_pd(a0, a0, q0);
    q1 = _mm512_fmadd_pd(a1, a1, q1);

    // getexp/getmant handle subnormals; 0 gives -inf, clamped like any tiny value. NaN clamps
    // to log_lo (max returns its second operand) and inf to log_hi, so every lane's slot is in
    // range and depends only on its value (count_f32 relies on that to undo a block holding
    // NaN/inf).
    const __m512 m =
        _mm512_sub_ps(_mm512_getmant_ps(x, _MM_MANT_NORM_1_2, _MM_MANT_SIGN_zero), mant_mid);
    __m512 poly = _mm512_set1_ps(kPoly[0]);
    for (int k = 1; k < 6; ++k) poly = _mm512_fmadd_ps(poly, m, _mm512_set1_ps(kPoly[k]));
    __m512 l = _mm512_add_ps(_mm512_getexp_ps(x), poly);
    l = _mm512_min_ps(_mm512_max_ps(l, log_lo), log_hi);
    // floor(u - kDelta) and floor(u + kDelta) agree exactly when no integer lies within kDelta
    // of u: two roundings and a compare, cheaper than floor, fraction and two range tests.
    const __m512i n_lo = _mm512_cvt_roundps_epi32(_mm512_fmadd_ps(l, scale, off_lo),
                                                  _MM_FROUND_TO_NEG_INF | _MM_FROUND_NO_EXC);
    const __m512i n_hi = _mm512_cvt_roundps_epi32(_mm512_fmadd_ps(l, scale, off_hi),
                                                  _MM_FROUND_TO_NEG_INF | _MM_FROUND_NO_EXC);
    // x < 0 (not the sign bit): -0.0 belongs with +0.0 in bin [0, 1e-12).
    const __mmask16 neg = _mm512_cmp_ps_mask(x, zero, _CMP_LT_OQ);
    uint32_t* r = ring[g % kRing];
    _mm512_store_si512(r, _mm512_mask_sub_epi32(_mm512_add_epi32(pos_base, n_lo), neg, neg_base,
                                                n_lo));
    unsigned unsure = _mm512_cmpneq_epi32_mask(n_lo, n_hi);
    while (XFAST_UNLIKELY(unsure != 0)) {
      const unsigned j = static_cast<unsigned>(__builtin_ctz(unsure));
      unsure &= unsure - 1;
      r[j] = exact_slot(slot_table, thr, q[j]);
    }
  };
  const auto count = [&](std::size_t g) __attribute__((always_inline)) {
    const uint32_t* r = ring[g % kRing];
    for (std::size_t k = 0; k < 16; k += kSubCountRows) {
      for (std::size_t j = 0; j < kSubCountRows; ++j) c[j * kSlotCount + r[k + j]] += delta;
    }
  };
  const std::size_t groups = n / 16;
  const std::size_t head = std::min(groups, kLag);
  for (std::size_t g = 0; g < head; ++g) compute(g);
  for (std::size_t g = head; g < groups; ++g) {
    compute(g);
    count(g - kLag);
  }
  for (std::size_t g = groups - head; g < groups; ++g) count(g);
  BlockMoments res{_mm512_reduce_min_ps(mn), _mm512_reduce_max_ps(mx),
                   _mm512_reduce_add_pd(_mm512_add_pd(s0, s1)),
                   _mm512_reduce_add_pd(_mm512_add_pd(q0, q1))};
  const std::size_t full = 16 * groups;
  if (full < n) {
    for (std::size_t i = full; i < n; ++i) c[exact_slot(slot_table, thr, p[i])] += delta;
    add_block_moments(block_moments_scalar(p + full, n - full), &res);
  }
  return res;
}

}  // namespace xfast::internal
