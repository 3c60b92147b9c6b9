# SPDX-License-Identifier: Apache-2.0
"""tensorboardX 2.6.5's SummaryWriter over xfast's: its names, defaults and layout, the same
native engine."""

from __future__ import annotations

import contextlib
import json
import os
import time
from collections.abc import Iterator, Mapping
from types import MappingProxyType
from typing import Any, Optional, Union

import numpy as np

from xfast import writer as base
from xfast.encoding import proto
from xfast.encoding.convert import to_float, to_step
from xfast.file_writer import DEFAULT_QUEUE_CAPACITY
from xfast.tensorboardX import comet
from xfast.tensorboardX.file_writer import DummyFileWriter, FileWriter
from xfast.tensorboardX.hparams import hparams
from xfast.tensorboardX.mesh import mesh
from xfast.tensorboardX.openvino import openvino_graph
from xfast.tensorboardX.tags import TagCleaner

# tensorboardX's default: Comet off. Read-only, so one shared default cannot be mutated.
_COMET_OFF: Mapping[str, Any] = MappingProxyType({"disabled": True})
# Keyword arguments besides tensorboardX's own that reach xfast (tensorboardX passes **kwargs
# on to its FileWriter, which takes none, so any other raises TypeError there too).
_XFAST_OPTIONS = ("queue_capacity", "on_full", "on_error", "ranks", "nonfinite_scalars")


def _noop(*args: Any, **kwargs: Any) -> None:
    """What every add_* method of a ``write_to_disk=False`` writer is."""


