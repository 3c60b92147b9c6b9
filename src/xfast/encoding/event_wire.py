# SPDX-License-Identifier: Apache-2.0
"""Python-side encoding of the few rare Event wrappers (graph_def, tagged_run_metadata) the
FileWriter writes without a protobuf class of its own. Hot events are encoded in C++."""

from __future__ import annotations

import struct


def _varint(v: int) -> bytes:
    v &= (1 << 64) - 1  # int64 as two's complement, like protobuf
    out = bytearray()
    while v >= 0x80:
        out.append((v & 0x7F) | 0x80)
        v >>= 7
    out.append(v)
    return bytes(out)


def _delimited(field: int, payload: bytes) -> bytes:
    return _varint(field << 3 | 2) + _varint(len(payload)) + payload


def event_bytes(wall_time: float, step: int, field: int, payload: bytes) -> bytes:
    """Event{1 wall_time, 2 step, <field> payload} serialized as protobuf would (zeros omitted)."""
    out = b""
    if struct.pack("<d", wall_time) != bytes(8):
        out += b"\x09" + struct.pack("<d", wall_time)
    if step:
        out += b"\x10" + _varint(step)
    return out + _delimited(field, payload)


GRAPH_DEF = 4  # Event.graph_def, a serialized GraphDef
TAGGED_RUN_METADATA = 8  # Event.tagged_run_metadata: TaggedRunMetadata{1 tag, 2 run_metadata}


def tagged_run_metadata(tag: str, run_metadata: bytes) -> bytes:
    """A serialized TaggedRunMetadata."""
    return _delimited(1, tag.encode("utf-8")) + (
        _delimited(2, run_metadata) if run_metadata else b""
    )
