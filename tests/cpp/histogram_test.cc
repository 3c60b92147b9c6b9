// SPDX-License-Identifier: Apache-2.0
// Default-bins histogram: the edge table, bins at and around every edge against a binary search,
// signed zeros, non-finite and out-of-range values, serial == parallel, and torch's trimming.
#include "histogram.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <random>
#include <vector>

#include "check.h"
#include "cpu_features.h"
#include "histogram_moments.h"
#include "histogram_selftest.h"
#include "thread_pool.h"

namespace {

using xfast::DType;
using xfast::HistogramAccum;
using xfast::HistogramData;
using xfast::kDefaultBins;

constexpr int kNone = -1;

// np.histogram's rule over explicit edges: bin i is [e_i, e_i+1), the last bin is closed.
int reference_bin(double v) {
  const auto& e = xfast::default_edges();
  if (!(v >= e.front() && v <= e.back())) return kNone;
  if (v == e.back()) return static_cast<int>(kDefaultBins) - 1;
  return static_cast<int>(std::upper_bound(e.begin(), e.end(), v) - e.begin()) - 1;
}

// The bin the kernel puts one value in (kNone when it counts none), checking it counts at most one.
template <typename T>
int kernel_bin(T v, DType dt) {
  HistogramAccum acc;
  xfast::histogram_default_serial(&v, 1, dt, &acc);
  int bin = kNone;
  uint64_t total = 0;
  for (std::size_t i = 0; i < kDefaultBins; ++i) {
    total += acc.counts[i];
    if (acc.counts[i] != 0) bin = static_cast<int>(i);
  }
  return total <= 1 ? bin : -2;
}

TEST(default_edges_table) {
  const auto& e = xfast::default_edges();
  CHECK_EQ(e.size(), std::size_t{1549});
  CHECK_EQ(e.size(), kDefaultBins + 1);
  CHECK_EQ(e[774], 0.0);
  CHECK_EQ(e[775], 1e-12);
  CHECK_EQ(e[776], 1.1000000000000002e-12);
  CHECK_EQ(e.back(), 9.920775621859783e19);
  CHECK_EQ(e.front(), -9.920775621859783e19);
  for (std::size_t i = 0; i < e.size(); ++i) CHECK_EQ(e[i], -e[e.size() - 1 - i]);
  CHECK(std::is_sorted(e.begin(), e.end()));
  CHECK(std::adjacent_find(e.begin(), e.end()) == e.end());
}

TEST(edges_and_neighbours_f64) {
  int mismatches = 0;
  for (double edge : xfast::default_edges()) {
    const double probes[] = {edge, std::nextafter(edge, -INFINITY), std::nextafter(edge, INFINITY)};
    for (double v : probes) {
      const int want = reference_bin(v);
      const int got = kernel_bin(v, DType::kFloat64);
      if (got != want && ++mismatches <= 5) CHECK_EQ(got, want);
    }
  }
  CHECK_EQ(mismatches, 0);
}

// float64 goes through the float32 vector loops narrowed (count_f64): doubles on and around
// every edge, within float32 rounding of it on both sides, that round to +-0 or beyond float32,
// all in whole blocks, counted as a binary search over the edges counts them.
TEST(f64_blocks_around_every_edge_equal_a_binary_search) {
  std::vector<double> v;
  for (double edge : xfast::default_edges()) {
    for (double r : {0.0, 0x1p-22, 0x1p-24, 0x1p-25, 0x1p-27, 1e-6, 4e-5, 1e-3}) {
      v.push_back(edge * (1 + r));
      v.push_back(edge * (1 - r));
    }
    v.push_back(std::nextafter(edge, -INFINITY));
    v.push_back(std::nextafter(edge, INFINITY));
    v.push_back(static_cast<float>(edge));  // the float32 rounding of the edge, as a double
  }
  for (double x : {-1e-50, 1e-50, -1e-46, 1e-46, -0.0, 0.0, 5e-324, -5e-324, 1e39, -1e39, 1e100,
                   -1e100, 3.5e38, -3.5e38}) {
    v.push_back(x);
  }
  std::mt19937 rng(3);
  std::shuffle(v.begin(), v.end(), rng);  // each block a mix, NaN-free: the vector path
  std::vector<uint64_t> want(kDefaultBins, 0);
  for (double x : v) {
    const int b = reference_bin(x);
    if (b >= 0) ++want[static_cast<std::size_t>(b)];
  }
  HistogramAccum acc;
  xfast::histogram_default_serial(v.data(), v.size(), DType::kFloat64, &acc);
  CHECK(acc.counts == want);
  CHECK_EQ(acc.finite, v.size());
  CHECK_EQ(acc.min, *std::min_element(v.begin(), v.end()));
  CHECK_EQ(acc.max, *std::max_element(v.begin(), v.end()));
  // A NaN sends its block through the per-element path: the same counts, one NaN.
  v.push_back(v[5000]);
  v[5000] = std::numeric_limits<double>::quiet_NaN();
  xfast::histogram_default_serial(v.data(), v.size(), DType::kFloat64, &acc);
  CHECK(acc.counts == want);
  CHECK_EQ(acc.nan, uint64_t{1});
}

// 32- and 64-bit integers go through the same blocks, converted to float64 first
// (count_integers): the integers on both sides of every edge within their range.
TEST(integer_blocks_around_every_edge_equal_a_binary_search) {
  std::vector<int64_t> v;
  for (double edge : xfast::default_edges()) {
    if (!(std::fabs(edge) >= 1 && std::fabs(edge) < 9e18)) continue;
    const auto below = static_cast<int64_t>(std::floor(edge));
    for (int64_t d = -1; d <= 2; ++d) v.push_back(below + d);
  }
  std::mt19937 rng(5);
  std::shuffle(v.begin(), v.end(), rng);
  std::vector<uint64_t> want(kDefaultBins, 0);
  std::vector<int32_t> narrow;  // the ones int32 holds
  std::vector<uint64_t> want32(kDefaultBins, 0);
  for (int64_t x : v) {
    const int b = reference_bin(static_cast<double>(x));
    if (b >= 0) ++want[static_cast<std::size_t>(b)];
    if (x >= INT32_MIN && x <= INT32_MAX) {
      narrow.push_back(static_cast<int32_t>(x));
      if (b >= 0) ++want32[static_cast<std::size_t>(b)];
    }
  }
  HistogramAccum acc;
  xfast::histogram_default_serial(v.data(), v.size(), DType::kInt64, &acc);
  CHECK(acc.counts == want);
  xfast::histogram_default_serial(narrow.data(), narrow.size(), DType::kInt32, &acc);
  CHECK(acc.counts == want32);
}

TEST(edges_and_neighbours_f32) {
  int mismatches = 0;
  for (double edge : xfast::default_edges()) {
    const auto f = static_cast<float>(edge);
    const float probes[] = {f, std::nextafter(f, -INFINITY), std::nextafter(f, INFINITY)};
    for (float v : probes) {
      const int want = reference_bin(static_cast<double>(v));
      const int got = kernel_bin(v, DType::kFloat32);
      if (got != want && ++mismatches <= 5) CHECK_EQ(got, want);
    }
  }
  CHECK_EQ(mismatches, 0);
}

TEST(signed_zeros_share_the_bin_right_of_zero) {
  const int zero_bin = static_cast<int>(kDefaultBins / 2);  // [0, 1e-12)
  CHECK_EQ(kernel_bin(0.0, DType::kFloat64), zero_bin);
  CHECK_EQ(kernel_bin(-0.0, DType::kFloat64), zero_bin);
  CHECK_EQ(kernel_bin(0.0f, DType::kFloat32), zero_bin);
  CHECK_EQ(kernel_bin(-0.0f, DType::kFloat32), zero_bin);
  CHECK_EQ(kernel_bin(-1e-13, DType::kFloat64), zero_bin - 1);
  CHECK_EQ(kernel_bin(1e-13, DType::kFloat64), zero_bin);
  CHECK_EQ(kernel_bin(std::numeric_limits<double>::denorm_min(), DType::kFloat64), zero_bin);
}

TEST(non_finite_counted_not_binned) {
  const double nan = std::numeric_limits<double>::quiet_NaN();
  const double inf = std::numeric_limits<double>::infinity();
  const double data[] = {nan, inf, -inf, 1.0, nan};
  HistogramAccum acc;
  xfast::histogram_default_serial(data, 5, DType::kFloat64, &acc);
  uint64_t binned = 0;
  for (uint64_t c : acc.counts) binned += c;
  CHECK_EQ(binned, uint64_t{1});
  CHECK_EQ(acc.nan, uint64_t{2});
  CHECK_EQ(acc.pos_inf, uint64_t{1});
  CHECK_EQ(acc.neg_inf, uint64_t{1});
  CHECK_EQ(acc.finite, uint64_t{1});
  CHECK_EQ(acc.min, 1.0);
  CHECK_EQ(acc.max, 1.0);
  CHECK_EQ(acc.sum, 1.0);
}

TEST(out_of_range_is_in_the_moments_only) {
  const double last = xfast::default_edges().back();
  const double data[] = {1e20, -1e20, last, -last, std::nextafter(last, INFINITY)};
  HistogramAccum acc;
  xfast::histogram_default_serial(data, 5, DType::kFloat64, &acc);
  CHECK_EQ(acc.counts[0], uint64_t{1});                 // -last: the first bin's left edge
  CHECK_EQ(acc.counts[kDefaultBins - 1], uint64_t{1});  // last: the closed last bin
  uint64_t binned = 0;
  for (uint64_t c : acc.counts) binned += c;
  CHECK_EQ(binned, uint64_t{2});
  CHECK_EQ(acc.finite, uint64_t{5});
  CHECK_EQ(acc.min, -1e20);
  CHECK_EQ(acc.max, 1e20);
  // Far beyond float32's range, the float-bits table must not be consulted.
  CHECK_EQ(kernel_bin(1e300, DType::kFloat64), kNone);
  CHECK_EQ(kernel_bin(-1e300, DType::kFloat64), kNone);
  CHECK_EQ(kernel_bin(std::numeric_limits<float>::max(), DType::kFloat32), kNone);
}

std::vector<double> spread_values(std::size_t n, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::uniform_real_distribution<double> exponent(-14.0, 21.0);
  std::vector<double> v(n);
  for (std::size_t i = 0; i < n; ++i) {
    const double mag = std::pow(10.0, exponent(rng));
    v[i] = (rng() & 1) ? mag : -mag;
    if (i % 997 == 0) v[i] = 0.0;
    if (i % 1999 == 0) v[i] = std::numeric_limits<double>::quiet_NaN();
    if (i % 4001 == 0) v[i] = -std::numeric_limits<double>::infinity();
  }
  return v;
}

// Sums included, bit for bit: a tensor's chunks and the order their moments merge in depend on
// its size alone, not on the path or the threads.
void check_same(const HistogramAccum& a, const HistogramAccum& b) {
  CHECK(a.counts == b.counts);
  CHECK_EQ(a.finite, b.finite);
  CHECK_EQ(a.nan, b.nan);
  CHECK_EQ(a.pos_inf, b.pos_inf);
  CHECK_EQ(a.neg_inf, b.neg_inf);
  CHECK_EQ(a.min, b.min);
  CHECK_EQ(a.max, b.max);
  CHECK_EQ(a.sum, b.sum);
  CHECK_EQ(a.sum_squares, b.sum_squares);
}

// default_bin_range(min, max) holds every bin a value in [min, max] is counted in, for values
// across the whole range of the edges (and beyond), and is empty when min > max.
TEST(bin_range_covers_every_counted_value) {
  const std::vector<double> v = spread_values(20000, 11);
  bool ok = true;
  for (std::size_t i = 0; i + 1 < v.size(); ++i) {
    if (!std::isfinite(v[i]) || !std::isfinite(v[i + 1])) continue;
    const double lo = std::min(v[i], v[i + 1]), hi = std::max(v[i], v[i + 1]);
    const auto [first, end] = xfast::default_bin_range(lo, hi);
    for (double x : {lo, hi}) {
      const int bin = kernel_bin(x, DType::kFloat64);
      if (bin == kNone) continue;
      const auto b = static_cast<std::size_t>(bin);
      if (b < first || b >= end) ok = false;
    }
  }
  CHECK(ok);
  const auto empty = xfast::default_bin_range(1.0, -1.0);
  CHECK_EQ(empty.first, std::size_t{0});
  CHECK_EQ(empty.second, std::size_t{0});
}

// One accumulator reused for tensors of different spreads (as the per-call path reuses its
// thread's) gives what a fresh one gives each time: it clears only the bins it last wrote.
TEST(reused_accumulator_equals_fresh_ones) {
  const std::vector<double> wide = spread_values(5000, 3);
  std::vector<float> narrow(300), ints_as_f(64);
  for (std::size_t i = 0; i < narrow.size(); ++i) narrow[i] = 0.01f * static_cast<float>(i % 7);
  for (std::size_t i = 0; i < ints_as_f.size(); ++i) ints_as_f[i] = static_cast<float>(i);
  std::vector<int32_t> ints(1000);
  for (std::size_t i = 0; i < ints.size(); ++i) ints[i] = static_cast<int32_t>(i) - 500;
  std::vector<int8_t> bytes(256);
  for (std::size_t i = 0; i < bytes.size(); ++i) bytes[i] = static_cast<int8_t>(i);
  HistogramAccum reused;
  for (int round = 0; round < 2; ++round) {
    auto same = [&](const void* data, std::size_t n, DType dt) {
      HistogramAccum fresh;
      xfast::histogram_default_serial(data, n, dt, &fresh);
      xfast::histogram_default_serial(data, n, dt, &reused);
      check_same(reused, fresh);
    };
    same(wide.data(), wide.size(), DType::kFloat64);
    same(narrow.data(), narrow.size(), DType::kFloat32);
    same(bytes.data(), bytes.size(), DType::kInt8);  // folded from bit patterns: every bin
    same(ints_as_f.data(), ints_as_f.size(), DType::kFloat32);
    same(ints.data(), ints.size(), DType::kInt32);
  }
}

// Sizes on both sides of the single-thread cut-off (2^18) and one that leaves a short last chunk.
TEST(serial_equals_parallel_around_the_threshold) {
  xfast::ThreadPool pool(4);
  // kParallelThreshold is 2^16; 300007 values make chunks of 2^15 shared by the workers.
  const std::size_t sizes[] = {(1u << 16) - 1, 1u << 16, (1u << 16) + 1, 300007};
  const std::vector<double> all = spread_values(300007, 7);
  for (std::size_t n : sizes) {
    HistogramAccum serial;
    HistogramAccum parallel;
    xfast::histogram_default_serial(all.data(), n, DType::kFloat64, &serial);
    xfast::histogram_default(all.data(), n, DType::kFloat64, &parallel, &pool);
    check_same(serial, parallel);
    // The counts also equal a binary search per value.
    std::vector<uint64_t> want(kDefaultBins, 0);
    for (std::size_t i = 0; i < n; ++i) {
      const int b = reference_bin(all[i]);
      if (b >= 0) ++want[static_cast<std::size_t>(b)];
    }
    CHECK(serial.counts == want);

    std::vector<float> f32(all.begin(), all.begin() + static_cast<std::ptrdiff_t>(n));
    xfast::histogram_default_serial(f32.data(), n, DType::kFloat32, &serial);
    xfast::histogram_default(f32.data(), n, DType::kFloat32, &parallel, &pool);
    check_same(serial, parallel);

    std::vector<int32_t> i32(n);
    for (std::size_t i = 0; i < n; ++i) i32[i] = static_cast<int32_t>(i * 2654435761u);
    xfast::histogram_default_serial(i32.data(), n, DType::kInt32, &serial);
    xfast::histogram_default(i32.data(), n, DType::kInt32, &parallel, &pool);
    check_same(serial, parallel);

    std::vector<uint16_t> f16(n);  // every half-float bit pattern, NaN and inf included
    for (std::size_t i = 0; i < n; ++i) f16[i] = static_cast<uint16_t>(i * 40503u);
    xfast::histogram_default_serial(f16.data(), n, DType::kFloat16, &serial);
    xfast::histogram_default(f16.data(), n, DType::kFloat16, &parallel, &pool);
    check_same(serial, parallel);
  }
}

// One pool dispatch over several tensors (small, chunk-spanning, mixed dtypes) gives each
// tensor exactly what its own call gives; under TSan this also checks the shared work list.
TEST(batch_equals_one_call_per_tensor) {
  xfast::ThreadPool pool(4);
  const std::vector<double> all = spread_values(300007, 11);
  std::vector<float> f32(all.begin(), all.end());
  std::vector<uint16_t> f16(70001);
  for (std::size_t i = 0; i < f16.size(); ++i) f16[i] = static_cast<uint16_t>(i * 40503u);
  const std::vector<xfast::HistogramInput> inputs = {
      {f32.data(), 5, DType::kFloat32},
      {all.data(), all.size(), DType::kFloat64},
      {f32.data() + 3, f32.size() - 3, DType::kFloat32},
      {f16.data(), f16.size(), DType::kFloat16},
      {all.data() + 1, 2048, DType::kFloat64},
  };
  std::vector<HistogramAccum> got;
  xfast::histogram_default_batch(inputs, &got, &pool);
  CHECK(got.size() == inputs.size());
  for (std::size_t i = 0; i < inputs.size(); ++i) {
    HistogramAccum one;
    xfast::histogram_default_serial(inputs[i].data, inputs[i].n, inputs[i].dtype, &one);
    check_same(one, got[i]);
  }
}

// histogram_default_rows writes each row exactly as one call per tensor counts it (float, half,
// integer pattern types, all non-finite), even over rows left dirty by an earlier call, and
// leaves the columns past the moments alone.
TEST(rows_equal_one_call_per_tensor) {
  xfast::ThreadPool pool(4);
  const std::vector<double> all = spread_values(300007, 13);
  std::vector<float> f32(all.begin(), all.end());
  std::vector<int8_t> i8(4099);
  for (std::size_t i = 0; i < i8.size(); ++i) i8[i] = static_cast<int8_t>(i * 37u);
  const std::vector<float> nonfinite = {std::numeric_limits<float>::quiet_NaN(),
                                        std::numeric_limits<float>::infinity(),
                                        -std::numeric_limits<float>::infinity()};
  const std::vector<xfast::HistogramInput> inputs = {
      {f32.data(), 256, DType::kFloat32},
      {f32.data(), f32.size(), DType::kFloat32},
      {i8.data(), i8.size(), DType::kInt8},
      {nonfinite.data(), nonfinite.size(), DType::kFloat32},
      {all.data() + 1, 2048, DType::kFloat64},
  };
  const std::size_t stride = kDefaultBins + xfast::kRowMoments + 2;
  std::vector<double> rows(inputs.size() * stride, 7.0);  // dirty, as np.empty leaves them
  for (int pass = 0; pass < 2; ++pass) {
    xfast::histogram_default_rows(inputs, rows.data(), stride, pass == 0 ? &pool : nullptr);
    for (std::size_t i = 0; i < inputs.size(); ++i) {
      HistogramAccum one;
      xfast::histogram_default_serial(inputs[i].data, inputs[i].n, inputs[i].dtype, &one);
      const double* r = rows.data() + i * stride;
      HistogramAccum got;
      for (std::size_t b = 0; b < kDefaultBins; ++b) got.counts[b] = static_cast<uint64_t>(r[b]);
      const double* mo = r + kDefaultBins;
      got.finite = static_cast<uint64_t>(mo[4]);
      got.min = got.finite > 0 ? mo[0] : one.min;
      got.max = got.finite > 0 ? mo[1] : one.max;
      if (got.finite == 0)
        CHECK(mo[0] == std::numeric_limits<double>::infinity() && mo[1] == -mo[0]);
      got.sum = mo[2];
      got.sum_squares = mo[3];
      got.nan = static_cast<uint64_t>(mo[5]);
      got.pos_inf = static_cast<uint64_t>(mo[6]);
      got.neg_inf = static_cast<uint64_t>(mo[7]);
      check_same(one, got);
      CHECK_EQ(r[stride - 2], 7.0);
      CHECK_EQ(r[stride - 1], 7.0);
    }
  }
}

std::vector<double> iota_limits(std::size_t n) {
  std::vector<double> l(n);
  for (std::size_t i = 0; i < n; ++i) l[i] = static_cast<double>(i);
  return l;
}

TEST(finish_groups_ten_bins_by_four_into_five) {
  const std::vector<double> counts = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10};
  const auto limits = iota_limits(11);
  HistogramData h;
  CHECK(xfast::finish_histogram(counts.data(), 10, limits.data(), 4, &h));
  CHECK(h.bucket == (std::vector<double>{0, 3, 7, 11, 15, 19}));  // leading zero + 5 bins
  CHECK(h.bucket_limit == (std::vector<double>{0, 2, 4, 6, 8, 10}));
  // B % s != 0: counts are zero-padded, edges are limits[0:-1:s] plus the last.
  CHECK(xfast::finish_histogram(counts.data(), 10, limits.data(), 3, &h));
  CHECK(h.bucket == (std::vector<double>{0, 6, 15, 24, 10}));
  CHECK(h.bucket_limit == (std::vector<double>{0, 3, 6, 9, 10}));
  // max_bins >= B leaves the bins alone.
  CHECK(xfast::finish_histogram(counts.data(), 10, limits.data(), 10, &h));
  CHECK_EQ(h.bucket.size(), std::size_t{11});
}