class SummaryWriter(base.SummaryWriter):
    """Writes entries directly to event files in the logdir to be consumed by TensorBoard,
    with tensorboardX 2.6.5's interface: ``from xfast.tensorboardX import SummaryWriter``.

    xfast's engine under tensorboardX's constructor and methods: ``add_scalars`` writes each
    series to the run ``<logdir>/<main_tag>/<tag>`` and keeps it for
    ``export_scalars_to_json``; tags are cleaned as tensorboardX cleans them (characters
    outside ``[-/\\w.]`` become ``_``, leading ``/`` are dropped: warned once per tag) in
    ``add_scalar(s)``, ``add_histogram``, ``add_image(s)``, ``add_figure`` and ``add_video``;
    ``add_graph`` tags its run metadata "profiler"; ``use_metadata`` gives the calls inside it
    a default step and wall time.

    Args:
        logdir: Save directory location. Default is runs/**CURRENT_DATETIME_HOSTNAME**.
        comment: Suffix of the default ``logdir``; no effect when ``logdir`` is given.
        purge_step: When logging crashes at step T+X and restarts at step T, events whose
            global_step is at least T are purged and hidden from TensorBoard.
        max_queue: Accepted for compatibility (xfast's ring holds ``queue_capacity`` records).
        flush_secs: Accepted for compatibility: events reach the OS within ~50 ms anyway.
        filename_suffix: Suffix added to all event filenames in the logdir directory.
        write_to_disk: False: no directory, no file, and every ``add_*`` call returns at once
            (``add_scalars`` still keeps its values for ``export_scalars_to_json``).
        log_dir: The same as ``logdir``, used when ``logdir`` is not given.
        comet_config: A Comet config dictionary (workspace, project_name, api_key, disabled,
            ...). Unless "disabled" is True, scalars, hparams, text, histograms and graph files
            are also sent to a Comet experiment, as tensorboardX does; needs ``comet_ml``.
        **kwargs: xfast's own options: ``queue_capacity``, ``on_full``, ``on_error``,
            ``ranks``, ``nonfinite_scalars`` (see ``xfast.SummaryWriter``).

    Raises:
        TypeError: an unknown keyword argument (tensorboardX raises it from its FileWriter).
        ImportError: ``comet_config`` enables Comet and ``comet_ml`` is not installed
            (tensorboardX raises a bare Exception at the first call).
    """

    def __init__(
        self,
        logdir: Optional[Union[str, os.PathLike[str]]] = None,
        comment: str = "",
        purge_step: Optional[int] = None,
        max_queue: int = 10,
        flush_secs: int = 120,
        filename_suffix: str = "",
        write_to_disk: bool = True,
        log_dir: Optional[Union[str, os.PathLike[str]]] = None,
        comet_config: Optional[Mapping[str, Any]] = _COMET_OFF,
        **kwargs: Any,
    ) -> None:
        unknown = sorted(set(kwargs) - set(_XFAST_OPTIONS))
        if unknown:
            raise TypeError(f"SummaryWriter got an unexpected keyword argument {unknown[0]!r}")
        bridge = comet.bridge_for(comet_config)
        if log_dir is not None and logdir is None:
            logdir = log_dir
        self._write_to_disk = bool(write_to_disk)
        self._clean = TagCleaner()
        self.scalar_dict: dict[str, list[list[Any]]] = {}
        super().__init__(
            logdir,
            comment,
            purge_step,
            max_queue,
            flush_secs,
            filename_suffix,
            queue_capacity=kwargs.get("queue_capacity", DEFAULT_QUEUE_CAPACITY),
            on_full=kwargs.get("on_full", "block"),
            on_error=kwargs.get("on_error", "raise"),
            ranks=kwargs.get("ranks", "zero"),
            nonfinite_scalars=kwargs.get("nonfinite_scalars", False),
        )
        if not self._write_to_disk:
            # Instance attributes shadow the class's methods: a disabled writer pays one call.
            for name in _ADD_METHODS:
                setattr(self, name, _noop)
            self.add_scalars = self._scalars_without_disk  # type: ignore[method-assign]
        if bridge is not None:
            comet.attach(self, bridge, self._clean)

    def _new_file_writer(self, log_dir: str, purge_step: Optional[int]) -> FileWriter:
        return FileWriter(
            log_dir,
            self.max_queue,
            self.flush_secs,
            self.filename_suffix,
            purge_step=purge_step,
            queue_capacity=self._queue_capacity,
            on_full=self._on_full,
            on_error=self._on_error,
        )

    def _get_file_writer(self) -> Any:
        """Returns the default FileWriter (a DummyFileWriter with ``write_to_disk=False``),
        recreating it if closed."""
        if self._write_to_disk:
            return super()._get_file_writer()
        if self.file_writer is None or self.all_writers is None:
            dummy: Any = DummyFileWriter(self.log_dir)
            self.file_writer = dummy
            self.all_writers = {str(self.log_dir): dummy}
        return self.file_writer

    def _resolve(
        self, step: Optional[int], walltime: Optional[float]
    ) -> tuple[Optional[int], Optional[float]]:
        """The step and wall time given, else ``use_metadata``'s defaults."""
        resolved: tuple[Optional[int], Optional[float]] = self._get_file_writer()._resolve(
            step, walltime
        )
        return resolved

    @contextlib.contextmanager
    def use_metadata(
        self, *, global_step: Optional[int] = None, walltime: Optional[float] = None
    ) -> Iterator[SummaryWriter]:
        """Context manager giving the ``add_*`` calls inside it a default step and wall time.

        Args:
            global_step: Step for calls made without one.
            walltime: Wall time for calls made without one (default: now, at each call).

        Raises:
            ValueError: neither is given (tensorboardX: AssertionError).
            RuntimeError: a ``use_metadata`` block of this writer is already open.

        Example::

            with writer.use_metadata(global_step=10):
                writer.add_scalar("loss", 0.5)          # step 10
        """
        if getattr(self, "_silent_rank", False):  # a rank that does not write (ranks=)
            yield self
            return
        with self._get_file_writer().use_metadata(global_step=global_step, walltime=walltime):
            yield self

    def add_scalar(  # type: ignore[override]
        self,
        tag: str,
        scalar_value: Any,
        global_step: Optional[int] = None,
        walltime: Optional[float] = None,
        display_name: str = "",
        summary_description: str = "",
    ) -> None:
        """Add scalar data to summary.

        Args:
            tag: Data identifier (cleaned as tensorboardX does).
            scalar_value: Value to save (number, numpy scalar, one-element array or tensor).
            global_step: Global step value to record.
            walltime: Optional override default walltime (time.time()) of event.
            display_name: The title of the plot; empty: the tag.
            summary_description: Text shown by the plot's information icon.

        Raises:
            TypeError: ``scalar_value`` is not a number; ValueError: it holds several elements.
        """
        fw: Any = self.file_writer  # this class's FileWriter (see _new_file_writer)
        if fw is None:
            fw = self._get_file_writer()
        try:
            tid = fw._clean_ids[tag]
        except KeyError:
            tid = fw._clean_ids[tag] = fw._tag_id(self._clean(tag))
        t = type(scalar_value)
        if (
            (t is not float and t is not int)
            or display_name
            or summary_description
            or fw._default_metadata
            or self._device is not None
        ):
            self._add_scalar_rare(
                tag, scalar_value, global_step, walltime, display_name, summary_description
            )
            return
        if global_step is None:
            step = 0
        elif type(global_step) is int:
            step = global_step
        else:
            step = to_step(global_step)
        fw._engine.add_scalar(tid, scalar_value, step, walltime, 0)

    def _add_scalar_rare(
        self,
        tag: str,
        scalar_value: Any,
        global_step: Optional[int],
        walltime: Optional[float],
        display_name: str,
        summary_description: str,
    ) -> None:
        """add_scalar with a plot title or description, default metadata, a value other than a
        Python number, or the device path in use."""
        step, wall = self._resolve(global_step, walltime)
        tag = self._clean(tag)
        if not (display_name or summary_description):
            super().add_scalar(tag, scalar_value, step, wall)
            return
        value = proto.Summary.Value(
            tag=tag,
            simple_value=to_float(scalar_value),
            metadata=proto.SummaryMetadata(
                display_name=display_name, summary_description=summary_description
            ),
        )
        self._get_file_writer().add_summary(proto.Summary(value=[value]), step, wall)

    def add_scalars(
        self,
        main_tag: str,
        tag_scalar_dict: dict[str, Any],
        global_step: Optional[int] = None,
        walltime: Optional[float] = None,
    ) -> None:
        """Add many scalar data to summary, tensorboardX's way.

        Each entry goes to its own run ``<logdir>/<main_tag>/<tag>`` under the (cleaned) tag
        ``main_tag``, all with one wall time; the values are also kept in memory for
        ``export_scalars_to_json`` (in extreme cases that grows large).

        Args:
            main_tag: The parent name for the tags.
            tag_scalar_dict: Key-value pair storing the tag and corresponding values.
            global_step: Global step value to record.
            walltime: Optional override default walltime (time.time()) of event.

        Raises:
            TypeError: ``tag_scalar_dict`` is not a dict, or a value is not a number.
        """
        step, walltime = self._resolve(global_step, walltime)
        wall, runs = self._record_scalars(main_tag, tag_scalar_dict, step, walltime)
        tag = self._clean(main_tag)
        engine_step = to_step(step)
        assert self.all_writers is not None  # _record_scalars opened the default writer
        for fw_tag, value in runs:
            fw = self.all_writers.get(fw_tag)
            if fw is None:
                fw = self.all_writers[fw_tag] = self._new_file_writer(fw_tag, None)
            fw._engine.add_scalar(fw._tag_id(tag), value, engine_step, wall, 0)

    def _scalars_without_disk(
        self,
        main_tag: str,
        tag_scalar_dict: dict[str, Any],
        global_step: Optional[int] = None,
        walltime: Optional[float] = None,
    ) -> None:
        """add_scalars of a ``write_to_disk=False`` writer: kept for export_scalars_to_json only."""
        self._record_scalars(main_tag, tag_scalar_dict, global_step, walltime)

    def _record_scalars(
        self,
        main_tag: str,
        tag_scalar_dict: dict[str, Any],
        global_step: Optional[int] = None,
        walltime: Optional[float] = None,
    ) -> tuple[float, list[tuple[str, float]]]:
        """Checks an add_scalars call and keeps its values for export_scalars_to_json; returns
        the call's wall time and each value with its run directory."""
        if not isinstance(tag_scalar_dict, dict):
            raise TypeError(f"tag_scalar_dict must be a dict, got {type(tag_scalar_dict).__name__}")
        if not isinstance(main_tag, str):
            raise TypeError(f"main_tag must be a str, got {type(main_tag).__name__}")
        wall = time.time() if walltime is None else walltime
        runs: list[tuple[str, float]] = []
        logdir = str(self._get_file_writer().get_logdir())
        step = None if global_step is None else to_step(global_step)
        for tag, scalar_value in tag_scalar_dict.items():
            value = to_float(scalar_value)
            fw_tag = os.path.join(logdir, main_tag, tag)
            self.scalar_dict.setdefault(fw_tag, []).append([wall, step, value])
            runs.append((fw_tag, value))
        return wall, runs

    def export_scalars_to_json(self, path: Union[str, os.PathLike[str]]) -> None:
        """Writes everything ``add_scalars`` logged since the last export to `path` as JSON,
        ``{run directory: [[walltime, step, value], ...]}``, then forgets it.

        Args:
            path: The JSON file to write.
        """
        with open(path, "w", encoding="utf-8") as f:
            json.dump(self.scalar_dict, f)
        self.scalar_dict = {}

    def add_histogram(  # type: ignore[override]
        self,
        tag: str,
        values: Any,
        global_step: Optional[int] = None,
        bins: Any = "tensorflow",
        walltime: Optional[float] = None,
        max_bins: Optional[int] = None,
    ) -> None:
        """Add histogram to summary (see ``xfast.SummaryWriter.add_histogram``).

        Args:
            tag: Data identifier (cleaned as tensorboardX does).
            values: Values to build histogram (tensor, array or sequence of numbers).
            global_step: Global step value to record.
            bins: One of {'tensorflow', 'auto', 'fd', ...}, an int or a sequence of edges.
            walltime: Optional override default walltime (time.time()) of event.
            max_bins: Group bins so that about this many remain.
        """
        step, wall = self._resolve(global_step, walltime)
        super().add_histogram(self._clean(tag), values, step, bins, wall, max_bins)

    def add_histogram_raw(
        self,
        tag: str,
        min: float,
        max: float,
        num: int,
        sum: float,
        sum_squares: float,
        bucket_limits: Any,
        bucket_counts: Any,
        global_step: Optional[int] = None,
        walltime: Optional[float] = None,
    ) -> None:
        """Add histogram with raw data (the tag is used as given, as in tensorboardX).

        Args:
            tag: Data identifier.
            min: Min value.
            max: Max value.
            num: Number of values.
            sum: Sum of all values.
            sum_squares: Sum of squares for all values.
            bucket_limits: Upper value per bucket.
            bucket_counts: Number of values per bucket.
            global_step: Global step value to record.
            walltime: Optional override default walltime (time.time()) of event.
        """
        step, wall = self._resolve(global_step, walltime)
        super().add_histogram_raw(
            tag, min, max, num, sum, sum_squares, bucket_limits, bucket_counts, step, wall
        )

    def add_image(
        self,
        tag: str,
        img_tensor: Any,
        global_step: Optional[int] = None,
        walltime: Optional[float] = None,
        dataformats: str = "CHW",
    ) -> None:
        """Add image data to summary (see ``xfast.SummaryWriter.add_image``).

        Args:
            tag: Data identifier (cleaned as tensorboardX does).
            img_tensor: Image data, uint8 in [0, 255] or float in [0, 1].
            global_step: Global step value to record.
            walltime: Optional override default walltime (time.time()) of event.
            dataformats: Layout of ``img_tensor``: CHW, HWC, HW, ...
        """
        step, wall = self._resolve(global_step, walltime)
        super().add_image(self._clean(tag), img_tensor, step, wall, dataformats)

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
            tag: Data identifier (cleaned as tensorboardX does).
            img_tensor: A batch (tensor or array), or a list of same-shaped images, stacked
                as tensorboardX does (then ``dataformats`` is CHW or HWC, per image).
            global_step: Global step value to record.
            walltime: Optional override default walltime (time.time()) of event.
            dataformats: Layout: NCHW, NHWC, ...; for a list, CHW or HWC.

        Raises:
            ValueError: a list with ``dataformats`` other than CHW or HWC (tensorboardX prints
                a message and writes nothing), or an empty list.
        """
        if isinstance(img_tensor, list):
            img_tensor, dataformats = _stack_images(img_tensor, dataformats)
        step, wall = self._resolve(global_step, walltime)
        super().add_images(self._clean(tag), img_tensor, step, wall, dataformats)

    def add_image_with_boxes(  # type: ignore[override]
        self,
        tag: str,
        img_tensor: Any,
        box_tensor: Any,
        global_step: Optional[int] = None,
        walltime: Optional[float] = None,
        dataformats: str = "CHW",
        labels: Optional[Union[str, list[str]]] = None,
        **kwargs: Any,
    ) -> None:
        """Add image and draw bounding boxes on the image.

        Args:
            tag: Data identifier (used as given, as in tensorboardX).
            img_tensor: Image data.
            box_tensor: Box data (for detected objects), (N, 4) rows of [x1, y1, x2, y2].
            global_step: Global step value to record.
            walltime: Optional override default walltime (time.time()) of event.
            dataformats: Layout of ``img_tensor``.
            labels: The label of each box (a str for one box); ignored when the count differs
                from the number of boxes.
            **kwargs: ``rescale`` (default 1).

        Raises:
            TypeError: another keyword argument than ``rescale``.
        """
        rescale = kwargs.pop("rescale", 1)
        if kwargs:
            raise TypeError(f"add_image_with_boxes got an unexpected keyword argument "
                            f"{sorted(kwargs)[0]!r}")
        if isinstance(labels, str):
            labels = [labels]
        step, wall = self._resolve(global_step, walltime)
        super().add_image_with_boxes(
            tag, img_tensor, box_tensor, step, wall, rescale, dataformats, labels
        )

    def add_figure(
        self,
        tag: str,
        figure: Any,
        global_step: Optional[int] = None,
        close: bool = True,
        walltime: Optional[float] = None,
    ) -> None:
        """Render matplotlib figure (or a list of them) into an image and add it to summary.

        Args:
            tag: Data identifier (cleaned as tensorboardX does).
            figure: Figure or a list of figures.
            global_step: Global step value to record.
            close: Flag to automatically close the figure.
            walltime: Optional override default walltime (time.time()) of event.
        """
        step, wall = self._resolve(global_step, walltime)
        super().add_figure(self._clean(tag), figure, step, close, wall)

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
            tag: Data identifier (cleaned as tensorboardX does).
            vid_tensor: Video data, (N, T, C, H, W) by default.
            global_step: Global step value to record.
            fps: Frames per second.
            walltime: Optional override default walltime (time.time()) of event.
            dataformats: Layout of ``vid_tensor``, a permutation of NTCHW.
        """
        step, wall = self._resolve(global_step, walltime)
        super().add_video(self._clean(tag), vid_tensor, step, fps, wall, dataformats)

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
            snd_tensor: Sound data, (1, L), values in [-1, 1].
            global_step: Global step value to record.
            sample_rate: Sample rate in Hz.
            walltime: Optional override default walltime (time.time()) of event.
        """
        step, wall = self._resolve(global_step, walltime)
        super().add_audio(tag, snd_tensor, step, sample_rate, wall)

    def add_text(
        self,
        tag: str,
        text_string: str,
        global_step: Optional[int] = None,
        walltime: Optional[float] = None,
    ) -> None:
        """Add text data to summary.

        Args:
            tag: Data identifier.
            text_string: String to save.
            global_step: Global step value to record.
            walltime: Optional override default walltime (time.time()) of event.
        """
        step, wall = self._resolve(global_step, walltime)
        super().add_text(tag, text_string, step, wall)

    def add_onnx_graph(self, onnx_model_file: Any) -> None:  # type: ignore[override]
        """Add the graph of an ONNX model file to the Graphs dashboard.

        Args:
            onnx_model_file: Path to the ``.onnx`` file.

        Raises:
            ImportError: the ``onnx`` package is not installed.
        """
        super().add_onnx_graph(onnx_model_file)

    def add_openvino_graph(self, xmlname: Union[str, os.PathLike[str]]) -> None:
        """Add the graph of an OpenVINO IR file to the Graphs dashboard (parsed here: no
        openvino package needed).

        Args:
            xmlname: Path to the IR's ``.xml`` file.

        Raises:
            OSError: the file cannot be read; ValueError: it is not an IR file.
        """
        self._get_file_writer().add_openvino_graph(openvino_graph(xmlname))

    def add_embedding(
        self,
        mat: Any,
        metadata: Optional[Any] = None,
        label_img: Any = None,
        global_step: Optional[int] = None,
        tag: str = "default",
        metadata_header: Optional[Any] = None,
    ) -> None:
        """Add embedding projector data to summary (see ``xfast.SummaryWriter.add_embedding``).

        As with tensorboardX, the embeddings already listed in the logdir's
        ``projector_config.pbtxt`` (by an earlier writer) stay listed.

        Args:
            mat: A matrix (N, D) whose rows are the feature vectors of the data points.
            metadata: A list of labels, one per data point.
            label_img: Images (N, C, H, W), square (H == W, as tensorboardX requires).
            global_step: Global step value to record (None means 0).
            tag: Name for the embedding.
            metadata_header: A list of headers for multi-column metadata.

        Raises:
            ValueError: ``label_img`` is not (N, C, H, H) with one image per data point, or
                another check of ``xfast.SummaryWriter.add_embedding`` fails (tensorboardX
                raises AssertionError).
        """
        if label_img is not None:
            shape = tuple(getattr(label_img, "shape", ()))
            rows = len(mat) if not hasattr(mat, "shape") else mat.shape[0]
            if len(shape) != 4 or shape[0] != rows:
                raise ValueError(
                    f"add_embedding: label_img must be (N, C, H, W) with N = {rows} "
                    f"(#images should equal #data points), got shape {shape}"
                )
            if shape[2] != shape[3]:
                raise ValueError(
                    f"add_embedding: label_img images must be square, got H={shape[2]}, "
                    f"W={shape[3]} (see tensorflow/tensorboard#670)"
                )
        if self._projector_config is None:
            self._projector_config = _existing_projector_config(
                str(self._get_file_writer().get_logdir())
            )
        super().add_embedding(mat, metadata, label_img, global_step, tag, metadata_header)

    def add_pr_curve(
        self,
        tag: str,
        labels: Any,
        predictions: Any,
        global_step: Optional[int] = None,
        num_thresholds: int = 127,
        weights: Any = None,
        walltime: Optional[float] = None,
    ) -> None:
        """Add precision recall curve.

        Args:
            tag: Data identifier.
            labels: Ground truth data. Binary label for each element.
            predictions: The probability that an element be classified as true, in [0, 1].
            global_step: Global step value to record.
            num_thresholds: Number of thresholds used to draw the curve (at most 127).
            weights: Optional weight of each element.
            walltime: Optional override default walltime (time.time()) of event.
        """
        step, wall = self._resolve(global_step, walltime)
        super().add_pr_curve(tag, labels, predictions, step, num_thresholds, weights, wall)

    def add_pr_curve_raw(
        self,
        tag: str,
        true_positive_counts: Any,
        false_positive_counts: Any,
        true_negative_counts: Any,
        false_negative_counts: Any,
        precision: Any,
        recall: Any,
        global_step: Optional[int] = None,
        num_thresholds: int = 127,
        weights: Any = None,
        walltime: Optional[float] = None,
    ) -> None:
        """Add precision recall curve with raw data.

        Args:
            tag: Data identifier.
            true_positive_counts: true positive counts.
            false_positive_counts: false positive counts.
            true_negative_counts: true negative counts.
            false_negative_counts: false negative counts.
            precision: precision.
            recall: recall.
            global_step: Global step value to record.
            num_thresholds: Number of thresholds used to draw the curve.
            weights: Unused.
            walltime: Optional override default walltime (time.time()) of event.
        """
        step, wall = self._resolve(global_step, walltime)
        super().add_pr_curve_raw(
            tag, true_positive_counts, false_positive_counts, true_negative_counts,
            false_negative_counts, precision, recall, step, num_thresholds, weights, wall,
        )

    def add_mesh(
        self,
        tag: str,
        vertices: Any,
        colors: Any = None,
        faces: Any = None,
        config_dict: Optional[Mapping[str, Any]] = None,
        global_step: Optional[int] = None,
        walltime: Optional[float] = None,
    ) -> None:
        """Add meshes or 3D point clouds to TensorBoard, tagged as tensorboardX tags them
        (``<tag>_1`` vertices, ``<tag>_2`` faces, ``<tag>_3`` colors).

        Args:
            tag: Data identifier.
            vertices: (B, N, 3) 3D coordinates of vertices.
            colors: (B, N, 3) colors for each vertex, in [0, 255].
            faces: (B, F, 3) indices of the vertices of each triangle.
            config_dict: Dictionary with ThreeJS classes names and configuration.
            global_step: Global step value to record.
            walltime: Optional override default walltime (time.time()) of event.
        """
        step, wall = self._resolve(global_step, walltime)
        summary = mesh(tag, vertices, colors, faces, config_dict)
        self._get_file_writer().add_summary(summary, step, wall)

    def add_hparams(  # type: ignore[override]
        self,
        hparam_dict: dict[str, Any],
        metric_dict: dict[str, Any],
        name: Optional[str] = None,
        global_step: Optional[int] = None,
    ) -> None:
        """Add a set of hyperparameters to be compared in TensorBoard: a new run
        ``<logdir>/<name or time.time()>`` with them and one scalar per metric (no step
        unless ``global_step`` is given).

        Args:
            hparam_dict: Name -> value (bool, str, float, int) of each hyperparameter.
            metric_dict: Name -> value of each metric, written as a scalar.
            name: Name of the hparam session (its run directory).
            global_step: Current time step.

        Raises:
            TypeError: ``hparam_dict`` or ``metric_dict`` is not a dict.

        Differences from ``xfast.SummaryWriter.add_hparams``: tensorboardX's typing (a bool is
        stored as a bool; see ``xfast.tensorboardX.hparams``) and its cleaned metric tags.
        """
        if type(hparam_dict) is not dict or type(metric_dict) is not dict:
            raise TypeError("hparam_dict and metric_dict should be dictionary.")
        run_dir = os.path.join(str(self._get_file_writer().get_logdir()), name or str(time.time()))
        with SummaryWriter(run_dir) as run:
            fw = run._get_file_writer()
            for summary in hparams(hparam_dict, metric_dict):
                fw.add_summary(summary)
            for tag, value in metric_dict.items():
                run.add_scalar(tag, value, global_step)


def _existing_projector_config(logdir: str) -> Any:
    """The ProjectorConfig already in `logdir` (None if there is none)."""
    from google.protobuf import text_format

    path = os.path.join(logdir, "projector_config.pbtxt")
    if not os.path.exists(path):
        return None
    with open(path, encoding="utf-8") as f:
        return text_format.Parse(f.read(), proto.ProjectorConfig())


def _stack_images(images: list[Any], dataformats: str) -> tuple[Any, str]:
    """tensorboardX's list form of add_images: one batch, "N" + the per-image layout."""
    if dataformats.upper() not in ("CHW", "HWC"):
        raise ValueError(
            f"add_images: a list of images needs dataformats 'CHW' or 'HWC', got {dataformats!r}"
        )
    if not images:
        raise ValueError("add_images: the list of images is empty")
    import torch

    if all(isinstance(i, torch.Tensor) for i in images):
        return torch.stack(images, 0), "N" + dataformats.upper()
    return np.stack([host_array(i) for i in images], 0), "N" + dataformats.upper()


def host_array(x: Any) -> np.ndarray:
    """`x` as a numpy array (a tensor is detached and copied to the host): an image of
    add_images' list, or what a forked process sends to GlobalSummaryWriter's owner."""
    if hasattr(x, "detach"):
        return np.asarray(x.detach().cpu().numpy())
    return np.asarray(x)


_ADD_METHODS = tuple(n for n in dir(SummaryWriter) if n.startswith("add_") and n != "add_scalars")
