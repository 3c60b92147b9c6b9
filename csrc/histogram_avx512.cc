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

#include "histogram_moments.h"
#include "histogram_slot_poly.h"
#include "platform.h"

namespace xfast::internal {

BlockMoments count_block_avx512(const float* p, std::size_t n, uint32_t delta,
                                uint32_t* sub_counts, const ExactSlots& exact) {
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
  const auto compute = [&](std::size_t g, uint32_t* r) __attribute__((always_inline)) {
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
    _mm512_store_si512(r, _mm512_mask_sub_epi32(_mm512_add_epi32(pos_base, n_lo), neg, neg_base,
                                                n_lo));
    unsigned unsure = _mm512_cmpneq_epi32_mask(n_lo, n_hi);
    while (XFAST_UNLIKELY(unsure != 0)) {
      const unsigned j = static_cast<unsigned>(__builtin_ctz(unsure));
      unsure &= unsure - 1;
      r[j] = exact_slot_at(exact, p, 16 * g + j);
    }
  };
  const std::size_t groups = n / 16;
  count_groups_pipelined<16>(groups, delta, sub_counts, compute);
  BlockMoments res{_mm512_reduce_min_ps(mn), _mm512_reduce_max_ps(mx),
                   _mm512_reduce_add_pd(_mm512_add_pd(s0, s1)),
                   _mm512_reduce_add_pd(_mm512_add_pd(q0, q1))};
  count_tail(p, 16 * groups, n, delta, sub_counts, exact, &res);
  return res;
}

std::size_t widen_f16_avx512(const uint16_t* p, std::size_t n, float* out) {
  std::size_t i = 0;
  for (; i + 16 <= n; i += 16) {
    const __m256i h = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p + i));
    _mm512_storeu_ps(out + i, _mm512_cvtph_ps(h));
  }
  return i;
}

std::size_t widen_bf16_avx512(const uint16_t* p, std::size_t n, float* out) {
  std::size_t i = 0;
  for (; i + 16 <= n; i += 16) {
    const __m256i h = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p + i));
    _mm512_storeu_si512(out + i, _mm512_slli_epi32(_mm512_cvtepu16_epi32(h), 16));
  }
  return i;
}

}  // namespace xfast::internal
