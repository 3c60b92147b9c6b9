# SPDX-License-Identifier: Apache-2.0
"""torch's layout and scaling rules for images, videos and audio: shape checks that run at the
call, and the numpy conversions (to HWC/THWC uint8, to int16 samples) that the worker runs."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

# dtype kinds torch's make_np lets through to a usable image or sound: bool, ints, floats.
_NUMERIC_KINDS = "biuf"
# Grid columns of add_images (torch's make_grid default).
_GRID_COLUMNS = 8


def check_numeric(dtype: np.dtype, what: str) -> None:
    """Raises TypeError unless `dtype` holds real numbers."""
    if dtype.kind not in _NUMERIC_KINDS:
        raise TypeError(f"{what} must hold real numbers, got dtype {dtype}")


def check_dataformats(shape: Sequence[int], dataformats: str) -> str:
    """The upper-cased `dataformats` after checking it against `shape`.

    Accepted: a permutation of NCHW (a batch, tiled 8 per row), of CHW, or of HW, with a
    channel count of 1, 2, 3 or 4 (1, 3 or 4 for a batch), and non-empty height and width.
    """
    if not isinstance(dataformats, str):
        raise TypeError(f"dataformats must be a str, got {type(dataformats).__name__}")
    fmt = dataformats.upper()
    if sorted(fmt) not in (sorted("NCHW"), sorted("CHW"), sorted("HW")):
        raise ValueError(
            f"dataformats must be a permutation of NCHW, CHW or HW, got {dataformats!r}"
        )
    if len(shape) != len(fmt):
        raise ValueError(
            f"image of shape {tuple(shape)} does not match dataformats {dataformats!r} "
            f"({len(shape)} dimensions, {len(fmt)} letters)"
        )
    dims = dict(zip(fmt, shape))
    if dims["H"] == 0 or dims["W"] == 0 or dims.get("N") == 0:
        raise ValueError(f"image of shape {tuple(shape)} ({dataformats}) is empty")
    allowed = (1, 3, 4) if "N" in dims else (1, 2, 3, 4)
    if dims.get("C", 1) not in allowed:
        raise ValueError(
            f"image of shape {tuple(shape)} ({dataformats}) has {dims['C']} channels; "
            f"expected one of {allowed}"
        )
    return fmt


def _grid(nchw: np.ndarray) -> np.ndarray:
    """A batch tiled into at most 8 columns, row by row, zero-filled: (C, rows*H, cols*W)."""
    n, c, h, w = nchw.shape
    cols = min(n, _GRID_COLUMNS)
    rows = -(-n // cols)
    padded = np.zeros((rows * cols, c, h, w), dtype=nchw.dtype)
    padded[:n] = nchw
    return (
        padded.reshape(rows, cols, c, h, w).transpose(2, 0, 3, 1, 4).reshape(c, rows * h, cols * w)
    )


def to_hwc(arr: np.ndarray, fmt: str) -> np.ndarray:
    """`arr` laid out as (H, W, C), with one channel repeated to three, a batch tiled."""
    if len(fmt) == 4:
        hwc = _grid(arr.transpose([fmt.index(k) for k in "NCHW"])).transpose(1, 2, 0)
    elif len(fmt) == 3:
        hwc = arr.transpose([fmt.index(k) for k in "HWC"])
    else:
        hwc = arr.transpose([fmt.index(k) for k in "HW"])[:, :, None]
    if hwc.shape[2] == 1:
        hwc = np.repeat(hwc, 3, axis=2)
    return hwc


def to_uint8(arr: np.ndarray) -> np.ndarray:
    """torch's pixel scaling: uint8 as is; anything else x255 in float32, clipped to [0, 255],
    then truncated to uint8 (NaN becomes 0)."""
    scale = 1 if arr.dtype == np.uint8 else 255
    # Values beyond float32 become inf and then 255, NaN becomes 0: no warning on the way
    # (it would come from the media worker's thread, far from the call).
    with np.errstate(over="ignore", invalid="ignore"):
        return (arr.astype(np.float32) * scale).clip(0, 255).astype(np.uint8)


def image_hwc_uint8(arr: np.ndarray, fmt: str) -> np.ndarray:
    """An image or batch as torch's ``image()`` encodes it: (H, W, C) uint8."""
    return to_uint8(to_hwc(arr, fmt))


