// SPDX-License-Identifier: Apache-2.0
#include "pixels.h"

#include <cstring>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

namespace xfast {

namespace {

// One pixel. `v > 0` is false for NaN, which so becomes 0; the float-to-int conversion then
// only sees [0, 255].
inline uint8_t pixel(float x) {
  float v = x * 255.0f;
  v = v > 0.0f ? v : 0.0f;
  v = v < 255.0f ? v : 255.0f;
  return static_cast<uint8_t>(static_cast<int>(v));
}

}  // namespace

void pixels_to_uint8(const float* src, std::size_t n, uint8_t* dst) {
  std::size_t i = 0;
#if defined(__SSE2__)
  // SSE2 (every x86-64): the pass is bound by memory, not by its 16-pixel steps.
  const __m128 scale = _mm_set1_ps(255.0f);
  const __m128 zero = _mm_setzero_ps();
  for (; i + 16 <= n; i += 16) {
    __m128i q[4];
    for (int k = 0; k < 4; ++k) {
      const __m128 v = _mm_mul_ps(_mm_loadu_ps(src + i + 4 * k), scale);
      // maxps returns its second operand when either is NaN: NaN becomes 0, as in pixel().
      q[k] = _mm_cvttps_epi32(_mm_min_ps(_mm_max_ps(v, zero), scale));
    }
    // [0, 255] fits int16 and uint8, so neither saturating pack changes a value.
    const __m128i lo = _mm_packs_epi32(q[0], q[1]);
    const __m128i hi = _mm_packs_epi32(q[2], q[3]);
    _mm_storeu_si128(reinterpret_cast<__m128i*>(dst + i), _mm_packus_epi16(lo, hi));
  }
#endif
  for (; i < n; ++i) {
    float x;
    std::memcpy(&x, src + i, sizeof x);  // a numpy array may be unaligned (np.frombuffer)
    dst[i] = pixel(x);
  }
}

}  // namespace xfast
