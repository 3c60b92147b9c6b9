// SPDX-License-Identifier: Apache-2.0
// Multi-threaded checks of the ring buffer, callable from the C++ tests and (through
// xfast._core.testing) from pytest.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

namespace xfast {

struct RingStressResult {
  bool ok = false;
  uint64_t popped = 0;
  uint64_t full_retries = 0;  // times a producer found the ring full
  std::string error;          // first violation found, empty when ok
};

// `producers` threads each push `per_producer` records numbered 0..per_producer-1 through an
// MpscRing of `capacity` while one consumer pops them all. Checks that every record arrives
// exactly once and that each producer's records arrive in order.
RingStressResult ring_stress(int producers, uint64_t per_producer, std::size_t capacity);

}  // namespace xfast