def video_order(dataformats: str) -> list[int]:
    """The axes that turn a video laid out as `dataformats` (a permutation of NTCHW,
    tensorboardX's option) into NTCHW."""
    if not isinstance(dataformats, str) or sorted(dataformats.upper()) != sorted("NTCHW"):
        raise ValueError(f"dataformats must be a permutation of NTCHW, got {dataformats!r}")
    return [dataformats.upper().index(k) for k in "NTCHW"]


def check_video(shape: Sequence[int]) -> None:
    """Raises ValueError unless `shape` is (N, T, C, H, W) with C in 1, 3, 4 and no empty axis."""
    if len(shape) != 5:
        raise ValueError(f"video must have shape (N, T, C, H, W), got {tuple(shape)}")
    if 0 in tuple(shape):
        raise ValueError(f"video of shape {tuple(shape)} is empty")
    if shape[2] not in (1, 3, 4):
        raise ValueError(
            f"video of shape {tuple(shape)} has {shape[2]} channels; expected 1, 3 or 4"
        )


def video_frames(arr: np.ndarray) -> np.ndarray:
    """(N, T, C, H, W) as the (T, H', W', C) uint8 frames torch's ``video()`` encodes: the batch
    padded with black to a power of two and tiled in 2**((bitlen(N)-1)//2) rows."""
    b, t, c, h, w = arr.shape
    if arr.dtype == np.uint8:
        # torch divides by 255 here and multiplies by 255 again below, both in float32; the
        # round trip can lose one level, and matching torch means doing the same.
        arr = arr.astype(np.float32) / np.float32(255.0)
    padded_b = b if b & (b - 1) == 0 else 1 << b.bit_length()
    rows = 1 << ((b.bit_length() - 1) // 2)
    cols = padded_b // rows
    if padded_b != b:
        arr = np.concatenate([arr, np.zeros((padded_b - b, t, c, h, w), dtype=arr.dtype)])
    tiled = arr.reshape(rows, cols, t, c, h, w).transpose(2, 0, 4, 1, 5, 3)
    return to_uint8(tiled.reshape(t, rows * h, cols * w, c))


def check_audio(shape: Sequence[int]) -> None:
    """Raises ValueError unless `shape` squeezes to one non-empty dimension."""
    squeezed = [d for d in shape if d != 1]
    if len(squeezed) > 1 or 0 in squeezed:
        raise ValueError(
            f"audio must squeeze to 1 dimension (e.g. (1, L)), got shape {tuple(shape)}"
        )


def audio_int16(arr: np.ndarray) -> np.ndarray:
    """torch's samples: squeezed to 1-D, clipped to [-1, 1], x32767 and truncated to int16."""
    samples = arr.reshape(-1)
    if samples.dtype.kind in "biu" or samples.dtype.itemsize < 4:
        # Integer arithmetic below would overflow (uint8 cannot even hold 32767), and float16
        # rounds 32767 to 32768 (1.0 would wrap to -32768); clipped ints and float16 values
        # are exact in float32.
        samples = samples.astype(np.float32)
    # Clipping in-range samples changes nothing; torch clips only when max(|x|) > 1, which
    # is False as soon as one sample is NaN, leaving the others unclipped.
    samples = samples.clip(-1, 1)
    with np.errstate(invalid="ignore"):
        return (samples * np.iinfo(np.int16).max).astype("<i2")


def check_boxes(shape: Sequence[int]) -> None:
    """Raises ValueError unless `shape` is (N, 4) (xmin, ymin, xmax, ymax rows)."""
    if len(shape) != 2 or shape[1] != 4:
        raise ValueError(f"box_tensor must have shape (N, 4), got {tuple(shape)}")


def labels_for(labels: Any, num_boxes: int) -> list[str] | None:
    """torch's label rule: a str is one label; a count other than the box count drops them all."""
    if labels is None:
        return None
    if isinstance(labels, str):
        labels = [labels]
    kept: list[str] = list(labels)
    if len(kept) != num_boxes:
        return None
    for label in kept:
        # Drawn only when truthy (as torch does), and then it must be text.
        if label and not isinstance(label, str):
            raise TypeError(f"labels must be strings, got {type(label).__name__}")
    return kept


def image_size(shape: Sequence[int], fmt: str) -> tuple[int, int]:
    """(height, width) of the image `to_hwc` makes from `shape` in the checked `fmt`."""
    dims = dict(zip(fmt, shape))
    if "N" not in dims:
        return dims["H"], dims["W"]
    cols = min(dims["N"], _GRID_COLUMNS)
    return dims["H"] * -(-dims["N"] // cols), dims["W"] * cols
