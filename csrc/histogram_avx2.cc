// SPDX-License-Identifier: Apache-2.0
// float32 counting and moments with AVX2 + FMA: the AVX-512 loop's method (histogram_slot_poly.h)
// eight floats at a time, for CPUs without AVX-512. The only histogram file compiled with
// -mavx2 -mfma; it is called only after cpu_has_avx2_fma() said yes (see histogram.cc).
#include <immintrin.h>

#include "histogram_moments.h"
#include "histogram_slot_poly.h"
#include "platform.h"

namespace xfast::internal {

BlockMoments count_block_avx2(const float* p, std::size_t n, uint32_t delta, uint32_t* sub_counts,
                              const ExactSlots& exact) {
  const __m256i exp_mask = _mm256_set1_epi32(0xff);
  const __m256i mant_mask = _mm256_set1_epi32(0x7fffff);
  const __m256i one_bits = _mm256_set1_epi32(0x3f800000);  // 1.0f: mantissa bits -> [1, 2)
  const __m256 mant_mid = _mm256_set1_ps(1.5f);
  const __m256 exp_bias = _mm256_set1_ps(127.0f);
  const __m256 log_lo = _mm256_set1_ps(kLog2Lo);
  const __m256 log_hi = _mm256_set1_ps(kLog2Hi);
  const __m256 scale = _mm256_set1_ps(kScale);
  const __m256 off_lo = _mm256_set1_ps(kOffset - kDelta);
  const __m256 off_hi = _mm256_set1_ps(kOffset + kDelta);
  const __m256 zero = _mm256_setzero_ps();
  const __m256i pos_base = _mm256_set1_epi32(kPositiveBase);
  const __m256i neg_base = _mm256_set1_epi32(kNegativeBase);
  __m256 mn = _mm256_set1_ps(p[0]);
  __m256 mx = mn;
  __m256d s0 = _mm256_setzero_pd(), s1 = s0, q0 = s0, q1 = s0;
  const auto compute = [&](std::size_t g, uint32_t* r) __attribute__((always_inline)) {
    const float* q = p + 8 * g;
    const __m256 x = _mm256_loadu_ps(q);
    XFAST_PREFETCH(q + 1024);
    mn = _mm256_min_ps(mn, x);
    mx = _mm256_max_ps(mx, x);
    const __m256d a0 = _mm256_cvtps_pd(_mm256_castps256_ps128(x));
    const __m256d a1 = _mm256_cvtps_pd(_mm256_extractf128_ps(x, 1));
    s0 = _mm256_add_pd(s0, a0);
    s1 = _mm256_add_pd(s1, a1);
    q0 = _mm256_fmadd_pd(a0, a0, q0);
    q1 = _mm256_fmadd_pd(a1, a1, q1);

    // The exponent and mantissa fields, sign dropped. A subnormal or zero reads as 2^-127
    // times [1, 2) and inf/NaN as 2^128 times it: far outside [kLog2Lo, kLog2Hi] either way,
    // so the clamp gives them the slot of a tiny or a huge value (NaN/inf blocks are undone).
    const __m256i bits = _mm256_castps_si256(x);
    const __m256 e = _mm256_sub_ps(
        _mm256_cvtepi32_ps(_mm256_and_si256(_mm256_srli_epi32(bits, 23), exp_mask)), exp_bias);
    const __m256 m = _mm256_sub_ps(
        _mm256_castsi256_ps(_mm256_or_si256(_mm256_and_si256(bits, mant_mask), one_bits)),
        mant_mid);
    __m256 poly = _mm256_set1_ps(kPoly[0]);
    for (int k = 1; k < 6; ++k) poly = _mm256_fmadd_ps(poly, m, _mm256_set1_ps(kPoly[k]));
    __m256 l = _mm256_add_ps(e, poly);
    l = _mm256_min_ps(_mm256_max_ps(l, log_lo), log_hi);
    const __m256i n_lo = _mm256_cvttps_epi32(_mm256_round_ps(
        _mm256_fmadd_ps(l, scale, off_lo), _MM_FROUND_TO_NEG_INF | _MM_FROUND_NO_EXC));
    const __m256i n_hi = _mm256_cvttps_epi32(_mm256_round_ps(
        _mm256_fmadd_ps(l, scale, off_hi), _MM_FROUND_TO_NEG_INF | _MM_FROUND_NO_EXC));
    // x < 0 (not the sign bit): -0.0 belongs with +0.0 in bin [0, 1e-12).
    const __m256 neg = _mm256_cmp_ps(x, zero, _CMP_LT_OQ);
    _mm256_store_si256(reinterpret_cast<__m256i*>(r),
                       _mm256_castps_si256(_mm256_blendv_ps(
                           _mm256_castsi256_ps(_mm256_add_epi32(pos_base, n_lo)),
                           _mm256_castsi256_ps(_mm256_sub_epi32(neg_base, n_lo)), neg)));
    auto unsure = static_cast<unsigned>(
        _mm256_movemask_ps(_mm256_castsi256_ps(_mm256_cmpeq_epi32(n_lo, n_hi))) ^ 0xff);
    while (XFAST_UNLIKELY(unsure != 0)) {
      const unsigned j = static_cast<unsigned>(__builtin_ctz(unsure));
      unsure &= unsure - 1;
      r[j] = exact_slot_at(exact, p, 8 * g + j);
    }
  };
  const std::size_t groups = n / 8;
  count_groups_pipelined<8>(groups, delta, sub_counts, compute);

  alignas(32) float fmn[8], fmx[8];
  alignas(32) double ds[4], dq[4];
  _mm256_store_ps(fmn, mn);
  _mm256_store_ps(fmx, mx);
  _mm256_store_pd(ds, _mm256_add_pd(s0, s1));
  _mm256_store_pd(dq, _mm256_add_pd(q0, q1));
  BlockMoments res{fmn[0], fmx[0], (ds[0] + ds[1]) + (ds[2] + ds[3]),
                   (dq[0] + dq[1]) + (dq[2] + dq[3])};
  for (int i = 1; i < 8; ++i) {  // not std::min_element: see histogram_slot_poly.h
    res.min = fmn[i] < res.min ? fmn[i] : res.min;
    res.max = fmx[i] > res.max ? fmx[i] : res.max;
  }
  count_tail(p, 8 * groups, n, delta, sub_counts, exact, &res);
  return res;
}

}  // namespace xfast::internal
