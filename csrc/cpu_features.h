// SPDX-License-Identifier: Apache-2.0
// Run-time CPU feature checks, each cached once per process.
#pragma once

#include <cstdlib>
#include <cstring>

namespace xfast::internal {

// True when the CPU executes the SSE4.2 CRC32 instruction. Thread-safe; the CPUID query runs once.
inline bool cpu_has_sse42() {
#if defined(XFAST_HAVE_SSE42) && (defined(__GNUC__) || defined(__clang__))
  static const bool has = __builtin_cpu_supports("sse4.2");
  return has;
#else
  return false;
#endif
}

// True when the CPU and OS support AVX2 and FMA (the float32 histogram's vector slot path on
// CPUs without AVX-512). Thread-safe; queried once.
inline bool cpu_has_avx2_fma() {
#if defined(XFAST_HAVE_AVX2) && (defined(__GNUC__) || defined(__clang__))
  static const bool has = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
  return has;
#else
  return false;
#endif
}

// True when the CPU and OS support AVX-512F (the float32 histogram's vector slot path; libgcc's
// check includes the OS saving the zmm state). Thread-safe; queried once.
inline bool cpu_has_avx512f() {
#if defined(XFAST_HAVE_AVX512) && (defined(__GNUC__) || defined(__clang__))
  static const bool has = __builtin_cpu_supports("avx512f");
  return has;
#else
  return false;
#endif
}

// True when XFAST_FORCE_PORTABLE is set to a non-empty value other than "0": tests use it to run
// the portable CRC path on machines that have the hardware one. Read once per process.
inline bool force_portable() {
  static const bool forced = [] {
    const char* v = std::getenv("XFAST_FORCE_PORTABLE");
    return v != nullptr && v[0] != '\0' && std::strcmp(v, "0") != 0;
  }();
  return forced;
}

}  // namespace xfast::internal
