// SPDX-License-Identifier: Apache-2.0
// The default-bins histogram of float32, bfloat16 and float16 tensors in CUDA C++, compiled at
// run time by NVRTC (xfast/_cuda_histogram.py); the result layout is _gpu_histogram's.
//
// Why CUDA C++ next to the Triton kernel: Triton has no shared-memory atomics, so its kernel
// counts with tl.histogram over a 256-slot window, whose cost grows with the slot count and
// left it at ~10 read passes on an H200. Here each block keeps its counts in shared memory
// (XF_COPIES copies, warps spread over them to halve same-address collisions) and every
// element costs one gather from the packed slot table, one shared-memory atomic and its
// moments. A block flushes its non-zero counts to the tensor's global row once at the end.
//
// No #include and only builtin types: NVRTC has no standard headers. The same text is compiled
// by the host compiler in tests/cpp/cuda_emulation.h (one std::thread per CUDA thread), so its
// logic is tested on machines without a GPU.

#define XF_NBINS 1548
#define XF_PINF 1552   // count slots 0..1549: below the first edge, the bins, above the last;
#define XF_NAN 1553    // then the special slots of the packed table,
#define XF_NINF 1554
#define XF_ZEROS 1555  // and exact zeros (counted twice: also in their bin)
#define XF_NSH 1556    // count slots per copy in shared memory
#define XF_COPIES 4
// A tensor's row of the global scratch (unsigned long long each, zeroed before the launch):
// the counts, then the float64 bits of sum, sum of squares and update sum of squares, then the
// largest "order" (see xf_order) of the finite values and the largest inverted order, so that
// zero is the identity of every column.
#define XF_SUM 1556
#define XF_SQ 1557
#define XF_UPD 1558
#define XF_MIN 1559
#define XF_MAX 1560
#define XF_ROW 1568
#define XF_WIDTH 1558  // packed result row: the bins, then 10 moment columns

__device__ __forceinline__ float xf_half_to_float(unsigned int h) {
  const unsigned int sign = (h & 0x8000u) << 16;
  const unsigned int exp = (h >> 10) & 0x1Fu;
  const unsigned int mant = h & 0x3FFu;
  if (exp == 0x1Fu) return __int_as_float((int)(sign | 0x7F800000u | (mant << 13)));
  if (exp == 0u) {  // zero or subnormal: mant * 2^-24, exact
    const float f = (float)mant * 5.9604644775390625e-8f;
    return sign ? -f : f;
  }
  return __int_as_float((int)(sign | ((exp + 112u) << 23) | (mant << 13)));
}

// kDtype: 0 float32, 1 bfloat16, 2 float16. Both 16-bit types widen to float32 exactly.
template <int kDtype>
__device__ __forceinline__ float xf_load(const void* base, long long i) {
  if (kDtype == 0) return __ldg(static_cast<const float*>(base) + i);
  const unsigned int h = __ldg(static_cast<const unsigned short*>(base) + i);
  if (kDtype == 1) return __int_as_float((int)(h << 16));
  return xf_half_to_float(h);
}

// The packed table's slot (see _gpu_histogram.packed_slot_table): bits 0-10 of the entry are
// the slot of the range's smallest value, bits 11-30 the key from which the slot is one more.
__device__ __forceinline__ unsigned int xf_slot(float v, const int* table) {
  const int b = __float_as_int(v);
  const int e = __ldg(table + ((b >> 19) & 0x1FFF));
  const int key = (b & 0x7FFFF) ^ ((b >> 31) & 0x7FFFF);
  return (unsigned int)((e & 0x7FF) + (key >= (e >> 11) ? 1 : 0));
}

// An unsigned key that grows with a non-NaN float (-0.0 just below +0.0), never 0 for a finite
// value, so min and max become integer atomicMax with identity 0.
__device__ __forceinline__ unsigned long long xf_order(float v) {
  const unsigned int u = (unsigned int)__float_as_int(v);
  return (u & 0x80000000u) ? (unsigned long long)(~u) : (unsigned long long)(u | 0x80000000u);
}

__device__ __forceinline__ double xf_unorder(unsigned long long o) {
  const unsigned int k = (unsigned int)o;
  return (double)__int_as_float((int)((k & 0x80000000u) ? (k & 0x7FFFFFFFu) : ~k));
}

__device__ __forceinline__ void xf_add_f64(double* a, double v) {
#if defined(__CUDA_ARCH__) && __CUDA_ARCH__ < 600  // no native float64 atomicAdd before sm_60
  unsigned long long* p = (unsigned long long*)a;
  unsigned long long old = *p, seen;
  do {
    seen = old;
    old = atomicCAS(p, seen, (unsigned long long)__double_as_longlong(
                                 __longlong_as_double((long long)seen) + v));
  } while (seen != old);
#else
  atomicAdd(a, v);
#endif
}

