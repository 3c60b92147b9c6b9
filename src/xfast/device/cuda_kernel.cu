// SPDX-License-Identifier: Apache-2.0
// The default-bins histogram of float32, bfloat16 and float16 tensors in CUDA C++, compiled at
// run time by NVRTC (xfast/device/cuda_kernel.py); the result layout is
// xfast.encoding.histogram_rows's.
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
#ifndef XF_COPIES  // count copies per block: 1 to 7 fit in 48 KB of static shared memory
#define XF_COPIES 4   // (benchmarks/cuda_sweep.py compiles others)
#endif
// A tensor's row of the global scratch (unsigned long long each, zeroed before the launch):
// the counts, then the float64 bits of sum, sum of squares and update sum of squares, then,
// over the finite values, the largest complemented order and the largest order, so that zero is
// the identity of every column. A float's order is an unsigned 32-bit integer that grows with
// it (-0.0 just below +0.0) and is never 0 for a finite value: its bits with the sign bit
// flipped, and all other bits too for a negative value.
#define XF_SUM 1556
#define XF_SQ 1557
#define XF_UPD 1558
#define XF_MIN 1559
#define XF_MAX 1560
#define XF_ROW 1568
#define XF_WIDTH 1558  // packed result row: the bins, then 10 moment columns

#define XF_THREADS 256  // threads per counting block (cuda_kernel.THREADS)
// Launch bounds of the counting kernels. On the data-centre GPUs (sm_80, sm_90, sm_100/103:
// 164-228 KB of shared memory per SM) at most 48 registers, so that 5 blocks (1,280 threads,
// 130 KB of shared counts) fit per SM: ptxas (nvcc 13.0 and NVRTC 13.5) then spills nothing,
// where 6 blocks (40 registers) spilled inside the loop on most of them. Elsewhere
// (sm_86/89/120: 100 KB per SM) shared memory caps an SM at 3 blocks, so the registers are
// left to ptxas.
#if defined(XF_MIN_BLOCKS)  // benchmarks/cuda_sweep.py
#define XF_BOUNDS __launch_bounds__(XF_THREADS, XF_MIN_BLOCKS)
#elif defined(__CUDA_ARCH__) && (__CUDA_ARCH__ == 800 || __CUDA_ARCH__ == 900 || \
                                 __CUDA_ARCH__ == 1000 || __CUDA_ARCH__ == 1030)
#define XF_BOUNDS __launch_bounds__(XF_THREADS, 5)
#else
#define XF_BOUNDS __launch_bounds__(XF_THREADS)
#endif

#if defined(__CUDACC__)
#define XF_UNROLL _Pragma("unroll")
#else  // the host compiler of tests/cpp/cuda_emulation.h
#define XF_UNROLL
#endif

// float16 bits to float32, exactly. On a GPU one conversion instruction (inline PTX: NVRTC has
// no cuda_fp16.h); the bit arithmetic below (52 instructions per element in the counting loop
// where it ran on the GPU, against 30.5 with cvt) runs on the host emulator.
__device__ __forceinline__ float xf_half_to_float(unsigned int h) {
#if defined(__CUDA_ARCH__)
  float f;
  asm("cvt.f32.f16 %0, %1;" : "=f"(f) : "h"((unsigned short)h));
  return f;
#else
  const unsigned int sign = (h & 0x8000u) << 16;
  const unsigned int exp = (h >> 10) & 0x1Fu;
  const unsigned int mant = h & 0x3FFu;
  if (exp == 0x1Fu) return __int_as_float((int)(sign | 0x7F800000u | (mant << 13)));
  if (exp == 0u) {  // zero or subnormal: mant * 2^-24, exact
    const float f = (float)mant * 5.9604644775390625e-8f;
    return sign ? -f : f;
  }
  return __int_as_float((int)(sign | ((exp + 112u) << 23) | (mant << 13)));
#endif
}

// kDtype: 0 float32, 1 bfloat16, 2 float16. Both 16-bit types widen to float32 exactly.
template <int kDtype>
__device__ __forceinline__ float xf_from_bits(unsigned int h) {
  if (kDtype == 0) return __int_as_float((int)h);
  if (kDtype == 1) return __int_as_float((int)(h << 16));
  return xf_half_to_float(h);
}