TEST(finish_default_bins_with_max_bins_100_gives_104) {
  const std::vector<double> counts(kDefaultBins, 1.0);
  const auto& e = xfast::default_edges();
  HistogramData h;
  CHECK(xfast::finish_histogram(counts.data(), kDefaultBins, e.data(), 100, &h));
  CHECK_EQ(h.bucket.size(), std::size_t{105});  // leading zero + 104 groups of 15
  CHECK_EQ(h.bucket_limit.size(), std::size_t{105});
  CHECK_EQ(h.bucket[1], 15.0);
  CHECK_EQ(h.bucket.back(), 3.0);  // 1548 = 103 * 15 + 3
  CHECK_EQ(h.bucket_limit[0], e[0]);
  CHECK_EQ(h.bucket_limit[1], e[15]);
  CHECK_EQ(h.bucket_limit.back(), e.back());
}

TEST(finish_empty_is_false) {
  const std::vector<double> counts(5, 0.0);
  const auto limits = iota_limits(6);
  HistogramData h;
  CHECK(!xfast::finish_histogram(counts.data(), 5, limits.data(), std::nullopt, &h));
}

TEST(finish_keeps_one_leading_zero) {
  const auto limits = iota_limits(8);
  HistogramData h;
  const std::vector<double> inner = {0, 0, 5, 0, 2, 0, 0};
  CHECK(xfast::finish_histogram(inner.data(), 7, limits.data(), std::nullopt, &h));
  CHECK(h.bucket == (std::vector<double>{0, 5, 0, 2}));
  CHECK(h.bucket_limit == (std::vector<double>{2, 3, 4, 5}));
  const std::vector<double> first = {4, 0, 1, 0};
  CHECK(xfast::finish_histogram(first.data(), 4, limits.data(), std::nullopt, &h));
  CHECK(h.bucket == (std::vector<double>{0, 4, 0, 1}));
  CHECK(h.bucket_limit == (std::vector<double>{0, 1, 2, 3}));
}

