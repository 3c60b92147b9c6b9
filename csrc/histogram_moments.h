// SPDX-License-Identifier: Apache-2.0
// Per-block float32 moments (and slots) shared by the histogram kernel and its per-ISA variants.
#pragma once

#include <cstddef>
#include <cstdint>

namespace xfast::internal {

// Moments of one block of finite float32 values: min/max exact in float, sum and sum of
// squares in float64. A NaN/inf in the block makes sum_squares non-finite (the kernel's cue to
// redo the block with per-element checks).
struct BlockMoments {
  float min, max;
  double sum, sum_squares;
};

// Internal linkage on purpose: this header is compiled into files built for different ISAs
// (-mavx2, -mavx512f). An inline function with external linkage that one of them does not
// inline (Debug builds) becomes a weak symbol, and the linker may then hand the AVX-512 copy to
// the baseline path's callers: SIGILL on a CPU without it.
namespace {

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

}  // namespace

// Slots (histogram.cc's SlotTable numbering: 0 below the first edge, 1 + i bin i, 1549 above the
// last edge) and the rows of sub-counts the float32 counting loops spread increments over.
inline constexpr std::size_t kSlotCount = 1550;
inline constexpr std::size_t kSubCountRows = 4;

// Where the vector loops take the slot of a value the polynomial cannot place (~0.1%: those
// close to an edge). slot_table and thr are SlotTable's float32 arrays, for the float itself.
// When source64 is set, the block's floats are float64 values narrowed for the loops, and such a
// lane's slot is that of source64[i] against the edges as doubles (thr64): a double within
// float32 rounding of an edge may round across it, and the polynomial finds every such lane
// uncertain (its float lies within one ulp of the edge, far inside kDelta).
struct ExactSlots {
  const uint16_t* slot_table;
  const float* thr;
  const double* thr64 = nullptr;
  const double* source64 = nullptr;
};

// AVX-512F variant (csrc/histogram_avx512.cc): the block's moments as above, and each element's
// slot counted: sub_counts[j * kSlotCount + slot] += delta, j cycling over kSubCountRows rows.
// Slots come from a log2 polynomial (histogram_slot_poly.h); the ~0.1% of values close to an
// edge take their exact slot (ExactSlots). A lane's slot depends only on its value, NaN/inf
// included (they land in range), so calling again with delta = 2^32 - 1 undoes a block the
// moments show holds NaN/inf. Call only when cpu_has_avx512f(); n >= 1. Any thread.
BlockMoments count_block_avx512(const float* p, std::size_t n, uint32_t delta,
                                uint32_t* sub_counts, const ExactSlots& exact);

// The same with AVX2 and FMA (csrc/histogram_avx2.cc), eight floats per instruction. Call only
// when cpu_has_avx2_fma().
BlockMoments count_block_avx2(const float* p, std::size_t n, uint32_t delta, uint32_t* sub_counts,
                              const ExactSlots& exact);

// Widens float16 p[0..n) to float32 out[0..) (vcvtph2ps: exact, NaN payloads and subnormals
// included) in whole groups of 16; returns how many it widened. Call only when
// cpu_has_avx512f().
std::size_t widen_f16_avx512(const uint16_t* p, std::size_t n, float* out);
// The same for bfloat16 (each value's bits become the top half of a float32's).
std::size_t widen_bf16_avx512(const uint16_t* p, std::size_t n, float* out);

// Either of the two.
using CountBlockFn = BlockMoments (*)(const float*, std::size_t, uint32_t, uint32_t*,
                                      const ExactSlots&);

}  // namespace xfast::internal
