// SPDX-License-Identifier: Apache-2.0
// The default-bins histogram kernel and torch's bucket trimming (make_histogram semantics).
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <utility>
#include <vector>

#include "event_encode.h"

namespace xfast {

class ThreadPool;

// Element types the kernel reads in place, without a conversion copy.
enum class DType : uint8_t {
  kFloat32,
  kFloat64,
  kFloat16,
  kBFloat16,
  kInt8,
  kUInt8,
  kInt16,
  kUInt16,
  kInt32,
  kUInt32,
  kInt64,
  kUInt64,
  kBool,
};

// Bytes per element of `dtype`.
std::size_t dtype_size(DType dtype);

// The edges torch.utils.tensorboard uses for bins='tensorflow': v = 1e-12, then v *= 1.1 while
// v < 1e20 (repeated double multiplication, not 1.1**i), mirrored, with 0 in the middle:
// 1549 edges, 1548 bins. Built once; any thread.
const std::vector<double>& default_edges();
inline constexpr std::size_t kDefaultBins = 1548;

// What one pass over the data gathers. Counts follow np.histogram over default_edges():
// bin i is [e_i, e_i+1), the last bin is closed, values outside [e_0, e_1548] are not counted.
// The moments cover every finite value (counted or not); NaN and +-inf are only counted.
struct HistogramAccum {
  std::vector<uint64_t> counts = std::vector<uint64_t>(kDefaultBins, 0);
  double min = 0;  // meaningful when finite > 0
  double max = 0;
  double sum = 0;
  double sum_squares = 0;
  uint64_t finite = 0;
  uint64_t nan = 0;
  uint64_t pos_inf = 0;
  uint64_t neg_inf = 0;
  // Bins [dirty_first, dirty_end) are the only ones the kernel may have made nonzero: reusing
  // an accumulator clears just those (a bias fills a few hundred of the 1548).
  std::size_t dirty_first = 0;
  std::size_t dirty_end = 0;
};

// histogram_default
//
// Counts data[0..n) (elements of `dtype`, contiguous) into the default bins and gathers the
// moments (float64 sums). Runs on `pool` in chunks with per-chunk counts merged at the end when
// n is large. Any thread; call without the GIL. Cost: one read pass over the data.
// bfloat16 is read as bfloat16 (its bits are the top half of a float32), so values above
// float16's range are counted where they belong.
void histogram_default(const void* data, std::size_t n, DType dtype, HistogramAccum* out,
                       ThreadPool* pool);

// The non-finite values a histogram pass left out of the bins.
struct NonFiniteCounts {
  uint64_t nan = 0;
  uint64_t pos_inf = 0;
  uint64_t neg_inf = 0;
};

// histogram_default_event
//
// The event of data[0..n) with the default bins: histogram_default, then
// finish_default_histogram, with out's moments set (num = the finite count). Returns false when
// no finite value lies within the edges (torch raises "The histogram is empty"): nothing to
// write; *skipped gets the NaN/inf counts either way. An input below the parallel threshold
// (of any type but the 8- and 16-bit integers and bool, counted by bit pattern) goes from this
// thread's accumulator straight into out->bucket, with no HistogramAccum in between: the
// add_histogram path of small tensors. Any thread; no GIL needed.
bool histogram_default_event(const void* data, std::size_t n, DType dtype, ThreadPool* pool,
                             HistogramData* out, NonFiniteCounts* skipped);

// One tensor of a batch: `n` contiguous elements of `dtype` at `data`.
struct HistogramInput {
  const void* data;
  std::size_t n;
  DType dtype;
};

// histogram_default_batch
//
// histogram_default for many tensors in one pool dispatch (a model's parameters): every
// tensor's 1 MiB chunks form one work list that the workers claim in order, so small tensors
// cost no pool wake-up each. out[i] is exactly what histogram_default gives for inputs[i].
// Extra memory: one accumulator per worker plus one result per input. Any thread; no GIL.
void histogram_default_batch(const std::vector<HistogramInput>& inputs,
                             std::vector<HistogramAccum>* out, ThreadPool* pool);

// Columns after the counts in a packed row: min, max (+inf, -inf when nothing is finite), sum,
// sum_squares, finite, nan, pos_inf, neg_inf.
inline constexpr std::size_t kRowMoments = 8;

// histogram_default_rows
//
// histogram_default_batch written as packed float64 rows: row i (at rows + i * stride, stride
// >= kDefaultBins + kRowMoments) gets inputs[i]'s kDefaultBins counts, then the kRowMoments
// columns; the row's other columns are left alone. The counts are zeroed first and each
// worker adds only the slot range its values span: no per-input accumulator or full-row copy.
// Any thread; no GIL.
void histogram_default_rows(const std::vector<HistogramInput>& inputs, double* rows,
                            std::size_t stride, ThreadPool* pool);

// default_bin_range
//
// The default bins [first, end) that finite values in [min, max] fall into: a kernel's counts
// are zero outside the range of its min and max, so only that range needs converting and
// trimming. {0, 0} when min > max (nothing finite) or no bin lies between them.
std::pair<std::size_t, std::size_t> default_bin_range(double min, double max);

// The same counting done single-threaded in one chunk; tests compare the two.
void histogram_default_serial(const void* data, std::size_t n, DType dtype, HistogramAccum* out);

// Which float32 path this process uses: "avx512" (slots and moments in vector registers),
// "avx2" or "sse2" (that moments loop, then table-lookup counting), or "portable". Decided once
// from the CPU, XFAST_FORCE_PORTABLE, XFAST_NO_AVX512 and XFAST_NO_AVX2.
const char* histogram_implementation();

// default_slot_table
//
// The O(1) bucket index the kernel uses, for other implementations of it (the device-side
// torch-ops path): returns 131072 slots indexed by a float32's bits >> 15 and fills
// `thresholds` with 1550 floats. For a finite float32 x, slot = table[bits >> 15], then
// slot += (x >= thresholds[slot]); slot 0 is below the first edge, 1 + i is bin i, 1549 is above
// the last edge. Exact for every finite float32 (and bfloat16, float16: they widen exactly).
// Any thread; built once.
std::vector<uint16_t> default_slot_table(std::vector<float>* thresholds);

// finish_histogram
//
// torch's make_histogram after np.histogram: optional max_bins grouping (s = B // max_bins bins
// per group, the counts zero-padded to a multiple of s, edges limits[0:-1:s] plus the last),
// then the trim to one leading zero-count bucket (the bin left of the first non-empty one, or
// an added 0 when that is bin 0), every bin up to the last non-empty one, and the matching
// right edges. `limits` has nbins + 1 entries. Fills out->bucket_limit and out->bucket; returns
// false when no bin has a count (torch raises "The histogram is empty").
bool finish_histogram(const double* counts, std::size_t nbins, const double* limits,
                      std::optional<int64_t> max_bins, HistogramData* out);

// finish_default_histogram
//
// finish_histogram without max_bins for a kernel pass's counts of the default bins (one per
// bin), which are zero outside [first, end) (default_bin_range of the min and max): only that
// band is read and converted, and out->shared_limits points into default_edges() instead of
// filling out->bucket_limit. The event written is the same.
bool finish_default_histogram(const uint64_t* counts, std::size_t first, std::size_t end,
                              HistogramData* out);

}  // namespace xfast
