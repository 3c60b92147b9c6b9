// SPDX-License-Identifier: Apache-2.0
// The exhaustive check of the AVX-512 histogram slots, callable from the C++ tests and (through
// xfast._core.testing) from pytest, where the module is an optimized build.
#pragma once

#include <cstdint>

namespace xfast {

struct SlotCheckResult {
  bool ran = false;         // false when the CPU has no AVX-512F (nothing was checked)
  uint64_t checked = 0;     // float32 values compared
  uint64_t mismatches = 0;  // values the AVX-512 path counted in another slot than the table
};

// avx512_slot_mismatches
//
// Compares the AVX-512 path's slot of finite float32 values with the exact table: every
// `block_stride`-th block of 2048 consecutive bit patterns, both signs (stride 1: all 4.26e9,
// ~4 s on 2 cores optimized). Blocks are counted (+1 per element), then each element's exact
// slot is decremented: an element counted elsewhere leaves a nonzero counter. Stops at the
// first bad block. Runs on two threads; call without the GIL.
SlotCheckResult avx512_slot_mismatches(uint64_t block_stride);

}  // namespace xfast
