# SPDX-License-Identifier: Apache-2.0
"""A crash-tolerant strict TFRecord reader: every CRC checked, a torn last record measured
(record_reader.split_records refuses one; after a crash it is allowed).

TensorBoard's loaders hide some damage (the Rust one skips data CRCs, both stop quietly at a
truncated record), so the crash and fault tests read files with this instead, and then also
through TensorBoard's loader.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass, field
from typing import Any

from record_reader import FOOTER_SIZE, HEADER_SIZE, masked_crc
from tensorboard.compat.proto import event_pb2


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
    out = RecordFile()
    unpack = struct.unpack_from
    pos, size = 0, len(data)
    while pos < size:
        if size - pos < HEADER_SIZE:
            out.tail_bytes = size - pos
            break
        length, len_crc = unpack("<QI", data, pos)
        if masked_crc(data[pos : pos + 8]) != len_crc:
            raise CorruptRecord(f"{path}: bad length CRC at offset {pos}")
        end = pos + HEADER_SIZE + length + FOOTER_SIZE
        if end > size:
            out.tail_bytes = size - pos
            break
        payload = data[pos + HEADER_SIZE : end - FOOTER_SIZE]
        if masked_crc(payload) != unpack("<I", data, end - FOOTER_SIZE)[0]:
            raise CorruptRecord(f"{path}: bad data CRC at offset {pos}")
        out.records.append(payload)
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