template <int kDtype>
__device__ __forceinline__ float xf_load(const void* base, long long i) {
  if (kDtype == 0) return __ldg(static_cast<const float*>(base) + i);
  return xf_from_bits<kDtype>(__ldg(static_cast<const unsigned short*>(base) + i));
}

// Element k of 16 loaded bytes (little-endian: element 2m is the low half of word m).
template <int kDtype>
__device__ __forceinline__ float xf_lane(const uint4& w, int k) {
  const unsigned int words[4] = {w.x, w.y, w.z, w.w};
  if (kDtype == 0) return __int_as_float((int)words[k]);
  const unsigned int word = words[k >> 1];
  return xf_from_bits<kDtype>((k & 1) ? word >> 16 : word & 0xFFFFu);
}

// The float whose order is o.
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

#define XF_KEY_LOW (-2147483647 - 1)  // identity of the max of keys; no finite value's key
#define XF_KEY_HIGH 2147483647          // identity of the min of keys; no finite value's key

// One thread's running moments over the elements it counted.
struct XfMoments {
  double s, q, u;  // sum, sum of squares, update sum of squares (finite values)
  int kmin, kmax;  // smallest and largest key of a finite value (see xf_count)
  unsigned int zeros;
};

// Counts value v (previous value pv when has_prev) into the block's shared counts `mine`.
// Branch-free: a non-finite value adds 0 to every moment, so warps never diverge on data.
//
// The slot comes from the packed table (see xfast.device.common.packed_slot_table): bits 0-10 of
// entry bits >> 19 are the slot of the range's smallest value, bits 11-30 the key from which
// the slot is one more; that key is the low 19 bits, flipped for negative values so that it
// grows with the value. The same flip over 31 bits makes the signed-integer order of the bits
// the float order (-0.0 just below +0.0), so min and max are integer min and max.
__device__ __forceinline__ void xf_count(float v, float pv, bool has_prev, const int* table,
                                         unsigned int* mine, XfMoments& m) {
  const int b = __float_as_int(v);
  const int neg = b >> 31;  // all ones for a negative value
  const int e = __ldg(table + ((b >> 19) & 0x1FFF));
  const unsigned int slot = (unsigned int)((e & 0x7FF) + (((b ^ neg) & 0x7FFFF) >= (e >> 11)));
  atomicAdd(mine + slot, 1u);
  const bool finite = slot < XF_PINF;
  const double d = (double)(finite ? v : 0.0f);
  m.s += d;
  m.q += d * d;
  if (has_prev) {
    const double w = d - (double)(finite ? pv : 0.0f);
    m.u += w * w;
  }
  const int key = b ^ (neg & 0x7FFFFFFF);
  const int lo = finite ? key : XF_KEY_HIGH;
  const int hi = finite ? key : XF_KEY_LOW;
  m.kmin = lo < m.kmin ? lo : m.kmin;
  m.kmax = hi > m.kmax ? hi : m.kmax;
  m.zeros += v == 0.0f ? 1u : 0u;
}

