# SPDX-License-Identifier: Apache-2.0
"""A PNG encoder over numpy and zlib, so images need no Pillow (zlib releases the GIL)."""

from __future__ import annotations

import struct
import zlib

import numpy as np

_SIGNATURE = b"\x89PNG\r\n\x1a\n"
# PNG color type by channel count: gray, gray+alpha, RGB, RGBA.
_COLOR_TYPE = {1: 0, 2: 4, 3: 2, 4: 6}
# Pillow's default zlib level, so files come out about the size torch's do.
_COMPRESS_LEVEL = 6
# Bytes of image filtered per step (bounds the temporaries, about 12x this).
_BAND_BYTES = 1 << 18


def _chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def _paeth(a: np.ndarray, b: np.ndarray, c: np.ndarray) -> np.ndarray:
    """The Paeth predictor (PNG spec 9.4), elementwise over uint8 arrays."""
    a16, b16, c16 = a.astype(np.int16), b.astype(np.int16), c.astype(np.int16)
    pa, pb, pc = np.abs(b16 - c16), np.abs(a16 - c16), np.abs(a16 + b16 - 2 * c16)
    return np.where((pa <= pb) & (pa <= pc), a, np.where(pb <= pc, b, c))


def _filtered_rows(x: np.ndarray, prev: np.ndarray, c: int) -> np.ndarray:
    """Rows `x` (uint8, one row per line, `c` bytes per pixel; `prev` is the row above the
    first, zeros at the top) each filtered with whichever of the five PNG filters gives the
    smallest sum of absolute signed bytes (the spec's heuristic), prefixed by its filter byte."""
    h, n = x.shape
    left = np.zeros_like(x)
    left[:, c:] = x[:, :-c]
    up = np.concatenate([prev[None], x[:-1]])
    up_left = np.zeros_like(x)
    up_left[:, c:] = up[:, :-c]
    average = ((left.astype(np.uint16) + up) >> 1).astype(np.uint8)
    # uint8 subtraction wraps modulo 256, as PNG filters do.
    candidates = np.stack([x, x - left, x - up, x - average, x - _paeth(left, up, up_left)])
    # |signed byte| as uint8 (abs(-128) wraps back to 128, which is right).
    cost = np.abs(candidates.view(np.int8)).view(np.uint8).sum(axis=2, dtype=np.int64)
    choice = cost.argmin(axis=0)
    out = np.empty((h, n + 1), dtype=np.uint8)
    out[:, 0] = choice
    out[:, 1:] = candidates[choice, np.arange(h)]
    return out


def encode_png(img: np.ndarray) -> bytes:
    """A PNG file holding `img`, an (H, W, C) uint8 array with C in 1..4."""
    h, w, c = img.shape
    header = struct.pack(">IIBBBBB", w, h, 8, _COLOR_TYPE[c], 0, 0, 0)
    rows = np.ascontiguousarray(img).reshape(h, w * c)
    # Filter a band of rows at a time: the five candidates of a whole large image would take
    # several times its size in temporaries.
    band = max(1, _BAND_BYTES // (w * c))
    deflate = zlib.compressobj(_COMPRESS_LEVEL)
    parts = []
    prev = np.zeros(w * c, dtype=np.uint8)
    for r in range(0, h, band):
        parts.append(deflate.compress(_filtered_rows(rows[r : r + band], prev, c).tobytes()))
        prev = rows[min(r + band, h) - 1]
    parts.append(deflate.flush())
    idat = b"".join(parts)
    return _SIGNATURE + _chunk(b"IHDR", header) + _chunk(b"IDAT", idat) + _chunk(b"IEND", b"")
