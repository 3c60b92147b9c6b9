# SPDX-License-Identifier: Apache-2.0
"""A strict TFRecord reader for the tests, independent of xfast: CRCs come from google-crc32c."""

from __future__ import annotations

import struct

import google_crc32c

HEADER_SIZE = 12  # u64 length + u32 masked CRC of the length bytes
FOOTER_SIZE = 4  # u32 masked CRC of the data
_MASK_DELTA = 0xA282EAD8  # TensorFlow's kMaskDelta


def masked_crc(data: bytes) -> int:
    """TFRecord's masked CRC32C of data (rotate right 15, add kMaskDelta), per compat-spec §2.3."""
    crc = google_crc32c.value(data)
    return (((crc >> 15) | (crc << 17)) + _MASK_DELTA) & 0xFFFFFFFF


def split_records(buf: bytes) -> list[bytes]:
    """Every record's data in buf, checking both masked CRCs; raises AssertionError on any
    framing error, including trailing bytes that do not form a whole record."""
    out = []
    pos = 0
    while pos < len(buf):
        assert len(buf) - pos >= HEADER_SIZE, f"truncated header at offset {pos}"
        header = buf[pos:pos + 8]
        (length,) = struct.unpack("<Q", header)
        (len_crc,) = struct.unpack("<I", buf[pos + 8:pos + 12])
        assert len_crc == masked_crc(header), f"bad length CRC at offset {pos}"
        start = pos + HEADER_SIZE
        end = start + length
        assert end + FOOTER_SIZE <= len(buf), f"truncated record at offset {pos}"
        data = buf[start:end]
        (data_crc,) = struct.unpack("<I", buf[end:end + FOOTER_SIZE])
        assert data_crc == masked_crc(data), f"bad data CRC at offset {pos}"
        out.append(data)
        pos = end + FOOTER_SIZE
    return out


def unframe_one(record: bytes) -> bytes:
    """The data of a buffer that must hold exactly one valid record."""
    records = split_records(record)
    assert len(records) == 1, f"expected one record, got {len(records)}"
    return records[0]


def read_events(path: str) -> list:
    """Every record of an event file, CRC-checked, parsed as tensorboard Event messages."""
    from tensorboard.compat.proto import event_pb2

    with open(path, "rb") as f:
        records = split_records(f.read())
    events = []
    for data in records:
        ev = event_pb2.Event()
        ev.ParseFromString(data)
        events.append(ev)
    return events
