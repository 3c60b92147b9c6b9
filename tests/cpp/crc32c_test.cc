// SPDX-License-Identifier: Apache-2.0
// CRC32C: one vector table run over every implementation, composition at every split point,
// and TFRecord's masking.
#include "crc32c.h"

#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "check.h"
#include "test_util.h"

namespace {

using xfast::test::from_hex;

struct Impl {
  const char* name;
  uint32_t (*extend)(uint32_t, const uint8_t*, std::size_t);
};

// Every implementation this machine can run; the dispatcher is always included.
std::vector<Impl> implementations() {
  std::vector<Impl> impls = {{"portable", xfast::internal::crc32c_extend_portable},
                             {"dispatch", xfast::crc32c_extend}};
  if (xfast::internal::crc32c_hardware_available()) {
    impls.push_back({"sse4.2", xfast::internal::crc32c_extend_sse42});
  }
  return impls;
}

uint32_t crc(const Impl& impl, const std::string& s) {
  return impl.extend(0, reinterpret_cast<const uint8_t*>(s.data()), s.size());
}

std::string bytes_from(int first, int step, int n) {
  std::string s;
  for (int i = 0; i < n; ++i) s.push_back(static_cast<char>(first + i * step));
  return s;
}

struct Vector {
  std::string data;
  uint32_t crc;
};

std::vector<Vector> vectors() {
  return {
      {"", 0x00000000u},
      {"a", 0xc1d04330u},
      {"123456789", 0xe3069283u},  // the CRC-32C check value
      // RFC 3720 appendix B.4.
      {std::string(32, '\0'), 0x8a9136aau},
      {std::string(32, '\xff'), 0x62a8ab43u},
      {bytes_from(0, 1, 32), 0x46dd794eu},
      {bytes_from(31, -1, 32), 0x113fdb5cu},
      {from_hex("01c00000 00000000 00000000 00000000 14000000 00000400 00000014 00000018"
                "28000000 00000000 02000000 00000000"),
       0xd9963a56u},
  };
}

TEST(vectors_on_every_implementation) {
  for (const Impl& impl : implementations()) {
    for (const Vector& v : vectors()) {
      if (crc(impl, v.data) != v.crc) {
        CHECK_EQ(std::string(impl.name) + ": " + std::to_string(crc(impl, v.data)),
                 std::string(impl.name) + ": " + std::to_string(v.crc));
      }
    }
  }
}

TEST(composition_at_every_split_point) {
  std::string data;
  for (int i = 0; i < 300; ++i) data.push_back(static_cast<char>((i * 131 + 7) & 0xff));
  const auto* p = reinterpret_cast<const uint8_t*>(data.data());
  for (const Impl& impl : implementations()) {
    const uint32_t whole = impl.extend(0, p, data.size());
    CHECK_EQ(whole, xfast::internal::crc32c_extend_portable(0, p, data.size()));
    for (std::size_t k = 0; k <= data.size(); ++k) {
      const uint32_t split = impl.extend(impl.extend(0, p, k), p + k, data.size() - k);
      if (split != whole) {
        const std::string where = std::string(impl.name) + " split at " + std::to_string(k) + ": ";
        CHECK_EQ(where + std::to_string(split), where + std::to_string(whole));
      }
    }
  }
}

TEST(unaligned_starts_and_all_lengths_agree) {
  std::string data;
  for (int i = 0; i < 80; ++i) data.push_back(static_cast<char>(i * 37 + 1));
  const auto* p = reinterpret_cast<const uint8_t*>(data.data());
  for (std::size_t off = 0; off < 8; ++off) {
    for (std::size_t n = 0; off + n <= data.size(); ++n) {
      const uint32_t ref = xfast::internal::crc32c_extend_portable(0, p + off, n);
      for (const Impl& impl : implementations()) CHECK_EQ(impl.extend(0, p + off, n), ref);
    }
  }
}

TEST(dispatch_reports_its_choice) {
  const std::string impl = xfast::crc32c_implementation();
  const char* forced = std::getenv("XFAST_FORCE_PORTABLE");
  if (forced != nullptr && std::strcmp(forced, "1") == 0) {
    CHECK_EQ(impl, std::string("portable"));
  } else if (xfast::internal::crc32c_hardware_available()) {
    CHECK_EQ(impl, std::string("sse4.2"));
  } else {
    CHECK_EQ(impl, std::string("portable"));
  }
}

TEST(masks_match_compat_spec) {
  // compat-spec section 2.3.
  CHECK_EQ(xfast::crc32c_mask(0), 0xa282ead8u);
  CHECK_EQ(xfast::crc32c_mask(0xe3069283u), 0xc78ab0e5u);
  const uint32_t samples[] = {0u, 1u, 0x80000000u, 0xffffffffu, 0xe3069283u, 0x12345678u};
  for (uint32_t v : samples) CHECK_EQ(xfast::crc32c_unmask(xfast::crc32c_mask(v)), v);
}

}  // namespace
