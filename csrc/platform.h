// SPDX-License-Identifier: Apache-2.0
// Small portability macros shared by the engine's C++ files.
#pragma once

#include <cstddef>

namespace xfast {

// Producers and the writer thread touch different indices of the ring; keeping them on separate
// 64-byte lines avoids false sharing (x86-64 and most ARM64 cores use 64-byte lines).
inline constexpr std::size_t kCacheLineSize = 64;

}  // namespace xfast

#if defined(__GNUC__) || defined(__clang__)
#define XFAST_LIKELY(x) __builtin_expect(!!(x), 1)
#define XFAST_UNLIKELY(x) __builtin_expect(!!(x), 0)
#define XFAST_RESTRICT __restrict__
#define XFAST_PREFETCH(p) __builtin_prefetch(p)
#else
#define XFAST_LIKELY(x) (x)
#define XFAST_UNLIKELY(x) (x)
#define XFAST_RESTRICT
#define XFAST_PREFETCH(p) ((void)0)
#endif