// The default-bins finisher (a kernel pass's uint64 band, limits shared with default_edges())
// gives what finish_histogram gives over all 1548 float64 counts: bands at both ends of the
// edges, inside them, and bands with empty bins at either end.
TEST(finish_default_equals_finish_histogram) {
  const auto& e = xfast::default_edges();
  const std::size_t bands[][2] = {{0, 1}, {0, 7}, {3, 9}, {700, 900}, {1540, kDefaultBins}};
  for (const auto& band : bands) {
    for (int empty_ends = 0; empty_ends < 4; ++empty_ends) {
      std::vector<uint64_t> counts(kDefaultBins, 0);
      for (std::size_t b = band[0]; b < band[1]; ++b) counts[b] = 1 + b % 3;
      if ((empty_ends & 1) && band[1] - band[0] > 2) counts[band[0]] = 0;
      if ((empty_ends & 2) && band[1] - band[0] > 2) counts[band[1] - 1] = 0;
      const std::vector<double> as_double(counts.begin(), counts.end());
      HistogramData want;
      HistogramData got;
      CHECK(xfast::finish_histogram(as_double.data(), kDefaultBins, e.data(), std::nullopt, &want));
      CHECK(xfast::finish_default_histogram(counts.data(), band[0], band[1], &got));
      CHECK(got.bucket == want.bucket);
      CHECK(got.bucket_limit.empty());
      CHECK(std::vector<double>(got.limit_data(), got.limit_data() + got.limit_count()) ==
            want.bucket_limit);
    }
  }
  const std::vector<uint64_t> none(kDefaultBins, 0);
  HistogramData h;
  CHECK(!xfast::finish_default_histogram(none.data(), 10, 20, &h));
}

