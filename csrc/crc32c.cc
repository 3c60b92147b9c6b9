// SPDX-License-Identifier: Apache-2.0
// Run-time dispatch between the portable and SSE4.2 CRC32C implementations.
#include "crc32c.h"

#include "cpu_features.h"

namespace xfast {

namespace internal {

bool crc32c_hardware_available() { return cpu_has_sse42(); }

#if !defined(XFAST_HAVE_SSE42)
uint32_t crc32c_extend_sse42(uint32_t crc, const uint8_t* data, std::size_t n) {
  return crc32c_extend_portable(crc, data, n);
}
#endif

}  // namespace internal

namespace {

using ExtendFn = uint32_t (*)(uint32_t, const uint8_t*, std::size_t);

ExtendFn choose() {
  if (!internal::force_portable() && internal::cpu_has_sse42()) return internal::crc32c_extend_sse42;
  return internal::crc32c_extend_portable;
}

ExtendFn extend_fn() {
  static const ExtendFn fn = choose();  // abseil/google-crc32c pattern: decide once
  return fn;
}

}  // namespace

uint32_t crc32c_extend(uint32_t crc, const uint8_t* data, std::size_t n) {
  return extend_fn()(crc, data, n);
}

const char* crc32c_implementation() {
  return extend_fn() == internal::crc32c_extend_portable ? "portable" : "sse4.2";
}

}  // namespace xfast
