// SPDX-License-Identifier: Apache-2.0
// Just enough of CUDA to run xfast's NVRTC kernels (src/xfast/device/cuda_kernel.cu) on the host:
// a block is blockDim.x std::threads meeting at a std::barrier for __syncthreads(), blocks run
// one after another (so a __shared__ variable can be a function-local static), and the atomics
// are std::atomic_ref operations. It checks the kernels' logic (slots, moments, the flush, the
// launch layout), not their speed or their behaviour on a real GPU.
#pragma once

#include <atomic>
#include <barrier>
#include <cstring>
#include <functional>
#include <thread>
#include <vector>

struct EmulatedDim3 {
  unsigned int x = 1, y = 1, z = 1;
};

// CUDA's 16-byte vector type, as the kernels' vector loads use it.
struct alignas(16) uint4 {
  unsigned int x, y, z, w;
};

inline thread_local EmulatedDim3 threadIdx;
inline thread_local EmulatedDim3 blockIdx;
inline EmulatedDim3 blockDim;
inline EmulatedDim3 gridDim;
inline std::barrier<>* emulated_block_barrier = nullptr;

#define __global__
#define __device__
#define __forceinline__ inline
#define __launch_bounds__(...)
#define __shared__ static

inline void __syncthreads() { emulated_block_barrier->arrive_and_wait(); }

template <typename T>
inline T __ldg(const T* p) {
  return *p;
}

inline float __int_as_float(int i) {
  float f;
  std::memcpy(&f, &i, sizeof f);
  return f;
}

inline int __float_as_int(float f) {
  int i;
  std::memcpy(&i, &f, sizeof i);
  return i;
}

inline double __longlong_as_double(long long i) {
  double d;
  std::memcpy(&d, &i, sizeof d);
  return d;
}

inline long long __double_as_longlong(double d) {
  long long i;
  std::memcpy(&i, &d, sizeof i);
  return i;
}

template <typename T>
inline T atomicAdd(T* p, T v) {
  return std::atomic_ref<T>(*p).fetch_add(v);
}

template <typename T>
inline T atomicMax(T* p, T v) {
  std::atomic_ref<T> a(*p);
  T seen = a.load();
  while (seen < v && !a.compare_exchange_weak(seen, v)) {
  }
  return seen;
}

// kernel<<<grid, block>>>(), one block at a time.
inline void emulate_launch(unsigned int grid, unsigned int block,
                           const std::function<void()>& kernel) {
  gridDim = EmulatedDim3{grid, 1, 1};
  blockDim = EmulatedDim3{block, 1, 1};
  for (unsigned int b = 0; b < grid; ++b) {
    std::barrier<> sync(static_cast<std::ptrdiff_t>(block));
    emulated_block_barrier = &sync;
    std::vector<std::thread> threads;
    threads.reserve(block);
    for (unsigned int t = 0; t < block; ++t) {
      threads.emplace_back([&kernel, b, t] {
        blockIdx = EmulatedDim3{b, 1, 1};
        threadIdx = EmulatedDim3{t, 1, 1};
        kernel();
      });
    }
    for (auto& th : threads) th.join();
  }
}
