// SPDX-License-Identifier: Apache-2.0
// vector_slot_mismatches: the AVX-512 or AVX2 slots against the table, for every (or every k-th
// block of) float32 bit pattern.
#include "histogram_selftest.h"

#include <algorithm>
#include <array>
#include <cstring>
#include <thread>
#include <vector>

#include "cpu_features.h"
#include "histogram.h"
#include "histogram_moments.h"
#include "histogram_slot_poly.h"

namespace xfast {
namespace {

#if defined(XFAST_HAVE_AVX2)
struct Range {
  uint64_t checked = 0;
  uint64_t mismatches = 0;
};

Range check_range(internal::CountBlockFn count, uint64_t first, uint64_t last, uint64_t stride,
                  const std::vector<uint16_t>& slot, const std::vector<float>& thr) {
  using internal::kSlotCount;
  using internal::kSubCountRows;
  constexpr uint64_t kBlockLen = 2048;
  std::vector<uint32_t> c(kSubCountRows * kSlotCount, 0);
  std::array<float, kBlockLen> x{};
  std::array<std::size_t, kBlockLen> at{};
  Range r;
  for (uint64_t lo = first; lo < last; lo += kBlockLen * stride) {
    // The ranges checked span whole blocks (their ends are multiples of 2^23), so every block
    // is kBlockLen long: no lane falls in a vector loop's scalar tail.
    constexpr std::size_t n = kBlockLen;
    for (std::size_t i = 0; i < n; ++i) {
      const auto bits = static_cast<uint32_t>(lo + i);
      std::memcpy(&x[i], &bits, 4);
    }
    count(x.data(), n, 1, c.data(), internal::ExactSlots{slot.data(), thr.data()});
    for (std::size_t i = 0; i < n; ++i) {
      const uint32_t s = internal::exact_slot(slot.data(), thr.data(), x[i]);
      at[i] = (i % kSubCountRows) * kSlotCount + s;  // lanes cycle over the rows
      --c[at[i]];
    }
    r.checked += n;
    for (std::size_t i = 0; i < n; ++i) r.mismatches += c[at[i]] != 0 ? 1 : 0;
    if (r.mismatches != 0) return r;  // the counters are no longer all zero
  }
  return r;
}
#endif

}  // namespace

SlotCheckResult vector_slot_mismatches(const std::string& isa, uint64_t block_stride) {
  SlotCheckResult out;
  internal::CountBlockFn count = nullptr;
#if defined(XFAST_HAVE_AVX512)
  if (isa == "avx512" && internal::cpu_has_avx512f()) count = internal::count_block_avx512;
#endif
#if defined(XFAST_HAVE_AVX2)
  if (isa == "avx2" && internal::cpu_has_avx2_fma()) count = internal::count_block_avx2;
  if (count == nullptr) return out;
  const uint64_t stride = std::max<uint64_t>(block_stride, 1);
  std::vector<float> thr;
  const std::vector<uint16_t> slot = default_slot_table(&thr);
  // Finite patterns: positive [0, 0x7f800000), negative [0x80000000, 0xff800000).
  Range neg;
  std::thread t([&] { neg = check_range(count, 0x80000000u, 0xff800000u, stride, slot, thr); });
  const Range pos = check_range(count, 0, 0x7f800000u, stride, slot, thr);
  t.join();
  out.ran = true;
  out.checked = pos.checked + neg.checked;
  out.mismatches = pos.mismatches + neg.mismatches;
#else
  (void)isa;
  (void)block_stride;
  (void)count;
#endif
  return out;
}

}  // namespace xfast