// histogram_default_event writes what the kernel, then finish_histogram over every bin, give:
// small inputs go from the thread's accumulator straight into the event, larger ones and the
// bit-pattern types through a HistogramAccum. Sizes on both sides of the parallel threshold,
// each dtype, values beyond the edges on either side or both, nothing countable; each input
// twice, the thread's accumulator reused in between.
TEST(event_equals_kernel_then_finish) {
  xfast::ThreadPool pool(3);
  const auto& e = xfast::default_edges();
  const std::size_t sizes[] = {1, 17, 300, 5000, (1u << 16) - 1, 1u << 16, 70001};
  std::vector<double> spread = spread_values(70001, 5);  // beyond both ends, NaN, -inf
  std::vector<double> normal(70001);
  std::mt19937_64 rng(9);
  std::normal_distribution<double> n01(0.0, 0.02);
  for (double& v : normal) v = n01(rng);
  std::vector<double> high_only = normal;  // beyond the last edge, nothing below the first
  high_only[3] = 1e30;
  std::vector<double> low_only = normal;
  low_only[0] = -1e30;
  std::vector<double> beyond(70001, 5e20);       // nothing within the edges
  std::vector<double> beyond_both(70001, 5e20);  // nor here, the band spanning every bin
  for (std::size_t i = 0; i < beyond_both.size(); i += 2) beyond_both[i] = -5e20;
  std::vector<double> nans(70001, std::numeric_limits<double>::quiet_NaN());
  for (const std::vector<double>* values :
       {&spread, &normal, &high_only, &low_only, &beyond, &beyond_both, &nans}) {
    for (std::size_t n : sizes) {
      const std::vector<float> f32(values->begin(),
                                   values->begin() + static_cast<std::ptrdiff_t>(n));
      std::vector<uint16_t> bf16(n);
      std::vector<int32_t> i32(n);
      std::vector<int64_t> i64(n);
      std::vector<int8_t> i8(n);
      for (std::size_t i = 0; i < n; ++i) {
        uint32_t bits;
        std::memcpy(&bits, &f32[i], 4);
        bf16[i] = static_cast<uint16_t>(bits >> 16);  // truncated: still a bfloat16 value
        const double v = (*values)[i] * 1e6;
        i32[i] = std::isfinite(v) && std::abs(v) < 2e9 ? static_cast<int32_t>(v) : -7;
        i64[i] =
            std::isfinite(v) && std::abs(v) < 9e18 ? static_cast<int64_t>(v) : int64_t{1} << 62;
        i8[i] = static_cast<int8_t>(i32[i]);
      }
      const struct {
        const void* data;
        DType dt;
      } inputs[] = {{values->data(), DType::kFloat64}, {f32.data(), DType::kFloat32},
                    {bf16.data(), DType::kBFloat16},   {i32.data(), DType::kInt32},
                    {i64.data(), DType::kInt64},       {i8.data(), DType::kInt8}};
      for (const auto& in : inputs) {
        HistogramAccum acc;
        xfast::histogram_default_serial(in.data, n, in.dt, &acc);
        const std::vector<double> counts(acc.counts.begin(), acc.counts.end());
        HistogramData want;
        const bool want_written =
            xfast::finish_histogram(counts.data(), kDefaultBins, e.data(), std::nullopt, &want);
        for (int round = 0; round < 2; ++round) {
          HistogramData got;
          xfast::NonFiniteCounts skipped;
          const bool written =
              xfast::histogram_default_event(in.data, n, in.dt, &pool, &got, &skipped);
          CHECK_EQ(written, want_written);
          CHECK_EQ(skipped.nan, acc.nan);
          CHECK_EQ(skipped.pos_inf, acc.pos_inf);
          CHECK_EQ(skipped.neg_inf, acc.neg_inf);
          if (!written) continue;
          CHECK(got.bucket == want.bucket);
          CHECK(std::vector<double>(got.limit_data(), got.limit_data() + got.limit_count()) ==
                want.bucket_limit);
          CHECK_EQ(got.num, static_cast<double>(acc.finite));
          CHECK_EQ(got.min, acc.min);
          CHECK_EQ(got.max, acc.max);
          CHECK_EQ(got.sum, acc.sum);
          CHECK_EQ(got.sum_squares, acc.sum_squares);
        }
      }
    }
  }
}