// Block b counts blocks[3b + 1] .. + blocks[3b + 2] of tensor j = blocks[3b], whose data
// pointer, previous-value pointer (0: none) and size are tens[3j .. 3j + 2].
//
// Why 16-byte loads, one ahead: a thread with one 2-byte load in flight leaves an SM ~5x short
// of the bytes in flight that HBM's latency needs for full bandwidth (Little's law). So each
// thread loads 16 bytes (4 or 8 elements) and issues its next load before counting the
// current one. Indices are 32-bit within a block (histogram_cuda caps a block at 2^22
// elements): 64-bit ones cost as many instructions as the counting. The elements before the
// first 16-byte boundary (a view at an offset into its storage) and after the last whole
// vector are counted one at a time. The previous values, when given, are loaded one at a
// time: their alignment need not match the tensor's.
template <int kDtype>
__device__ __forceinline__ void xf_histogram(const long long* tens, const long long* blocks,
                                             const int* table, unsigned long long* scratch) {
  constexpr int kSize = kDtype == 0 ? 4 : 2;
  constexpr int kLanes = 16 / kSize;
  __shared__ unsigned int counts[XF_COPIES * XF_NSH];
  __shared__ double sums[3];
  __shared__ unsigned int order[2];
  const int tid = (int)threadIdx.x;
  const int nt = (int)blockDim.x;
  for (int i = tid; i < XF_COPIES * XF_NSH; i += nt) counts[i] = 0u;
  if (tid < 3) sums[tid] = 0.0;
  if (tid < 2) order[tid] = 0u;
  __syncthreads();

  const long long* blk = blocks + 3 * (long long)blockIdx.x;
  const long long j = blk[0];
  const int n = (int)blk[2];
  const char* x = (const char*)(unsigned long long)tens[3 * j] + blk[1] * kSize;
  const long long pbits = tens[3 * j + 1];
  const bool has_prev = pbits != 0;
  const char* p = has_prev ? (const char*)(unsigned long long)pbits + blk[1] * kSize : x;
  unsigned int* mine = counts + ((tid >> 5) % XF_COPIES) * XF_NSH;
  XfMoments m = {0.0, 0.0, 0.0, XF_KEY_HIGH, XF_KEY_LOW, 0u};

  const int misaligned = (int)((unsigned long long)x & 15u) / kSize;
  const int head = misaligned == 0 ? 0 : (kLanes - misaligned < n ? kLanes - misaligned : n);
  const int nvec = (n - head) / kLanes;
  const int tail = head + nvec * kLanes;
  // Head and tail in two loops: one loop over both indices made ptxas spill 4-60 bytes under
  // the 48-register bound (sm_80/90/100/103, NVRTC 13.5); two spill nothing.
  for (int i = tid; i < head; i += nt) {
    xf_count(xf_load<kDtype>(x, i), has_prev ? xf_load<kDtype>(p, i) : 0.0f, has_prev, table,
             mine, m);
  }
  for (int i = tail + tid; i < n; i += nt) {
    xf_count(xf_load<kDtype>(x, i), has_prev ? xf_load<kDtype>(p, i) : 0.0f, has_prev, table,
             mine, m);
  }
  const uint4* xv = (const uint4*)(x + head * kSize);
  uint4 cur = {0u, 0u, 0u, 0u};
  if (tid < nvec) cur = __ldg(xv + tid);
  for (int i = tid; i < nvec; i += nt) {
    uint4 next = cur;
    if (i + nt < nvec) next = __ldg(xv + i + nt);
    const int first = head + i * kLanes;
    XF_UNROLL
    for (int k = 0; k < kLanes; ++k) {
      xf_count(xf_lane<kDtype>(cur, k), has_prev ? xf_load<kDtype>(p, first + k) : 0.0f,
               has_prev, table, mine, m);
    }
    cur = next;
  }

  atomicAdd(mine + XF_ZEROS, m.zeros);
  xf_add_f64(&sums[0], m.s);
  xf_add_f64(&sums[1], m.q);
  xf_add_f64(&sums[2], m.u);
  // As unsigned maxima with identity 0 (the scratch row's): the complement of the smallest
  // key's order and the largest key's order, the order being the key with its top bit flipped.
  atomicMax(&order[0], (unsigned int)m.kmin ^ 0x7FFFFFFFu);
  atomicMax(&order[1], (unsigned int)m.kmax ^ 0x80000000u);
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
    atomicMax(row + XF_MIN, (unsigned long long)order[0]);
    atomicMax(row + XF_MAX, (unsigned long long)order[1]);
  }
}

extern "C" __global__ void XF_BOUNDS xfast_histogram_f32(
    const long long* tens, const long long* blocks, const int* table,
    unsigned long long* scratch) {
  xf_histogram<0>(tens, blocks, table, scratch);
}

extern "C" __global__ void XF_BOUNDS xfast_histogram_bf16(
    const long long* tens, const long long* blocks, const int* table,
    unsigned long long* scratch) {
  xf_histogram<1>(tens, blocks, table, scratch);
}

extern "C" __global__ void XF_BOUNDS xfast_histogram_f16(
    const long long* tens, const long long* blocks, const int* table,
    unsigned long long* scratch) {
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
