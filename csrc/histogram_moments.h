// SPDX-License-Identifier: Apache-2.0
// Per-block float32 moments shared by the histogram kernel and its per-ISA variants.
#pragma once

#include <cstddef>

namespace xfast::internal {

// Moments of one block of finite float32 values: min/max exact in float, sum and sum of
// squares in float64. A NaN/inf in the block makes sum_squares non-finite (the kernel's cue to
// redo the block with per-element checks).
struct BlockMoments {
  float min, max;
  double sum, sum_squares;
};

// The scalar loop: the portable path, and the tail of the SIMD ones (n >= 1).
inline BlockMoments block_moments_scalar(const float* p, std::size_t n) {
  BlockMoments b{p[0], p[0], 0.0, 0.0};
  for (std::size_t i = 0; i < n; ++i) {
    const float x = p[i];
    const double d = x;
    b.sum += d;
    b.sum_squares += d * d;
    b.min = x < b.min ? x : b.min;
    b.max = x > b.max ? x : b.max;
  }
  return b;
}

// Folds a tail's moments into r.
inline void add_block_moments(const BlockMoments& t, BlockMoments* r) {
  r->min = t.min < r->min ? t.min : r->min;
  r->max = t.max > r->max ? t.max : r->max;
  r->sum += t.sum;
  r->sum_squares += t.sum_squares;
}

// AVX2 variant (csrc/histogram_avx2.cc, built with -mavx2 on x86-64 only). Call only when
// cpu_has_avx2(); p[0..n) with n >= 1. Any thread.
BlockMoments block_moments_avx2(const float* p, std::size_t n);

}  // namespace xfast::internal
