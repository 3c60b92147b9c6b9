// SPDX-License-Identifier: Apache-2.0
// pixels_to_uint8 against a plain reference of numpy's float32 scaling: every pixel step and its
// neighbours, NaN, infinities, float32's extremes, random bit patterns, every tail length and
// unaligned starts.
#include "pixels.h"

#include <cmath>
#include <cstring>
#include <limits>
#include <random>
#include <vector>

#include "check.h"

namespace {

// numpy's (x * 255).clip(0, 255).astype(np.uint8) for one float32: NaN stays NaN through the
// clip and the cast gives 0 on x86-64.
uint8_t reference(float x) {
  if (std::isnan(x)) return 0;
  const float v = x * 255.0f;
  if (v <= 0.0f) return 0;
  if (v >= 255.0f) return 255;
  return static_cast<uint8_t>(std::trunc(v));
}

std::vector<float> edge_values() {
  const float inf = std::numeric_limits<float>::infinity();
  std::vector<float> v = {std::nanf(""),
                          inf,
                          -inf,
                          0.0f,
                          -0.0f,
                          -1e-9f,
                          1.5f,
                          -3.0f,
                          std::numeric_limits<float>::max(),
                          -std::numeric_limits<float>::max(),
                          std::numeric_limits<float>::denorm_min()};
  for (int k = 0; k <= 255; ++k) {
    const float step = static_cast<float>(k) / 255.0f;
    float lo = step, hi = step;
    for (int ulp = 0; ulp < 3; ++ulp) {
      lo = std::nextafter(lo, -2.0f);
      hi = std::nextafter(hi, 2.0f);
      v.push_back(lo);
      v.push_back(hi);
    }
    v.push_back(step);
  }
  return v;
}

void check_all(const std::vector<float>& src) {
  std::vector<uint8_t> dst(src.size(), 77);
  xfast::pixels_to_uint8(src.data(), src.size(), dst.data());
  int wrong = 0;
  for (std::size_t i = 0; i < src.size(); ++i) wrong += dst[i] != reference(src[i]);
  CHECK_EQ(wrong, 0);
}

TEST(edges_steps_and_specials) { check_all(edge_values()); }

TEST(random_bit_patterns) {
  std::mt19937 rng(7);
  std::vector<float> src(1 << 20);
  for (float& f : src) {
    const auto bits = static_cast<uint32_t>(rng());
    std::memcpy(&f, &bits, sizeof f);
  }
  check_all(src);
  std::uniform_real_distribution<float> near(-0.25f, 1.25f);
  for (float& f : src) f = near(rng);
  check_all(src);
}

TEST(every_tail_length_and_unaligned_starts) {
  const std::vector<float> values = edge_values();
  for (std::size_t start = 0; start < 4; ++start) {
    for (std::size_t n = 0; n <= 48; ++n) {
      std::vector<float> src(values.begin() + static_cast<std::ptrdiff_t>(start),
                             values.begin() + static_cast<std::ptrdiff_t>(start + n));
      std::vector<uint8_t> dst(n + 2, 77);
      xfast::pixels_to_uint8(src.data(), n, dst.data() + 1);
      for (std::size_t i = 0; i < n; ++i) CHECK_EQ(dst[i + 1], reference(src[i]));
      CHECK_EQ(dst[0], uint8_t{77});  // nothing written outside [dst, dst + n)
      CHECK_EQ(dst[n + 1], uint8_t{77});
    }
  }
}

}  // namespace
