# SPDX-License-Identifier: Apache-2.0
"""What each media method of SummaryWriter does on the caller's thread: check the arguments,
take a host copy of the data, and return the encode job that the media worker runs later."""

from __future__ import annotations

from typing import Any, Callable, Optional

from xfast.encoding.proto import Summary
from xfast.media.encode import audio_summary, image_summary, video_summary
from xfast.media.prep import video_order
from xfast.media.snapshot import pixel_snapshot, snapshot
from xfast.media.summaries import (
    check_audio_args,
    check_boxes_args,
    check_image_args,
    check_video_args,
)

# Builds the Summary of one media call; runs on the media worker.
Job = Callable[[], Summary]


def _check_tag(tag: Any) -> None:
    if not isinstance(tag, str):
        raise TypeError(f"tag must be a str, got {type(tag).__name__}")


def image_job(tag: str, img_tensor: Any, dataformats: str) -> Job:
    """add_image / add_images / add_figure."""
    _check_tag(tag)
    data = pixel_snapshot(img_tensor)
    fmt = check_image_args(data.shape, data.dtype, dataformats, 1)
    return lambda: image_summary(tag, data.array(), fmt)


def image_with_boxes_job(
    tag: str, img_tensor: Any, box_tensor: Any, rescale: float, dataformats: str,
    labels: Optional[list[str]],
) -> Job:
    """add_image_with_boxes."""
    _check_tag(tag)
    data = snapshot(img_tensor)
    fmt = check_image_args(data.shape, data.dtype, dataformats, rescale)
    boxes = snapshot(box_tensor)
    kept = check_boxes_args(boxes.shape, boxes.dtype, labels)
    return lambda: image_summary(tag, data.array(), fmt, rescale, boxes.array(), kept)


def video_job(tag: str, vid_tensor: Any, fps: float, dataformats: str) -> Job:
    """add_video."""
    _check_tag(tag)
    order = video_order(dataformats)
    data = snapshot(vid_tensor)
    shape = tuple(data.shape[i] for i in order) if len(data.shape) == 5 else data.shape
    check_video_args(shape, data.dtype, fps)
    return lambda: video_summary(tag, data.array().transpose(order), fps)


def audio_job(tag: str, snd_tensor: Any, sample_rate: float) -> Job:
    """add_audio."""
    _check_tag(tag)
    data = snapshot(snd_tensor)
    check_audio_args(data.shape, data.dtype, sample_rate)
    return lambda: audio_summary(tag, data.array(), sample_rate)
