# SPDX-License-Identifier: Apache-2.0
"""torch's ``summary.image``, ``image_boxes``, ``video`` and ``audio``, plus the argument checks
SummaryWriter's media methods share with them (run at the call, before anything is queued)."""

from __future__ import annotations

import math
import numbers
from collections.abc import Sequence
from typing import Any, Optional

import numpy as np

from xfast.encoding.proto import Summary
from xfast.media.draw import require_pillow, scaled_size
from xfast.media.encode import audio_summary, image_summary, video_summary
from xfast.media.prep import (
    check_audio,
    check_boxes,
    check_dataformats,
    check_numeric,
    check_video,
    image_size,
    labels_for,
)
from xfast.media.snapshot import host_array

# A WAV header stores the sample rate (rounded) and the byte rate (2 bytes a sample here) in
# 32 unsigned bits.
_MAX_WAV_RATE = (2**32 - 1) // 2


def check_image_args(
    shape: Sequence[int], dtype: np.dtype, dataformats: str, rescale: float
) -> str:
    """The normalized dataformats; raises TypeError, ValueError or (rescale != 1 without
    Pillow) ImportError for arguments torch would fail on or xfast cannot encode."""
    check_numeric(dtype, "img_tensor")
    fmt = check_dataformats(shape, dataformats)
    if not isinstance(rescale, numbers.Real) or not math.isfinite(rescale):
        raise TypeError(f"rescale must be a finite number, got {rescale!r}")
    if rescale != 1:
        require_pillow("rescale != 1 (a LANCZOS resize)")
        scaled_size(*image_size(shape, fmt), rescale)
    return fmt


def check_boxes_args(shape: Sequence[int], dtype: np.dtype, labels: Any) -> Optional[list[str]]:
    """The labels torch would draw (None when their count differs from the box count); raises
    ImportError when labels are to be drawn without Pillow (they need its font)."""
    check_numeric(dtype, "box_tensor")
    check_boxes(shape)
    kept = labels_for(labels, shape[0])
    if kept is not None and any(kept):
        require_pillow("add_image_with_boxes with labels")
    return kept


def check_video_args(shape: Sequence[int], dtype: np.dtype, fps: float) -> None:
    """Raises TypeError or ValueError for a video torch could not encode."""
    check_numeric(dtype, "vid_tensor")
    check_video(shape)
    if not isinstance(fps, numbers.Real) or not fps > 0 or not math.isfinite(fps):
        raise ValueError(f"fps must be a positive number, got {fps!r}")


def check_audio_args(shape: Sequence[int], dtype: np.dtype, sample_rate: float) -> None:
    """Raises TypeError or ValueError for a sound torch could not encode."""
    check_numeric(dtype, "snd_tensor")
    check_audio(shape)
    if (
        not isinstance(sample_rate, numbers.Real)
        or not sample_rate >= 1
        or not math.isfinite(sample_rate)
    ):
        raise ValueError(f"sample_rate must be a positive number, got {sample_rate!r}")
    if round(sample_rate) > _MAX_WAV_RATE:
        raise ValueError(
            f"sample_rate {sample_rate!r} does not fit a WAV header (at most {_MAX_WAV_RATE})"
        )


def image(tag: str, tensor: Any, rescale: float = 1, dataformats: str = "NCHW") -> Summary:
    """A ``Summary`` with one PNG image, as ``torch.utils.tensorboard.summary.image``.

    Args:
        tag: Data identifier.
        tensor: Image data (tensor, ndarray) laid out as ``dataformats``; uint8 values are kept,
            other dtypes are multiplied by 255, clipped to [0, 255] and truncated.
        rescale: Resize factor (LANCZOS; needs Pillow when not 1).
        dataformats: A permutation of NCHW (tiled 8 per row), CHW or HW.

    Differences from torch: encoded without Pillow (same pixels, different PNG bytes); bad
    shapes raise ValueError and bad dtypes TypeError, where torch raises AssertionError.
    """
    arr = host_array(tensor)
    fmt = check_image_args(arr.shape, arr.dtype, dataformats, rescale)
    return image_summary(tag, arr, fmt, rescale)


def image_boxes(
    tag: str,
    tensor_image: Any,
    tensor_boxes: Any,
    rescale: float = 1,
    dataformats: str = "CHW",
    labels: Optional[list[str]] = None,
) -> Summary:
    """A ``Summary`` with one PNG image with red boxes, as torch's ``summary.image_boxes``.

    Args:
        tag: Data identifier.
        tensor_image: Image data laid out as ``dataformats``.
        tensor_boxes: (N, 4) rows of (xmin, ymin, xmax, ymax) in pixels.
        rescale: Resize factor (LANCZOS; needs Pillow when not 1).
        dataformats: A permutation of NCHW, CHW or HW.
        labels: One string per box, drawn with Pillow's default font; ignored when their count
            differs from the number of boxes.

    Differences from torch: without Pillow, boxes are drawn with numpy (close to, not exactly,
    Pillow's lines) and labels raise ImportError.
    """
    arr = host_array(tensor_image)
    fmt = check_image_args(arr.shape, arr.dtype, dataformats, rescale)
    boxes = host_array(tensor_boxes)
    kept = check_boxes_args(boxes.shape, boxes.dtype, labels)
    return image_summary(tag, arr, fmt, rescale, boxes, kept)


def video(tag: str, tensor: Any, fps: float = 4) -> Summary:
    """A ``Summary`` with one animated GIF, as torch's ``summary.video``.

    Args:
        tag: Data identifier.
        tensor: (N, T, C, H, W) video; the batch is tiled into a grid per frame.
        fps: Frames per second.

    Differences from torch: encoded by xfast (no moviepy); frames with more than 256 colors
    are reduced to 256 (Pillow's median cut when installed, else a 3-3-2 bit color cube).
    """
    arr = host_array(tensor)
    check_video_args(arr.shape, arr.dtype, fps)
    return video_summary(tag, arr, fps)


def audio(tag: str, tensor: Any, sample_rate: float = 44100) -> Summary:
    """A ``Summary`` with one mono 16-bit WAV, as torch's ``summary.audio``.

    Args:
        tag: Data identifier.
        tensor: Samples, squeezing to one dimension (e.g. (1, L)), in [-1, 1].
        sample_rate: Sample rate in Hz.

    Differences from torch: out-of-range samples are clipped silently (torch prints a
    warning); a shape that does not squeeze to 1-D raises ValueError (torch: AssertionError).
    """
    arr = host_array(tensor)
    check_audio_args(arr.shape, arr.dtype, sample_rate)
    return audio_summary(tag, arr, sample_rate)
