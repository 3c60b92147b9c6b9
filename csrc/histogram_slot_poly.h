// SPDX-License-Identifier: Apache-2.0
// The float32 slot as arithmetic (a log2 polynomial) and its exact fallback: the constants the
// AVX-512 and AVX2 loops share.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>

#include "histogram_moments.h"
#include "platform.h"

namespace xfast::internal {

// Why a polynomial: the table path costs four dependent loads per element (value, slot, edge,
// counter) and measured ~0.58 ns/element on one Zen 5 core; computing the slot in vector
// registers and leaving only the counter increment scalar measured 0.31 ns/element with
// AVX-512, moments included.
//
// The positive edges are pos[k] ~= 1e-12 * 1.1^k, so the number of them <= a is
// floor(u) + 1 with u = (log2(a) - log2(1e-12)) / log2(1.1), clamped to [0, 774]. u is
// approximated in float32 (log2 of the mantissa by a degree-5 fit on [1, 2), max error 1.5e-5,
// i.e. 1.1e-4 in u; float rounding adds < 1e-4). A value whose approximate u lies within
// kDelta of an integer may sit on either side of an edge: those lanes (~0.1%) take the exact
// table lookup. Every other lane's floor(u) is exact. histogram_selftest.cc checks this against
// the table for every finite float32, for each ISA's evaluation of it.
inline constexpr float kDelta = 5e-4f;
// log2(m) ~= poly(m - 1.5) for m in [1, 2), highest power first.
inline constexpr float kPoly[6] = {0.04392957f,  -0.08001248f, 0.14171792f,
                                   -0.31974879f, 0.96182124f,  0.58495049f};
// u = log2(a) * kScale + kOffset; kScale = 1 / log2(1.1), kOffset = -log2(1e-12) / log2(1.1).
inline constexpr float kScale = 7.272540897341713f;
inline constexpr float kOffset = 289.9062951371614f;
// log2(a) is clamped so that u stays in [-0.5, 773.5]: 0 and values below the first edge get
// count 0, values above the last get count 774, without a lane ever being uncertain for it.
inline constexpr float kLog2Lo = (-0.5f - kOffset) / kScale;
inline constexpr float kLog2Hi = (773.5f - kOffset) / kScale;
// Slot of a value whose count of positive edges <= |x| is n + 1 (see histogram.cc's SlotTable:
// slot = number of edges <= x): 776 + n for x >= 0 (775 edges are <= 0), 773 - n for x < 0.
inline constexpr int kPositiveBase = 776;
inline constexpr int kNegativeBase = 773;

// Internal linkage for the reason given in histogram_moments.h: the files including this are
// built for their own ISA. For the same reason nothing here or in them instantiates a std::
// template (std::min, std::min_element, ...): those instantiations are weak symbols too.
namespace {

inline uint32_t exact_slot(const uint16_t* slot_table, const float* thr, float x) {
  uint32_t b;
  std::memcpy(&b, &x, 4);
  const uint32_t s = slot_table[b >> 15];
  return s + (x >= thr[s] ? 1u : 0u);
}

// Slot of a finite double: its float32 rounding picks the range, but it may round across a
// range boundary, so the candidate is corrected both ways against the edges as doubles (at
// most one step each: ranges hold at most one edge).
inline uint32_t exact_slot_f64(const uint16_t* slot_table, const double* thr64, double v) {
  if (v > 3.0e38 || v < -3.0e38) return v > 0 ? kSlotCount - 1 : 0;  // far beyond the edges
  const auto f = static_cast<float>(v);
  uint32_t b;
  std::memcpy(&b, &f, 4);
  uint32_t s = slot_table[b >> 15];
  if (v >= thr64[s]) ++s;
  if (s > 0 && v < thr64[s - 1]) --s;
  if (v == thr64[kSlotCount - 2]) s = kSlotCount - 2;  // the closed last bin
  return s;
}

// The exact slot of element i of a block p (see ExactSlots).
inline uint32_t exact_slot_at(const ExactSlots& e, const float* p, std::size_t i) {
  return e.source64 != nullptr ? exact_slot_f64(e.slot_table, e.thr64, e.source64[i])
                               : exact_slot(e.slot_table, e.thr, p[i]);
}

// count_groups_pipelined
//
// The counting half of a vector slot loop over `groups` groups of kWidth floats:
// compute(g, row) gathers group g's moments and stores its kWidth slots in `row`; group g's
// counters (lane j into row j % kSubCountRows of sub_counts) get `delta` while group g + kLag is
// computed. The scalar increments then overlap with the vector arithmetic (measured 0.43 ->
// 0.36 ns/element with AVX-512 against computing a whole block's slots first), and they read
// slots stored long before, never waiting on store forwarding.
template <std::size_t kWidth, typename Compute>
inline void count_groups_pipelined(std::size_t groups, uint32_t delta, uint32_t* sub_counts,
                                   Compute&& compute) {
  constexpr std::size_t kLag = 8;
  constexpr std::size_t kRing = 16;  // > kLag, a power of two: the index is a mask
  alignas(64) uint32_t ring[kRing][kWidth];
  uint32_t* XFAST_RESTRICT c = sub_counts;
  const auto count = [&](std::size_t g) __attribute__((always_inline)) {
    const uint32_t* r = ring[g % kRing];
    for (std::size_t k = 0; k < kWidth; k += kSubCountRows) {
      for (std::size_t j = 0; j < kSubCountRows; ++j) c[j * kSlotCount + r[k + j]] += delta;
    }
  };
  const std::size_t head = groups < kLag ? groups : kLag;  // no std:: templates: see above
  for (std::size_t g = 0; g < head; ++g) compute(g, ring[g % kRing]);
  for (std::size_t g = head; g < groups; ++g) {
    compute(g, ring[g % kRing]);
    count(g - kLag);
  }
  for (std::size_t g = groups - head; g < groups; ++g) count(g);
}

// The elements p[full..n) past the last whole group: exact slots into row 0, scalar moments
// into *res.
inline void count_tail(const float* p, std::size_t full, std::size_t n, uint32_t delta,
                       uint32_t* sub_counts, const ExactSlots& exact, BlockMoments* res) {
  if (full >= n) return;
  for (std::size_t i = full; i < n; ++i) sub_counts[exact_slot_at(exact, p, i)] += delta;
  add_block_moments(block_moments_scalar(p + full, n - full), res);
}

}  // namespace

}  // namespace xfast::internal