// compat-spec section 3's examples, through the kernel and the trim.
HistogramData default_histogram(const std::vector<double>& values) {
  HistogramAccum acc;
  xfast::histogram_default_serial(values.data(), values.size(), DType::kFloat64, &acc);
  std::vector<double> counts(acc.counts.begin(), acc.counts.end());
  HistogramData h;
  if (!xfast::finish_histogram(counts.data(), kDefaultBins, xfast::default_edges().data(),
                               std::nullopt, &h)) {
    h.bucket.clear();
  }
  return h;
}

TEST(compat_spec_examples) {
  HistogramData h = default_histogram({1.0});
  CHECK(h.bucket_limit == (std::vector<double>{0.917246389039776, 1.0089710279437536}));
  CHECK(h.bucket == (std::vector<double>{0, 1}));
  h = default_histogram({0.0});
  CHECK(h.bucket_limit == (std::vector<double>{0.0, 1e-12}));
  h = default_histogram({-1e-13});
  CHECK(h.bucket_limit == (std::vector<double>{-1e-12, 0.0}));
  CHECK_EQ(default_histogram({-1.0, 1.0}).bucket.size(), std::size_t{583});
  CHECK(default_histogram({5e20}).bucket.empty());
}

#if defined(XFAST_HAVE_AVX2)
// The vector paths compute slots from a log2 polynomial and trust it except within a margin of
// each edge; this checks the margin covers the polynomial's and float32's error against the
// exact table. Optimized builds check every finite float32; Debug and sanitizer builds (10-50x
// slower) every 16th block of 2048, and pytest runs the full check on the optimized module.
#if defined(__OPTIMIZE__) && !defined(__SANITIZE_ADDRESS__) && !defined(__SANITIZE_THREAD__)
constexpr uint64_t kSlotCheckStride = 1;
#else
constexpr uint64_t kSlotCheckStride = 16;
#endif

