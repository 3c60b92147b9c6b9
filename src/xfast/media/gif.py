# SPDX-License-Identifier: Apache-2.0
"""An animated GIF89a encoder over numpy, so add_video needs neither moviepy nor Pillow."""

from __future__ import annotations

import struct

import numpy as np

# LZW "uncompressed" coding: every pixel is sent as its own 9-bit literal code, and a clear
# code is sent before the decoder's table would need 10-bit codes (after 2**8 - 2 literals).
# It is valid GIF that every decoder reads, and it packs with numpy alone instead of a
# pure-Python LZW loop that would hold the GIL for tens of milliseconds per video.
_MIN_CODE_SIZE = 8
_CLEAR = 1 << _MIN_CODE_SIZE
_END = _CLEAR + 1
_CODE_BITS = _MIN_CODE_SIZE + 1
_LITERALS_PER_CLEAR = (1 << _MIN_CODE_SIZE) - 2
_SUB_BLOCK = 255


def _palette_and_indices(frame: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(palette (P, 3) uint8, indices (H*W,) uint8) for one (H, W, 3) frame. Exact when the
    frame has at most 256 colors; otherwise colors are first reduced (see _quantize)."""
    rgb = frame.reshape(-1, 3)
    keys = (rgb[:, 0].astype(np.uint32) << 16) | (rgb[:, 1].astype(np.uint32) << 8) | rgb[:, 2]
    colors, indices = np.unique(keys, return_inverse=True)
    if len(colors) > 256:
        return _quantize(frame)
    rgb_palette = np.stack([colors >> 16, (colors >> 8) & 0xFF, colors & 0xFF], axis=1)
    return rgb_palette.astype(np.uint8), indices.astype(np.uint8).reshape(-1)


def _quantize(frame: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """A 256-color palette for a frame with more colors: Pillow's median cut when Pillow is
    installed, else a uniform 3-3-2 bit RGB cube."""
    try:
        from PIL import Image
    except ImportError:
        levels = np.array([7, 7, 3], dtype=np.uint32)
        q = (frame.reshape(-1, 3).astype(np.uint32) * levels + 127) // 255
        cube = np.stack(np.meshgrid(np.arange(8), np.arange(8), np.arange(4), indexing="ij"), -1)
        return (cube.reshape(-1, 3) * 255 // levels).astype(np.uint8), (
            (q[:, 0] << 5) | (q[:, 1] << 2) | q[:, 2]
        ).astype(np.uint8)
    image = Image.fromarray(np.ascontiguousarray(frame), "RGB").quantize(256)
    palette = np.frombuffer(bytes(image.getpalette() or b""), dtype=np.uint8).reshape(-1, 3)
    return palette, np.asarray(image, dtype=np.uint8).reshape(-1)


def _lzw_data(indices: np.ndarray) -> bytes:
    """The image data block: minimum code size, then the codes in length-prefixed sub-blocks."""
    n = len(indices)
    groups = -(-n // _LITERALS_PER_CLEAR)
    codes = np.full(n + groups + 1, _CLEAR, dtype=np.uint16)
    positions = np.arange(n) + np.arange(n) // _LITERALS_PER_CLEAR + 1
    codes[positions] = indices
    codes[-1] = _END
    bits = np.unpackbits(codes.astype("<u2").view(np.uint8), bitorder="little")
    packed = np.packbits(bits.reshape(-1, 16)[:, :_CODE_BITS].reshape(-1), bitorder="little")
    full, rest = divmod(len(packed), _SUB_BLOCK)
    blocks = np.empty((full, _SUB_BLOCK + 1), dtype=np.uint8)
    blocks[:, 0] = _SUB_BLOCK
    blocks[:, 1:] = packed[: full * _SUB_BLOCK].reshape(full, _SUB_BLOCK)
    tail = (bytes([rest]) + packed[full * _SUB_BLOCK :].tobytes()) if rest else b""
    return bytes([_MIN_CODE_SIZE]) + blocks.tobytes() + tail + b"\x00"


def _frame(frame: np.ndarray, delay_cs: int) -> bytes:
    h, w = frame.shape[:2]
    palette, indices = _palette_and_indices(frame)
    table_bits = max(1, (len(palette) - 1).bit_length())
    table = np.zeros((1 << table_bits, 3), dtype=np.uint8)
    table[: len(palette)] = palette
    control = b"\x21\xf9\x04" + struct.pack("<BHBB", 0, delay_cs, 0, 0)
    descriptor = b"\x2c" + struct.pack("<HHHHB", 0, 0, w, h, 0x80 | (table_bits - 1))
    return control + descriptor + table.tobytes() + _lzw_data(indices)


def encode_gif(frames: np.ndarray, fps: float) -> bytes:
    """An endlessly looping animated GIF of `frames`, a (T, H, W, 3) uint8 array, each frame
    shown for 1/fps seconds (rounded to GIF's hundredths, at least 1)."""
    _, h, w, _ = frames.shape
    # min() before int(): a tiny fps makes the delay infinite.
    delay_cs = max(1, int(min(float(0xFFFF), 100.0 / float(fps) + 0.5)))
    screen = b"GIF89a" + struct.pack("<HHBBB", w, h, 0, 0, 0)
    loop = b"\x21\xff\x0bNETSCAPE2.0\x03\x01" + struct.pack("<H", 0) + b"\x00"
    return screen + loop + b"".join(_frame(f, delay_cs) for f in frames) + b"\x3b"
