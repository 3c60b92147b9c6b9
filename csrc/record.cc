// SPDX-License-Identifier: Apache-2.0
// TFRecord framing: header and footer with masked CRC32C.
#include "record.h"

#include <cstring>

#include "crc32c.h"

namespace xfast {

namespace {
void store_le32(uint8_t* p, uint32_t v) {
  for (int i = 0; i < 4; ++i) p[i] = static_cast<uint8_t>(v >> (8 * i));
}
}  // namespace

void populate_header(uint8_t* header, uint64_t length) {
  for (int i = 0; i < 8; ++i) header[i] = static_cast<uint8_t>(length >> (8 * i));
  store_le32(header + 8, crc32c_mask(crc32c_value(header, 8)));
}

void populate_footer(uint8_t* footer, const uint8_t* data, std::size_t length) {
  store_le32(footer, crc32c_mask(crc32c_value(data, length)));
}

void append_record(std::string& out, const uint8_t* data, std::size_t length) {
  const std::size_t at = out.size();
  out.resize(at + kHeaderSize + length + kFooterSize);
  auto* p = reinterpret_cast<uint8_t*>(&out[at]);
  populate_header(p, length);
  std::memcpy(p + kHeaderSize, data, length);
  populate_footer(p + kHeaderSize + length, p + kHeaderSize, length);
}

}  // namespace xfast
