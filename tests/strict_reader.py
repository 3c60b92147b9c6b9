# SPDX-License-Identifier: Apache-2.0
"""A strict TFRecord reader for the robustness tests: every CRC checked, a torn tail measured.

TensorBoard's loaders hide some damage (the Rust one skips data CRCs, both stop quietly at a
truncated record), so the crash and fault tests read files with this instead, and then also
through TensorBoard's loader.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass, field
from typing import Any

import crc32c
from tensorboard.compat.proto import event_pb2

_HEADER = 12  # uint64 length + masked crc32c(length)
_FOOTER = 4  # masked crc32c(data)


def masked_crc(data: Any) -> int:
    """TFRecord's masked CRC32C (rotate right by 15, add 0xa282ead8)."""
    crc = crc32c.crc32c(data)
    return (((crc >> 15) | (crc << 17)) + 0xA282EAD8) & 0xFFFFFFFF


@dataclass
class RecordFile:
    """What strict reading found: whole records, and the bytes of a torn last record."""

    records: list[bytes] = field(default_factory=list)
    tail_bytes: int = 0

    def events(self) -> list[Any]:
        return [event_pb2.Event.FromString(r) for r in self.records]


class CorruptRecord(AssertionError):
    """A record whose length or data CRC does not match: never acceptable."""


def read_records(path: str) -> RecordFile:
    """Reads every record of `path`, raising CorruptRecord on any CRC mismatch.

    A record cut short by the end of the file (a crash mid-write) is not an error: its size is
    reported in tail_bytes. Nothing may follow it, by construction.
    """
    with open(path, "rb") as f:
        data = f.read()
    view = memoryview(data)
    out = RecordFile()
    unpack = struct.unpack_from
    pos, size = 0, len(data)
    while pos < size:
        if size - pos < _HEADER:
            out.tail_bytes = size - pos
            break
        length, len_crc = unpack("<QI", data, pos)
        if masked_crc(view[pos : pos + 8]) != len_crc:
            raise CorruptRecord(f"{path}: bad length CRC at offset {pos}")
        end = pos + _HEADER + length + _FOOTER
        if end > size:
            out.tail_bytes = size - pos
            break
        payload = view[pos + _HEADER : end - _FOOTER]
        if masked_crc(payload) != unpack("<I", data, end - _FOOTER)[0]:
            raise CorruptRecord(f"{path}: bad data CRC at offset {pos}")
        out.records.append(payload.tobytes())
        pos = end
    return out


def scalar_points(events: list[Any], tag: str) -> list[tuple[int, float]]:
    """(step, simple_value) of every legacy scalar `tag`, in file order."""
    return [
        (e.step, v.simple_value)
        for e in events
        if e.HasField("summary")
        for v in e.summary.value
        if v.tag == tag
    ]
