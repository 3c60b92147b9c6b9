# SPDX-License-Identifier: Apache-2.0
"""SummaryWriter's image, video and audio methods. The caller's thread checks the arguments and
takes a host copy; PNG/GIF/WAV encoding runs on the writer's media worker (one FIFO thread)."""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING, Any, Callable, Optional

from xfast._convert import to_step, to_walltime
from xfast._figure import figures_to_array
from xfast._media_encode import audio_summary, image_summary, video_summary
from xfast._media_prep import video_order
from xfast._media_summary import (
    check_audio_args,
    check_boxes_args,
    check_image_args,
    check_video_args,
)
from xfast._media_worker import MediaWorker
from xfast._snapshot import snapshot

_create_lock = threading.Lock()


def _check_tag(tag: Any) -> None:
    if not isinstance(tag, str):
        raise TypeError(f"tag must be a str, got {type(tag).__name__}")


class _MediaMixin:
    """add_image, add_images, add_image_with_boxes, add_figure, add_video and add_audio.

    Each call returns once its data is copied (for a CUDA tensor: once a non-blocking copy to
    pinned memory is queued on the current stream). The event is written later with the
    step given and the wall time of the call, in call order among these methods; relative to
    other methods (add_scalar, ...) it may land later in the file, which TensorBoard does not
    mind. ``flush()`` and ``close()`` wait for pending media first; an encoding or write
    error on the worker is raised (RuntimeError) by the next media call, ``flush()`` or
    ``close()``. When more than 32 items are pending, callers wait.
    """

    _media: Optional[MediaWorker] = None

    if TYPE_CHECKING:

        def _get_file_writer(self) -> Any: ...  # SummaryWriter's

    def _queue_media(
        self, make: Callable[[], Any], global_step: Optional[int], walltime: Optional[float]
    ) -> None:
        wall = to_walltime(walltime)
        step = to_step(global_step)
        engine_owner = self._get_file_writer()
        worker = self._media
        if worker is None:
            with _create_lock:  # two threads' first calls must share one worker (one order)
                worker = self._media
                if worker is None:
                    worker = self._media = MediaWorker()

        def write(data: bytes) -> None:
            engine_owner._live_engine().add_summary(data, step, wall)

        worker.submit(lambda: make().SerializeToString(), write, engine_owner)

    def _drain_media(self) -> Optional[RuntimeError]:
        """Waits for pending media; returns (rather than raises) the worker's error, so the
        caller can finish flushing or closing first."""
        if self._media is None:
            return None
        try:
            self._media.drain()
        except RuntimeError as e:
            return e
        return None

    def add_image(
        self,
        tag: str,
        img_tensor: Any,
        global_step: Optional[int] = None,
        walltime: Optional[float] = None,
        dataformats: str = "CHW",
    ) -> None:
        """Add image data to summary.

        Args:
            tag: Data identifier.
            img_tensor: Image data (torch.Tensor or numpy.ndarray). uint8 values are used as
                they are; other dtypes are taken as [0, 1], multiplied by 255, clipped to
                [0, 255] and truncated.
            global_step: Global step value to record.
            walltime: Optional override default walltime (time.time()) seconds after epoch.
            dataformats: Image data format specification of the form CHW, HWC, HW, WH, etc.
                (a permutation of CHW or HW; NCHW permutations tile a batch as add_images).

        Shape:
            img_tensor: Default is (3, H, W); (1, H, W), (H, W), (H, W, 3) and 4-channel
            (RGBA) images also work with the matching ``dataformats``.

        Differences from torch: encoded on a worker thread without Pillow (same pixels,
        different PNG bytes); bad shapes raise ValueError, bad dtypes TypeError.
        """
        self._add_image(tag, img_tensor, global_step, walltime, dataformats)

    def add_images(
        self,
        tag: str,
        img_tensor: Any,
        global_step: Optional[int] = None,
        walltime: Optional[float] = None,
        dataformats: str = "NCHW",
    ) -> None:
        """Add batched image data to summary, tiled up to 8 images per row.

        Args:
            tag: Data identifier.
            img_tensor: Image data (torch.Tensor or numpy.ndarray).
            global_step: Global step value to record.
            walltime: Optional override default walltime (time.time()) seconds after epoch.
            dataformats: Image data format specification of the form NCHW, NHWC, CHW, HWC,
                HW, WH, etc.

        Shape:
            img_tensor: Default is (N, 3, H, W); 1 channel is repeated to 3. tensorboardX's
            4-channel batches are accepted too (torch rejects them).
        """
        self._add_image(tag, img_tensor, global_step, walltime, dataformats)

    def _add_image(
        self, tag: str, img_tensor: Any, global_step: Optional[int], walltime: Optional[float],
        dataformats: str,
    ) -> None:
        _check_tag(tag)
        data = snapshot(img_tensor)
        fmt = check_image_args(data.shape, data.dtype, dataformats, 1)
        self._queue_media(lambda: image_summary(tag, data.array(), fmt), global_step, walltime)

    def add_image_with_boxes(
        self,
        tag: str,
        img_tensor: Any,
        box_tensor: Any,
        global_step: Optional[int] = None,
        walltime: Optional[float] = None,
        rescale: float = 1,
        dataformats: str = "CHW",
        labels: Optional[list[str]] = None,
    ) -> None:
        """Add image and draw bounding boxes on the image.

        Args:
            tag: Data identifier.
            img_tensor: Image data.
            box_tensor: Box data (for detected objects), (N, 4) rows of [x1, y1, x2, y2].
            global_step: Global step value to record.
            walltime: Optional override default walltime (time.time()) seconds after epoch.
            rescale: Optional scale override (LANCZOS; needs Pillow when not 1).
            dataformats: Image data format specification of the form NCHW, NHWC, CHW, HWC,
                HW, WH, etc.
            labels: The label to be shown for each bounding box (ignored when the count
                differs from the number of boxes, as in torch).

        Differences from torch: boxes and labels are drawn with Pillow when it is installed
        (identical pixels); without it boxes are drawn with numpy (close, not identical) and
        labels, like ``rescale != 1``, raise ImportError at the call.
        """
        _check_tag(tag)
        data = snapshot(img_tensor)
        fmt = check_image_args(data.shape, data.dtype, dataformats, rescale)
        boxes = snapshot(box_tensor)
        kept = check_boxes_args(boxes.shape, boxes.dtype, labels)
        self._queue_media(
            lambda: image_summary(tag, data.array(), fmt, rescale, boxes.array(), kept),
            global_step,
            walltime,
        )

    def add_figure(
        self,
        tag: str,
        figure: Any,
        global_step: Optional[int] = None,
        close: bool = True,
        walltime: Optional[float] = None,
    ) -> None:
        """Render matplotlib figure into an image and add it to summary.

        Needs ``matplotlib``. The figure is drawn on the calling thread (it belongs to the
        caller); only the PNG encoding is deferred.

        Args:
            tag: Data identifier.
            figure: Figure or a list of figures (tiled like add_images).
            global_step: Global step value to record.
            close: Flag to automatically close the figure.
            walltime: Optional override default walltime (time.time()) seconds after epoch.

        Raises:
            TypeError: `figure` is not a ``matplotlib.figure.Figure`` or a list of them.
            ValueError: the list is empty, or the figures differ in size.
            ImportError: matplotlib is not installed.

        Differences from torch: ``figure=None`` raises TypeError (torch draws a new blank
        figure and closes pyplot's current one).
        """
        array, fmt = figures_to_array(figure, close)
        self._add_image(tag, array, global_step, walltime, fmt)

    def add_video(
        self,
        tag: str,
        vid_tensor: Any,
        global_step: Optional[int] = None,
        fps: float = 4,
        walltime: Optional[float] = None,
        dataformats: str = "NTCHW",
    ) -> None:
        """Add video data to summary, as an animated GIF.

        Args:
            tag: Data identifier.
            vid_tensor: Video data, (N, T, C, H, W), values in [0, 255] for uint8 or [0, 1]
                for float. A batch is tiled into a grid per frame.
            global_step: Global step value to record.
            fps: Frames per second.
            walltime: Optional override default walltime (time.time()) seconds after epoch.
            dataformats: (tensorboardX) the layout of ``vid_tensor``, a permutation of NTCHW.

        Differences from torch: needs no moviepy (torch writes no image when moviepy 1.x is
        missing); frames with more than 256 colors are reduced to 256 colors (Pillow's
        median cut if installed, else a 3-3-2 bit color cube); the frame delay is 1/fps.
        """
        _check_tag(tag)
        order = video_order(dataformats)
        data = snapshot(vid_tensor)
        shape = tuple(data.shape[i] for i in order) if len(data.shape) == 5 else data.shape
        check_video_args(shape, data.dtype, fps)
        self._queue_media(
            lambda: video_summary(tag, data.array().transpose(order), fps), global_step, walltime
        )

    def add_audio(
        self,
        tag: str,
        snd_tensor: Any,
        global_step: Optional[int] = None,
        sample_rate: float = 44100,
        walltime: Optional[float] = None,
    ) -> None:
        """Add audio data to summary (mono 16-bit WAV).

        Args:
            tag: Data identifier.
            snd_tensor: Sound data, (1, L) or anything that squeezes to (L,); values in [-1, 1]
                (others are clipped).
            global_step: Global step value to record.
            sample_rate: Sample rate in Hz.
            walltime: Optional override default walltime (time.time()) seconds after epoch.

        Differences from torch: out-of-range samples are clipped silently (torch prints a
        warning); bad shapes raise ValueError (torch: AssertionError).
        """
        _check_tag(tag)
        data = snapshot(snd_tensor)
        check_audio_args(data.shape, data.dtype, sample_rate)
        self._queue_media(
            lambda: audio_summary(tag, data.array(), sample_rate), global_step, walltime
        )
