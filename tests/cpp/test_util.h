// SPDX-License-Identifier: Apache-2.0
// Helpers shared by the C++ tests: hex literals for golden bytes and a strict TFRecord reader.
#pragma once

#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

#include "crc32c.h"

namespace xfast::test {

// "0a 04 6c6f" -> the bytes 0a 04 6c 6f; spaces and newlines are ignored.
inline std::string from_hex(const char* hex) {
  std::string out;
  int hi = -1;
  for (const char* p = hex; *p != '\0'; ++p) {
    const char ch = *p;
    int v;
    if (ch >= '0' && ch <= '9') {
      v = ch - '0';
    } else if (ch >= 'a' && ch <= 'f') {
      v = ch - 'a' + 10;
    } else {
      continue;
    }
    if (hi < 0) {
      hi = v;
    } else {
      out.push_back(static_cast<char>(hi * 16 + v));
      hi = -1;
    }
  }
  return out;
}

inline uint64_t load_le(const std::string& s, std::size_t at, int bytes) {
  uint64_t v = 0;
  for (int i = bytes - 1; i >= 0; --i)
    v = (v << 8) | static_cast<uint8_t>(s[at + static_cast<std::size_t>(i)]);
  return v;
}

inline uint32_t masked_crc(const std::string& s, std::size_t at, std::size_t n) {
  return crc32c_mask(crc32c_value(reinterpret_cast<const uint8_t*>(s.data()) + at, n));
}

// Splits a TFRecord stream into its payloads. Returns false (and the records read so far) on a
// short frame or a CRC mismatch; every byte of `file` must belong to a whole record.
inline bool read_records(const std::string& file, std::vector<std::string>* out) {
  std::size_t at = 0;
  while (at < file.size()) {
    if (file.size() - at < 12) return false;
    const uint64_t len = load_le(file, at, 8);
    if (load_le(file, at + 8, 4) != masked_crc(file, at, 8)) return false;
    if (file.size() - at - 12 < len + 4) return false;
    const std::size_t n = static_cast<std::size_t>(len);
    if (load_le(file, at + 12 + n, 4) != masked_crc(file, at + 12, n)) return false;
    out->push_back(file.substr(at + 12, n));
    at += 12 + n + 4;
  }
  return true;
}

}  // namespace xfast::test
