# SPDX-License-Identifier: Apache-2.0
"""Summary messages for images, videos and audio from checked host arrays: the encoding work
that SummaryWriter runs on its media worker and the summary functions run at once."""

from __future__ import annotations

import io
import wave
from typing import Optional

import numpy as np

from xfast.encoding.proto import Summary
from xfast.media.draw import draw_boxes, resize
from xfast.media.gif import encode_gif
from xfast.media.png import encode_png
from xfast.media.prep import audio_int16, image_hwc_uint8, video_frames


def image_summary(
    tag: str,
    arr: np.ndarray,
    fmt: str,
    rescale: float = 1,
    boxes: Optional[np.ndarray] = None,
    labels: Optional[list[str]] = None,
) -> Summary:
    """One PNG image value. Like torch, height and width are those before ``rescale``."""
    img = image_hwc_uint8(arr, fmt)
    h, w, c = img.shape
    if boxes is not None:
        img = draw_boxes(img, boxes, labels)
    png = encode_png(resize(img, rescale))
    image = Summary.Image(height=h, width=w, colorspace=c, encoded_image_string=png)
    return Summary(value=[Summary.Value(tag=tag, image=image)])


def video_summary(tag: str, arr: np.ndarray, fps: float) -> Summary:
    """One animated-GIF image value from an (N, T, C, H, W) array."""
    frames = video_frames(arr)
    _, h, w, c = frames.shape
    rgb = np.repeat(frames, 3, axis=3) if c == 1 else frames[..., :3]
    image = Summary.Image(
        height=h, width=w, colorspace=c, encoded_image_string=encode_gif(rgb, fps)
    )
    return Summary(value=[Summary.Value(tag=tag, image=image)])


def audio_summary(tag: str, arr: np.ndarray, sample_rate: float) -> Summary:
    """One mono 16-bit WAV audio value."""
    samples = audio_int16(arr)
    buf = io.BytesIO()
    with wave.open(buf, "wb") as wav:
        wav.setnchannels(1)
        wav.setsampwidth(2)
        wav.setframerate(sample_rate)
        wav.writeframes(samples.tobytes())
    audio = Summary.Audio(
        sample_rate=sample_rate,
        num_channels=1,
        length_frames=len(samples),
        encoded_audio_string=buf.getvalue(),
        content_type="audio/wav",
    )
    return Summary(value=[Summary.Value(tag=tag, audio=audio)])
