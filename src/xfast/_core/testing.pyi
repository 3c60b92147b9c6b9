# SPDX-License-Identifier: Apache-2.0
# Stubs for xfast._core.testing: C++ building blocks exposed for the unit tests only.

from collections.abc import Sequence
from typing import Any, Optional

import numpy.typing as npt

def crc32c(data: bytes, crc: int = 0, impl: str = "auto") -> int:
    """CRC32C of ``data`` extending ``crc``; ``impl`` 'auto', 'portable' or 'sse4.2'
    (``ValueError`` when the CPU has no SSE4.2)."""

def openmp_team_available() -> bool:
    """Whether a histogram run from this thread now would borrow torch's OpenMP team (GNU
    libgomp loaded, the main thread, not a forked child, no XFAST_NO_OPENMP_TEAM)."""

def vector_slot_mismatches(isa: str, block_stride: int = 1) -> dict[str, Any]:
    """The ``isa`` ("avx512" or "avx2") histogram path's slots against the exact table for every
    ``block_stride``-th block of 2048 finite float32 bit patterns, on two threads without the
    GIL: ``ran`` False (and zeros) when the CPU lacks that ISA, else ``checked`` and
    ``mismatches``."""

def crc32c_mask(crc: int, /) -> int:
    """TFRecord's masked CRC (rotate right 15, add kMaskDelta)."""

def crc32c_unmask(masked: int, /) -> int:
    """Inverse of crc32c_mask."""

def crc32c_implementation() -> str:
    """The implementation crc32c dispatches to with impl='auto': 'sse4.2' or 'portable'."""

def crc32c_hardware_available() -> bool:
    """Whether this CPU has SSE4.2 CRC32 instructions."""

def frame_record(data: bytes, /) -> bytes:
    """``data`` framed as one TFRecord (length, masked CRCs)."""

def encode_varint(value: int, /) -> bytes:
    """The protobuf base-128 varint of an unsigned 64-bit value."""

def encode_scalar_event(wall: float, step: int, tag: str, value: float, style: int, /) -> bytes:
    """A framed scalar Event record (style 0 simple_value, 1 float tensor, 2 double tensor)."""

def encode_histogram_event(
    wall: float,
    step: int,
    tag: str,
    min: float,
    max: float,
    num: float,
    sum: float,
    sum_squares: float,
    limits: Sequence[float],
    counts: Sequence[float],
    /,
) -> bytes:
    """A framed histogram Event record."""

def encode_text_event(wall: float, step: int, tag: str, text: str, /) -> bytes:
    """A framed text-plugin Event record."""

def encode_summary_event(wall: float, step: int, summary: bytes, /) -> bytes:
    """A framed Event around an already serialized Summary."""

def encode_file_version_event(wall: float, step: int, writer: str, /) -> bytes:
    """A framed file_version Event ("brain.Event:2") naming the writer."""

def encode_session_start_event(wall: float, step: int, /) -> bytes:
    """A framed SessionLog START Event."""

def histogram_default(data: npt.NDArray[Any], dtype: int, serial: bool = False) -> dict[str, Any]:
    """The default-bins kernel on a C-contiguous buffer (``serial``: on this thread only); the
    dict of xfast._core.histogram_accumulate."""

def finish_histogram(
    counts: npt.ArrayLike, limits: npt.ArrayLike, max_bins: Optional[int] = None
) -> Optional[tuple[list[float], list[float]]]:
    """torch's max_bins grouping and zero-bucket trimming: ``(bucket_limit, bucket)``, or None
    when no bin has a count."""

def ring_stress(producers: int, per_producer: int, capacity: int) -> dict[str, Any]:
    """Multi-producer ring check: ``{'ok': bool, 'popped', 'full_retries': int, 'error': str}``."""

