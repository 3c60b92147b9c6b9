// SPDX-License-Identifier: Apache-2.0
// The exhaustive check of the vector (AVX-512, AVX2) histogram slots, callable from the C++ tests
// and (through xfast._core.testing) from pytest, where the module is an optimized build.
#pragma once

#include <cstdint>
#include <string>

namespace xfast {

struct SlotCheckResult {
  bool ran = false;         // false when the CPU lacks the instruction set (nothing checked)
  uint64_t checked = 0;     // float32 values compared
  uint64_t mismatches = 0;  // values the vector path counted in another slot than the table
};

// vector_slot_mismatches
//
// Compares the slot that `isa`'s path ("avx512" or "avx2"; anything else checks nothing) gives
// finite float32 values with the exact table: every
// `block_stride`-th block of 2048 consecutive bit patterns, both signs (stride 1: all 4.26e9,
// ~4 s on 2 cores optimized). Blocks are counted (+1 per element), then each element's exact
// slot is decremented: an element counted elsewhere leaves a nonzero counter. Stops at the
// first bad block. Runs on two threads; call without the GIL.
SlotCheckResult vector_slot_mismatches(const std::string& isa, uint64_t block_stride);

}  // namespace xfast
