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

// AVX2 variant (csrc/histogram_avx2.cc, built with -mavx2 on x86-64 only). Call only when
// cpu_has_avx2(); p[0..n) with n >= 1. Any thread.
BlockMoments block_moments_avx2(const float* p, std::size_t n);

}  // namespace xfast::internal
