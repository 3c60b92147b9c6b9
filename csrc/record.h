// SPDX-License-Identifier: Apache-2.0
// TFRecord framing of one serialized Event.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

namespace xfast {

// A TFRecord on disk (TF core/lib/io/record_writer.h), all integers little-endian:
//
//   +---------------------+------------------------------+------------+-------------------+
//   | uint64 length       | uint32 masked_crc32c(length) | data bytes | uint32 masked_crc |
//   |                     |   (of the 8 length bytes)    | (length)   |   32c(data)       |
//   +---------------------+------------------------------+------------+-------------------+
//   |<------------ kHeaderSize = 12 -------------------->|            |<- kFooterSize=4 ->|
inline constexpr std::size_t kHeaderSize = sizeof(uint64_t) + sizeof(uint32_t);
inline constexpr std::size_t kFooterSize = sizeof(uint32_t);

// Writes the 12 header bytes for a record of `length` data bytes. Pure; any thread.
void populate_header(uint8_t* header, uint64_t length);

// Writes the 4 footer bytes (masked CRC32C of data[0..length)). Pure; any thread.
void populate_footer(uint8_t* footer, const uint8_t* data, std::size_t length);

// Appends a whole framed record holding data[0..length) to out.
void append_record(std::string& out, const uint8_t* data, std::size_t length);

}  // namespace xfast
