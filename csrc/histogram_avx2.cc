// SPDX-License-Identifier: Apache-2.0
// float32 block moments with AVX2. The only histogram file compiled with -mavx2; it is called
// only after cpu_has_avx2() said yes (see choose_f32_path in histogram.cc).
#include <immintrin.h>

#include <algorithm>

#include "histogram_moments.h"

namespace xfast::internal {

// Same contract and accumulation layout as the SSE2 loop, twice as wide: vcvtps2pd widens four
// floats per instruction, so the moments take about half the uops (they were ~30% of the f32
// pass in perf, the counting loop the rest).
BlockMoments block_moments_avx2(const float* p, std::size_t n) {
  __m256 mn = _mm256_set1_ps(p[0]);
  __m256 mx = mn;
  __m256d s0 = _mm256_setzero_pd(), s1 = s0, s2 = s0, s3 = s0;
  __m256d q0 = s0, q1 = s0, q2 = s0, q3 = s0;
  const std::size_t full = n - n % 16;
  for (std::size_t i = 0; i < full; i += 16) {
    const __m256 a = _mm256_loadu_ps(p + i);
    const __m256 b = _mm256_loadu_ps(p + i + 8);
    mn = _mm256_min_ps(mn, _mm256_min_ps(a, b));
    mx = _mm256_max_ps(mx, _mm256_max_ps(a, b));
    const __m256d a0 = _mm256_cvtps_pd(_mm256_castps256_ps128(a));
    const __m256d a1 = _mm256_cvtps_pd(_mm256_extractf128_ps(a, 1));
    const __m256d b0 = _mm256_cvtps_pd(_mm256_castps256_ps128(b));
    const __m256d b1 = _mm256_cvtps_pd(_mm256_extractf128_ps(b, 1));
    s0 = _mm256_add_pd(s0, a0);
    s1 = _mm256_add_pd(s1, a1);
    s2 = _mm256_add_pd(s2, b0);
    s3 = _mm256_add_pd(s3, b1);
    q0 = _mm256_add_pd(q0, _mm256_mul_pd(a0, a0));
    q1 = _mm256_add_pd(q1, _mm256_mul_pd(a1, a1));
    q2 = _mm256_add_pd(q2, _mm256_mul_pd(b0, b0));
    q3 = _mm256_add_pd(q3, _mm256_mul_pd(b1, b1));
  }
  alignas(32) float fmn[8], fmx[8];
  alignas(32) double ds[4], dq[4];
  _mm256_store_ps(fmn, mn);
  _mm256_store_ps(fmx, mx);
  _mm256_store_pd(ds, _mm256_add_pd(_mm256_add_pd(s0, s1), _mm256_add_pd(s2, s3)));
  _mm256_store_pd(dq, _mm256_add_pd(_mm256_add_pd(q0, q1), _mm256_add_pd(q2, q3)));
  BlockMoments r{*std::min_element(fmn, fmn + 8), *std::max_element(fmx, fmx + 8),
                 (ds[0] + ds[1]) + (ds[2] + ds[3]), (dq[0] + dq[1]) + (dq[2] + dq[3])};
  if (full < n) add_block_moments(block_moments_scalar(p + full, n - full), &r);
  return r;
}

}  // namespace xfast::internal