void check_vector_slots(const char* isa) {
  const xfast::SlotCheckResult r = xfast::vector_slot_mismatches(isa, kSlotCheckStride);
  if (!r.ran) {
    std::printf("  skipped %s: this CPU lacks it\n", isa);
    return;
  }
  CHECK_EQ(r.mismatches, uint64_t{0});
  CHECK(r.checked >= (uint64_t{0xff000000} / kSlotCheckStride) - 4096);
}

TEST(avx512_slots_equal_the_table_for_every_float32) { check_vector_slots("avx512"); }
TEST(avx2_slots_equal_the_table_for_every_float32) { check_vector_slots("avx2"); }

// A block holding NaN/inf is counted, then undone with delta = -1: every counter returns to 0.
void check_undo(xfast::internal::CountBlockFn count) {
  std::vector<float> thr;
  const std::vector<uint16_t> slot = xfast::default_slot_table(&thr);
  std::vector<float> x(1000);
  std::mt19937 rng(7);
  std::normal_distribution<float> normal;
  for (float& v : x) v = normal(rng);
  x[3] = std::numeric_limits<float>::quiet_NaN();
  x[500] = std::numeric_limits<float>::infinity();
  x[999] = -std::numeric_limits<float>::infinity();  // in the scalar tail
  x[200] = 0.0f;
  x[201] = 1e-40f;  // subnormal
  std::vector<uint32_t> c(xfast::internal::kSubCountRows * xfast::internal::kSlotCount, 0);
  const xfast::internal::ExactSlots exact{slot.data(), thr.data()};
  const auto b = count(x.data(), x.size(), 1, c.data(), exact);
  CHECK(!std::isfinite(b.sum_squares));
  count(x.data(), x.size(), ~uint32_t{0}, c.data(), exact);
  CHECK(std::all_of(c.begin(), c.end(), [](uint32_t v) { return v == 0; }));
}

#if defined(XFAST_HAVE_AVX512)
TEST(avx512_block_with_nan_and_inf_undoes_exactly) {
  if (xfast::internal::cpu_has_avx512f()) check_undo(xfast::internal::count_block_avx512);
}
#endif

TEST(avx2_block_with_nan_and_inf_undoes_exactly) {
  if (xfast::internal::cpu_has_avx2_fma()) check_undo(xfast::internal::count_block_avx2);
}
#endif

}  // namespace