// Block b counts blocks[3b + 1] .. + blocks[3b + 2] of tensor j = blocks[3b], whose data
// pointer, previous-value pointer (0: none) and size are tens[3j .. 3j + 2].
template <int kDtype>
__device__ __forceinline__ void xf_histogram(const long long* tens, const long long* blocks,
                                             const int* table, unsigned long long* scratch) {
  __shared__ unsigned int counts[XF_COPIES * XF_NSH];
  __shared__ double sums[3];
  __shared__ unsigned long long order[2];
  const int tid = (int)threadIdx.x;
  const int nt = (int)blockDim.x;
  for (int i = tid; i < XF_COPIES * XF_NSH; i += nt) counts[i] = 0u;
  if (tid < 3) sums[tid] = 0.0;
  if (tid < 2) order[tid] = 0ull;
  __syncthreads();

  const long long* blk = blocks + 3 * (long long)blockIdx.x;
  const long long j = blk[0];
  const long long start = blk[1];
  const long long n = blk[2];
  const void* x = (const void*)(unsigned long long)tens[3 * j];
  const void* p = (const void*)(unsigned long long)tens[3 * j + 1];
  unsigned int* mine = counts + ((tid >> 5) % XF_COPIES) * XF_NSH;
  double s = 0.0, q = 0.0, u = 0.0;
  unsigned long long omin = 0ull, omax = 0ull;
  for (long long i = tid; i < n; i += nt) {
    const float v = xf_load<kDtype>(x, start + i);
    const unsigned int slot = xf_slot(v, table);
    atomicAdd(mine + slot, 1u);
    if (slot < XF_PINF) {  // finite
      if (v == 0.0f) atomicAdd(mine + XF_ZEROS, 1u);
      const double d = (double)v;
      s += d;
      q += d * d;
      const unsigned long long o = xf_order(v);
      omax = o > omax ? o : omax;
      omin = 0xFFFFFFFFull - o > omin ? 0xFFFFFFFFull - o : omin;
      if (p != 0) {
        const double e = d - (double)xf_load<kDtype>(p, start + i);
        u += e * e;
      }
    }
  }
  xf_add_f64(&sums[0], s);
  xf_add_f64(&sums[1], q);
  xf_add_f64(&sums[2], u);
  atomicMax(&order[0], omin);
  atomicMax(&order[1], omax);
  __syncthreads();

  unsigned long long* row = scratch + j * XF_ROW;
  for (int i = tid; i < XF_NSH; i += nt) {
    unsigned int c = 0u;
    for (int k = 0; k < XF_COPIES; ++k) c += counts[k * XF_NSH + i];
    if (c != 0u) atomicAdd(row + i, (unsigned long long)c);
  }
  if (tid == 0) {
    xf_add_f64((double*)(row + XF_SUM), sums[0]);
    xf_add_f64((double*)(row + XF_SQ), sums[1]);
    xf_add_f64((double*)(row + XF_UPD), sums[2]);
    atomicMax(row + XF_MIN, order[0]);
    atomicMax(row + XF_MAX, order[1]);
  }
}

extern "C" __global__ void xfast_histogram_f32(const long long* tens, const long long* blocks,
                                               const int* table, unsigned long long* scratch) {
  xf_histogram<0>(tens, blocks, table, scratch);
}

extern "C" __global__ void xfast_histogram_bf16(const long long* tens, const long long* blocks,
                                                const int* table, unsigned long long* scratch) {
  xf_histogram<1>(tens, blocks, table, scratch);
}

extern "C" __global__ void xfast_histogram_f16(const long long* tens, const long long* blocks,
                                               const int* table, unsigned long long* scratch) {
  xf_histogram<2>(tens, blocks, table, scratch);
}

// Block j turns tensor j's scratch row into its packed float64 result row.
extern "C" __global__ void xfast_histogram_finish(const long long* tens,
                                                  const unsigned long long* scratch,
                                                  double* out) {
  const long long j = (long long)blockIdx.x;
  const unsigned long long* row = scratch + j * XF_ROW;
  double* o = out + j * XF_WIDTH;
  for (int i = (int)threadIdx.x; i < XF_NBINS; i += (int)blockDim.x) o[i] = (double)row[i + 1];
  if (threadIdx.x == 0) {
    const unsigned long long nan = row[XF_NAN], pinf = row[XF_PINF], ninf = row[XF_NINF];
    const unsigned long long finite = (unsigned long long)tens[3 * j + 2] - nan - pinf - ninf;
    const double inf = (double)__int_as_float(0x7F800000);
    o[XF_NBINS + 0] = finite != 0ull ? xf_unorder(0xFFFFFFFFull - row[XF_MIN]) : inf;
    o[XF_NBINS + 1] = finite != 0ull ? xf_unorder(row[XF_MAX]) : -inf;
    o[XF_NBINS + 2] = __longlong_as_double((long long)row[XF_SUM]);
    o[XF_NBINS + 3] = __longlong_as_double((long long)row[XF_SQ]);
    o[XF_NBINS + 4] = (double)finite;
    o[XF_NBINS + 5] = (double)nan;
    o[XF_NBINS + 6] = (double)pinf;
    o[XF_NBINS + 7] = (double)ninf;
    o[XF_NBINS + 8] = (double)row[XF_ZEROS];
    o[XF_NBINS + 9] = __longlong_as_double((long long)row[XF_UPD]);
  }
}
