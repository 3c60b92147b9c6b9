# SPDX-License-Identifier: Apache-2.0
"""SummaryWriter: torch.utils.tensorboard's API over the native engine."""

from __future__ import annotations

import os
import socket
import threading
import time
import warnings
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from typing import Any, Optional, Union

import numpy as np

from xfast import _core, histograms
from xfast.device import log as device_log
from xfast.distributed.groups import RanksSpec
from xfast.distributed.ranks import setup_ranks
from xfast.distributed.reduce import drain, reduce_scalars
from xfast.distributed.sharded import add_sharded_histogram, wants_sharded
from xfast.encoding.convert import (
    float64_array,
    histogram_buffer,
    host_tensor_span,
    to_float,
    to_max_bins,
    to_step,
    to_walltime,
)
from xfast.encoding.summaries import tensor_proto
from xfast.file_writer import DEFAULT_QUEUE_CAPACITY, FileWriter, _merge_stats
from xfast.media.figure import figures_to_array
from xfast.media.jobs import Job, audio_job, image_job, image_with_boxes_job, video_job
from xfast.media.worker import MediaWorker
from xfast.plugins import custom_scalars, graph, hparams, mesh, pr_curve, projector

# Two threads' first media calls must share one worker: see _queue_media.
_create_lock = threading.Lock()

_STYLE_SIMPLE = 0
_STYLE_TENSOR_FLOAT = 1
_STYLE_TENSOR_DOUBLE = 2


def _default_bins() -> list[float]:
    """torch's SummaryWriter.default_bins (the 'tensorflow' bins), as a list of floats."""
    return [float(x) for x in _core.default_edges()]


class SummaryWriter:
    """Writes entries directly to event files in the log_dir to be consumed by TensorBoard.

    A drop-in replacement for ``torch.utils.tensorboard.SummaryWriter``: same constructor, same
    methods, same files. The calling thread only queues work (a few microseconds per scalar);
    encoding, CRC and file I/O run on a native writer thread, and histograms are computed by a
    native kernel without a float64 copy.

    Args:
        log_dir: Save directory location. Default is runs/**CURRENT_DATETIME_HOSTNAME**, which
            changes after each run. Use hierarchical folder structure to compare between runs
            easily, e.g. pass in 'runs/exp1', 'runs/exp2', etc. for each new experiment.
        comment: Comment log_dir suffix appended to the default ``log_dir``. If ``log_dir`` is
            assigned, this argument has no effect.
        purge_step: When logging crashes at step T+X and restarts at step T, any events whose
            global_step larger or equal to T will be purged and hidden from TensorBoard. Note
            that crashed and resumed experiments should have the same ``log_dir``.
        max_queue: Accepted for compatibility (see ``queue_capacity``).
        flush_secs: Accepted for compatibility: events reach the OS within ~50 ms anyway.
        filename_suffix: Suffix added to all event filenames in the log_dir directory.
        queue_capacity: (xfast) Records each event file's ring buffer holds.
        on_full: (xfast) ``"block"`` (default: wait, lose nothing) or ``"drop"`` (never wait;
            drops are counted in ``stats()``) when the ring is full.
        on_error: (xfast) ``"raise"`` (default) or ``"warn"``: how a write error of the
            background thread (disk full, EIO, deleted file) is reported at the next
            ``add_*``, ``flush()`` or ``close()``: OSError, or a RuntimeWarning so that training
            goes on. Both say how many events were lost. "raise" is the default because torch
            re-raises its writer thread's errors too, and a lost log should not pass unnoticed.
        logdir: (tensorboardX spelling) used when ``log_dir`` is not given.
        ranks: (xfast) Under an initialized torch.distributed process group, the global
            ranks that write: ``"zero"`` (default), ``"all"`` (each to ``<log_dir>/rank<k>``),
            or a rank or list of ranks. Other ranks' calls return at once, without a file.
            Ignored outside a process group. See ``xfast.distributed``.
        nonfinite_scalars: (xfast) With each default-bins histogram of a device tensor or from
            ``add_histograms``, also log the scalar ``<tag>/nonfinite``: how many NaN/+-Inf
            values were left out.

    Differences from torch:
        * Write errors on the writer thread are raised as OSError (or warned, see
          ``on_error``) at the next ``add_*``, ``flush()`` or ``close()``, saying how many
          events were lost; the writer keeps working. A deleted event file or log directory is
          reported the same way and created again (Linux would swallow the writes silently).
        * Writers still open at interpreter exit are flushed and closed (bounded wait); a
          forked child (fork, DataLoader workers) writes its events to a file of its own.
        * bfloat16 histograms are read as bfloat16 (torch converts to float16, so values above
          65504 become inf and are dropped).
        * Histograms never raise on NaN/Inf: see ``add_histogram``.
        * CUDA tensors given to ``add_histogram``/``add_scalar`` are never synchronized on:
          the work is queued on the device and written once it completes (see
          ``add_histogram``); ``flush()``/``close()`` wait for it.
        * The media methods (``add_image``, ``add_images``, ``add_image_with_boxes``,
          ``add_figure``, ``add_video``, ``add_audio``) return once their data is copied (for a
          CUDA tensor: once a non-blocking copy to pinned memory is queued on the current
          stream); PNG/GIF/WAV encoding runs on the writer's media threads, several at once.
          The event still takes its place in the file at the call, with the step given and
          the wall time of the call: the file holds the events in call order, as torch's
          does, and while an encode runs, the events logged after it wait in the queue (see
          docs/ordering.md). ``flush()`` and ``close()`` wait for pending media first; an
          encoding error on a media thread is raised (RuntimeError) by the next media call,
          ``flush()`` or ``close()``, and that event alone is left out. When more than 32
          items are pending, callers wait.
    """

    # Made on the first device-tensor call (see _device_path); None means nothing pending.
    _device: Optional[device_log.DeviceLog] = None
    # The media worker, made on the first media call (see _queue_media).
    _media: Optional[MediaWorker] = None
    _projector_config: Any = None  # the embeddings add_embedding wrote, for the pbtxt
    _hparams_in_run = False  # add_hparams(run_name=".") was called
    _custom_layout: Mapping[str, Mapping[str, Sequence[Any]]] = {}  # add_custom_scalars' last
    _line_charts: Optional[dict[str, list[str]]] = None  # add_line_chart: title -> series

    def __init__(
        self,
        log_dir: Optional[Union[str, os.PathLike[str]]] = None,
        comment: str = "",
        purge_step: Optional[int] = None,
        max_queue: int = 10,
        flush_secs: int = 120,
        filename_suffix: str = "",
        *,
        queue_capacity: int = DEFAULT_QUEUE_CAPACITY,
        on_full: str = "block",
        on_error: str = "raise",
        logdir: Optional[Union[str, os.PathLike[str]]] = None,
        ranks: RanksSpec = "zero",
        nonfinite_scalars: bool = False,
    ) -> None:
        if not log_dir:
            log_dir = logdir
        if not log_dir:
            current_time = datetime.now().strftime("%b%d_%H-%M-%S")
            log_dir = os.path.join("runs", current_time + "_" + socket.gethostname() + comment)
        self.log_dir = setup_ranks(self, log_dir, ranks)
        self.purge_step = purge_step
        self.max_queue = max_queue
        self.flush_secs = flush_secs
        self.filename_suffix = filename_suffix
        self._queue_capacity = queue_capacity
        self._on_full = on_full
        self._on_error = on_error
        self.file_writer: Optional[FileWriter] = None
        self.all_writers: Optional[dict[str, FileWriter]] = None
        self._closed_file_stats: dict[str, int] = {}
        self._nonfinite_values = 0
        self._histograms_skipped = 0
        self._warned_tags: set[str] = set()
        self._nonfinite_scalars = nonfinite_scalars
        self._get_file_writer()
        self.default_bins = _default_bins()

    @property
    def logdir(self) -> Union[str, os.PathLike[str]]:
        """tensorboardX's name for ``log_dir``."""
        return self.log_dir

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

    def _get_file_writer(self) -> FileWriter:
        """Returns the default FileWriter instance. Recreates it if closed."""
        if self.all_writers is None or self.file_writer is None:
            self.file_writer = self._new_file_writer(str(self.log_dir), self.purge_step)
            self.all_writers = {self.file_writer.get_logdir(): self.file_writer}
            # torch writes the purge events once per SummaryWriter, not on each re-creation.
            self.purge_step = None
        return self.file_writer

    def get_logdir(self) -> Union[str, os.PathLike[str]]:
        """Returns the directory where event files will be written (``log_dir`` as given, e.g.
        a ``pathlib.Path``, as torch does)."""
        return self.log_dir

    def add_scalar(
        self,
        tag: str,
        scalar_value: Any,
        global_step: Optional[int] = None,
        walltime: Optional[float] = None,
        new_style: bool = False,
        double_precision: bool = False,
        *,
        reduce: Optional[str] = None,
    ) -> None:
        """Add scalar data to summary.

        Args:
            tag: Data identifier.
            scalar_value: Value to save (float, int, numpy scalar or one-element array/tensor).
            global_step: Global step value to record.
            walltime: Optional override default walltime (time.time()) with seconds after
                epoch of event.
            new_style: Whether to use new style (tensor field) or old style (simple_value
                field). New style could lead to faster data loading.
            double_precision: With ``new_style``, store the value as float64.
            reduce: (xfast) "mean", "sum", "max" or "min": reduce the value over the
                torch.distributed process group (collective, async: see ``xfast.distributed``).

        Raises:
            TypeError: ``scalar_value`` is not a number; ValueError: it holds several elements.
        """
        if reduce is not None:
            return reduce_scalars(
                self,
                {tag: scalar_value},
                global_step,
                walltime,
                new_style,
                double_precision,
                reduce,
            )
        fw = self.file_writer
        if fw is None:
            fw = self._get_file_writer()
        # A subscript in try costs ~110 fewer instructions per call than dict.get (callgrind).
        try:
            tid = fw._tags[tag]
        except KeyError:
            tid = fw._tag_id(tag)
        # Hot path: a Python float or int goes straight to the engine (the reason for the
        # type() checks instead of isinstance: ~40 ns saved per call on a ~1 us budget).
        style = _STYLE_SIMPLE
        if new_style:
            style = _STYLE_TENSOR_DOUBLE if double_precision else _STYLE_TENSOR_FLOAT
        t = type(scalar_value)
        if t is not float and t is not int:
            if device_log.is_device_tensor(scalar_value):
                self._device_path().add_scalar(fw, tag, scalar_value, global_step, walltime, style)
                return
            scalar_value = to_float(scalar_value)
        if global_step is None:
            step = 0
        elif type(global_step) is int:
            step = global_step
        else:
            step = to_step(global_step)
        d = self._device
        # Keep this tag's order behind its device results.
        if d is not None and d.queue.pending(tag):
            wall = time.time() if walltime is None else walltime
            d.queue.defer(tag, lambda: fw._engine.add_scalar(tid, scalar_value, step, wall, style))
            return
        fw._engine.add_scalar(tid, scalar_value, step, walltime, style)

    def add_scalars(
        self,
        main_tag: str,
        tag_scalar_dict: dict[str, Any],
        global_step: Optional[int] = None,
        walltime: Optional[float] = None,
    ) -> None:
        """Add many scalar data to summary.

        Each entry goes to its own run, ``<log_dir>/<main_tag with '/' as '_'>_<key>``, under the
        tag ``main_tag``, all with one shared walltime (torch's layout).

        Args:
            main_tag: The parent name for the tags.
            tag_scalar_dict: Key-value pair storing the tag and corresponding values.
            global_step: Global step value to record.
            walltime: Optional override default walltime (time.time()) seconds after epoch.
        """
        if not isinstance(tag_scalar_dict, dict):
            raise TypeError("tag_scalar_dict must be a dict")
        if not isinstance(main_tag, str) or not all(isinstance(k, str) for k in tag_scalar_dict):
            raise TypeError("main_tag and the keys of tag_scalar_dict must be str")
        wall = time.time() if walltime is None else walltime
        step = to_step(global_step)
        fw_logdir = self._get_file_writer().get_logdir()
        assert self.all_writers is not None
        for tag, scalar_value in tag_scalar_dict.items():
            fw_tag = fw_logdir + "/" + main_tag.replace("/", "_") + "_" + tag
            fw = self.all_writers.get(fw_tag)
            if fw is None:
                fw = self.all_writers[fw_tag] = self._new_file_writer(fw_tag, None)
            fw._engine.add_scalar(
                fw._tag_id(main_tag), to_float(scalar_value), step, wall, _STYLE_SIMPLE
            )

    def add_scalar_dict(
        self,
        tag_scalar_dict: dict[str, Any],
        global_step: Optional[int] = None,
        walltime: Optional[float] = None,
        *,
        reduce: Optional[str] = None,
        new_style: bool = False,
        double_precision: bool = False,
    ) -> None:
        """(xfast) Add several scalars to this run, each under its own tag, with one walltime.

        Unlike ``add_scalars``, no sub-run is created: ``{"loss": l, "acc": a}`` is the same as
        ``add_scalar("loss", l)`` and ``add_scalar("acc", a)``.

        Args:
            tag_scalar_dict: Tag -> value (number, numpy scalar or one-element tensor).
            global_step: Global step value to record.
            walltime: Optional override default walltime (time.time()).
            reduce: "mean", "sum", "max" or "min": reduce every value over the
                torch.distributed process group in one collective (see ``xfast.distributed``).
            new_style: Write tensor scalars, as ``add_scalar(new_style=True)``.
            double_precision: With ``new_style``, store the values as float64.

        Raises:
            TypeError: ``tag_scalar_dict`` is not a dict, or a value is not a number.
        """
        if not isinstance(tag_scalar_dict, dict):
            raise TypeError(f"tag_scalar_dict must be a dict, got {type(tag_scalar_dict).__name__}")
        if reduce is not None:
            reduce_scalars(
                self, tag_scalar_dict, global_step, walltime, new_style, double_precision, reduce
            )
            return
        wall = time.time() if walltime is None else walltime
        for tag, value in tag_scalar_dict.items():
            self.add_scalar(tag, value, global_step, wall, new_style, double_precision)

    def add_histogram(
        self,
        tag: str,
        values: Any,
        global_step: Optional[int] = None,
        bins: Any = "tensorflow",
        walltime: Optional[float] = None,
        max_bins: Optional[int] = None,
        *,
        sharded: Optional[bool] = None,
    ) -> None:
        """Add histogram to summary.

        Args:
            tag: Data identifier.
            values: Values to build histogram (torch.Tensor of any real dtype, numpy.ndarray,
                or a sequence of numbers).
            global_step: Global step value to record.
            bins: One of {'tensorflow','auto', 'fd', ...}, an int or a sequence of edges. This
                determines how the bins are made; anything but 'tensorflow' goes to
                numpy.histogram, as in torch.
            walltime: Optional override default walltime (time.time()) seconds after epoch.
            max_bins: Group bins so that about this many remain (torch's subsampling).
            sharded: (xfast) ``values`` is this rank's shard of one tensor spread over the
                process group: the histogram of the whole tensor is written, bucket for
                bucket, without gathering it (collective; default bins only). Default: True
                for DTensors (FSDP2 parameters), False otherwise. See ``xfast.distributed``.

        Differences from torch:
            The default bins are counted by a native kernel reading the tensor in place. NaN
            and +-Inf are left out of the buckets, min, max, sum and sum_squares (torch makes
            those NaN/inf), and ``num`` counts the finite values; a warning is issued once per
            tag and the count is kept in ``stats()['nonfinite_values']``. When nothing is left
            to count (all values non-finite or beyond +-9.9e19) the event is skipped with that
            warning instead of raising ``ValueError`` as torch does. bfloat16 is read as
            bfloat16 (torch's float16 conversion turns values above 65504 into inf).

            A CUDA tensor with the default bins is counted on its device with the same edges
            and policy, in stream order and with bounded temporary memory; only the counts and
            moments are copied (non-blocking, to pinned memory) and a background thread writes
            the event once they arrive, so the call never waits for the GPU. Events of a tag
            keep their call order: while a tag has a device result in flight, later events for
            it wait behind it. ``flush()``/``close()`` wait for every pending result.

        Raises:
            ValueError: ``values`` is empty, or ``max_bins`` is not positive.
            TypeError: ``values`` is not numeric, or is a sparse tensor.
        """
        if sharded is None and type(bins) is str and bins == "tensorflow":
            # The common call (a CPU parameter or gradient, default bins) reads the tensor in
            # place: ~2 us a call instead of ~20 for a small tensor (numpy view, device checks).
            # A span means a plain CPU tensor: never one for the device path.
            span = host_tensor_span(values)
            if span is not None and (self._device is None or not self._device.queue.pending(tag)):
                fw = self.file_writer
                if fw is None:
                    fw = self._get_file_writer()
                # As in add_scalar: a subscript in try, and the common None max_bins without
                # a call (the loop over a model's small tensors is mostly this method's Python).
                try:
                    tid = fw._tags[tag]
                except KeyError:
                    tid = fw._tag_id(tag)
                address, n, code = span  # unpacked: a *span call builds a list and a tuple
                info = fw._engine.add_histogram_at(
                    tid, address, n, code, to_step(global_step), walltime,
                    None if max_bins is None else to_max_bins(max_bins),
                )
                if info is not None:
                    nan, pos_inf, neg_inf, written = info
                    self._report_nonfinite(
                        tag, {"nan": nan, "pos_inf": pos_inf, "neg_inf": neg_inf,
                              "written": written}, nan + pos_inf + neg_inf)
                return
        if wants_sharded(values, sharded):
            return add_sharded_histogram(self, tag, values, global_step, bins, walltime, max_bins)
        fw = self.file_writer
        if fw is None:
            fw = self._get_file_writer()
        tid = fw._tag_id(tag)
        max_bins = to_max_bins(max_bins)
        if isinstance(bins, str) and bins == "tensorflow":
            if device_log.is_device_tensor(values):
                self._device_path().add_histogram(fw, tag, values, global_step, walltime, max_bins)
                return
            d = self._device
            if d is not None and d.queue.pending(tag):
                d.add_host_histogram(fw, tag, values, global_step, walltime, max_bins)
                return
        step = to_step(global_step)
        wall = time.time() if walltime is None else walltime
        if isinstance(bins, str) and bins == "tensorflow":
            data, code = histogram_buffer(values)
            if data.size == 0:
                raise ValueError("The input has no element.")
            info = fw._engine.add_histogram(tid, data, code, step, wall, max_bins)
            nonfinite = info["nan"] + info["pos_inf"] + info["neg_inf"]
            if nonfinite or not info["written"]:
                self._report_nonfinite(tag, info, nonfinite)
            return
        self._add_histogram_numpy(fw, tid, tag, values, bins, step, wall, max_bins)

    def _add_histogram_numpy(
        self, fw: FileWriter, tid: int, tag: str, values: Any, bins: Any, step: int,
        wall: float, max_bins: Optional[int],
    ) -> None:
        # Custom bins follow torch exactly: numpy computes edges and counts over float64, the
        # moments include every value, and only the trim runs natively.
        arr = float64_array(values)
        if arr.size == 0:
            raise ValueError("The input has no element.")
        counts, limits = np.histogram(arr, bins=bins)
        written = fw._engine.add_histogram_counts(
            tid, counts.astype(np.float64), limits.astype(np.float64), float(arr.min()),
            float(arr.max()), float(arr.size), float(arr.sum()), float(arr.dot(arr)), step, wall,
            max_bins,
        )
        if not written:
            self._report_nonfinite(tag, {"written": False}, 0)

    def _report_nonfinite(self, tag: str, info: dict[str, Any], nonfinite: int) -> None:
        self._nonfinite_values += nonfinite
        if not info["written"]:
            self._histograms_skipped += 1
        if tag in self._warned_tags:
            return
        self._warned_tags.add(tag)
        what = (
            f"{info.get('nan', 0)} NaN, {info.get('pos_inf', 0)} +inf and "
            f"{info.get('neg_inf', 0)} -inf value(s) were left out"
        )
        if not info["written"]:
            what += "; no value was left to count, so this histogram was not written"
        warnings.warn(
            f"xfast: histogram {tag!r}: {what} (warned once per tag; see stats())",
            RuntimeWarning,
            stacklevel=3,
        )

    def _device_path(self) -> device_log.DeviceLog:
        """This writer's device path, made on first use."""
        d = self._device
        if d is None:
            d = self._device = device_log.DeviceLog(self._report_nonfinite, self._nonfinite_scalars)
        return d

    def add_histograms(
        self,
        named_tensors: Union[Iterable[tuple[str, Any]], Mapping[str, Any], Any],
        global_step: Optional[int] = None,
        grads: bool = False,
        stats: Iterable[str] = (),
        prev: Optional[Union[dict[str, Any], Iterable[tuple[str, Any]]]] = None,
        *,
        param_prefix: str = "parameters/",
        grad_prefix: str = "gradients/",
        walltime: Optional[float] = None,
        max_bins: Optional[int] = None,
    ) -> None:
        """(xfast) Histograms (and optional scalars) of every tensor of a model in one call.

        ``writer.add_histograms(model.named_parameters(), step, grads=True)`` logs each
        parameter under ``parameters/<name>`` and its ``.grad`` (when not None) under
        ``gradients/<name>`` (wandb.watch's layout, grouped as two sections in TensorBoard),
        with the default bins. Empty tensors (ZeRO-3's partitioned placeholders) are skipped,
        not an error as in ``add_histogram``. DTensors (FSDP2 parameters and grads) are
        histogrammed whole: every rank must make the call (it is collective, see
        ``xfast.distributed``), and the local-only stats "zero_fraction" and "update_ratio"
        raise ValueError for them. Device tensors are batched per device (one computation and
        one small non-blocking copy for all of them, written by a background thread; no host
        sync); host tensors run through the native kernel.

        ``named_tensors`` may also be a mapping of names to tensors (``model.state_dict()``,
        ``dict(model.named_parameters())``: the same tags) or the ``nn.Module`` itself (its
        ``named_parameters()``).

        Args:
            named_tensors: (name, tensor) pairs, e.g. ``model.named_parameters()``; a mapping
                of names to tensors, e.g. ``model.state_dict()``; or an ``nn.Module``.
            global_step: Global step value to record.
            grads: Also log each tensor's ``.grad``.
            stats: Scalars to log per tensor as ``<histogram tag>/<stat>``, any of "norm"
                (L2, finite values), "mean", "std" (unbiased, as ``torch.std``), "min", "max",
                "zero_fraction", "nonfinite" (NaN/Inf count) and "update_ratio"
                (||p - prev|| / ||p||, parameters only; needs ``prev``).
            prev: The previous step's parameters, as a dict or (name, tensor) pairs (e.g.
                ``{n: p.detach().clone() for n, p in model.named_parameters()}``).
            param_prefix: Tag prefix of the parameters' histograms.
            grad_prefix: Tag prefix of the gradients' histograms.
            walltime: Optional override default walltime (time.time()) seconds after epoch.
            max_bins: As in ``add_histogram``.

        Raises:
            ValueError: an unknown stat, "update_ratio" without ``prev``, a ``prev`` tensor
                with another number of elements than its parameter, or ``max_bins`` not
                positive.
            TypeError: a pair holds something other than a tensor (or None), or ``prev`` does;
                a tensor or its gradient is sparse.
        """
        histograms.add_histograms(
            self, named_tensors, global_step, grads, stats, prev, param_prefix, grad_prefix,
            walltime, to_max_bins(max_bins),
        )

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
        """Add histogram with raw data.

        Args:
            tag: Data identifier.
            min: Min value.
            max: Max value.
            num: Number of values.
            sum: Sum of all values.
            sum_squares: Sum of squares for all values.
            bucket_limits: Upper value per bucket. The number of elements of it should be the
                same as `bucket_counts`.
            bucket_counts: Number of values per bucket.
            global_step: Global step value to record.
            walltime: Optional override default walltime (time.time()) seconds after epoch.

        Raises:
            ValueError: the two bucket sequences differ in length.
        """
        limits = float64_array(bucket_limits)
        counts = float64_array(bucket_counts)
        if len(limits) != len(counts):
            raise ValueError("len(bucket_limits) != len(bucket_counts), see the document.")
        fw = self.file_writer
        if fw is None:
            fw = self._get_file_writer()
        fw._engine.add_histogram_raw(
            fw._tag_id(tag), to_float(min), to_float(max), to_float(num), to_float(sum),
            to_float(sum_squares), limits, counts, to_step(global_step), walltime,
        )

    def add_text(
        self,
        tag: str,
        text_string: str,
        global_step: Optional[int] = None,
        walltime: Optional[float] = None,
    ) -> None:
        """Add text data to summary (rendered as markdown in TensorBoard's Text dashboard).

        Args:
            tag: Data identifier; the event's tag is ``tag + "/text_summary"``, as in torch.
            text_string: String to save.
            global_step: Global step value to record.
            walltime: Optional override default walltime (time.time()) seconds after epoch.
        """
        if not isinstance(text_string, str):
            raise TypeError(f"text_string must be a str, got {type(text_string).__name__}")
        if not isinstance(tag, str):
            raise TypeError(f"tag must be a str, got {type(tag).__name__}")
        fw = self.file_writer
        if fw is None:
            fw = self._get_file_writer()
        fw._engine.add_text(
            fw._tag_id(tag + "/text_summary"), text_string, to_step(global_step), walltime
        )

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
        self._queue_media(image_job(tag, img_tensor, dataformats), global_step, walltime)

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
        self._queue_media(image_job(tag, img_tensor, dataformats), global_step, walltime)

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
        job = image_with_boxes_job(tag, img_tensor, box_tensor, rescale, dataformats, labels)
        self._queue_media(job, global_step, walltime)

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
        self._queue_media(image_job(tag, array, fmt), global_step, walltime)

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
        self._queue_media(video_job(tag, vid_tensor, fps, dataformats), global_step, walltime)

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
        self._queue_media(audio_job(tag, snd_tensor, sample_rate), global_step, walltime)

    def add_tensor(
        self,
        tag: str,
        tensor: Any,
        global_step: Optional[int] = None,
        walltime: Optional[float] = None,
    ) -> None:
        """Add tensor data to summary (plugin "tensor"; no TensorBoard dashboard shows it).

        Args:
            tag: Data identifier.
            tensor: The torch.Tensor to save (a numpy array is converted).
            global_step: Global step value to record.
            walltime: Optional override default walltime (time.time()) seconds after epoch.

        Raises:
            TypeError: `tensor` is not a tensor; ValueError: it is 2 GiB or larger, or of a dtype
                with no TensorProto encoding.
        """
        self._get_file_writer().add_summary(tensor_proto(tag, tensor), global_step, walltime)

    def add_graph(
        self,
        model: Any,
        input_to_model: Any = None,
        verbose: bool = False,
        use_strict_trace: bool = True,
    ) -> None:
        """Add graph data to summary.

        Traces `model` with ``torch.jit.trace`` (in eval mode) and writes the GraphDef (with
        no step) and a ``tagged_run_metadata`` event tagged "step1", as torch does.

        Args:
            model: Model to draw (a torch.nn.Module or a ScriptFunction).
            input_to_model: A tensor or a tuple of tensors to feed to the model.
            verbose: Whether to print the graph structure in the console.
            use_strict_trace: Whether to pass keyword argument `strict` to `torch.jit.trace`.
                Pass False when you want the tracer to record your mutable container types
                (list, dict).

        Raises:
            RuntimeError: (or what else ``torch.jit.trace`` raises) the model cannot be traced
                on ``input_to_model``, as with torch; nothing is written then.
        """
        self._get_file_writer().add_graph(
            graph.graph(model, input_to_model, verbose, use_strict_trace)
        )

    def add_onnx_graph(self, prototxt: Any = None, *, onnx_model_file: Any = None) -> None:
        """Add the graph of an ONNX model file to the Graphs dashboard.

        Args:
            prototxt: Path to the ``.onnx`` file (or an ``onnx.ModelProto``).
            onnx_model_file: tensorboardX's name for ``prototxt``.

        Raises:
            ImportError: the ``onnx`` package is not installed.
            TypeError: `prototxt` is not a path, a file or an ``onnx.ModelProto``.
            ValueError: the file holds no ONNX model.
            OSError: the file cannot be read.

        Differences from torch:
            Node names are not printed to stdout.
        """
        model = prototxt if prototxt is not None else onnx_model_file
        if model is None:
            raise TypeError("add_onnx_graph() needs the model file (prototxt or onnx_model_file)")
        self._get_file_writer().add_onnx_graph(graph.onnx_graph(model))

    def add_embedding(
        self,
        mat: Any,
        metadata: Optional[Sequence[Any]] = None,
        label_img: Any = None,
        global_step: Optional[int] = None,
        tag: str = "default",
        metadata_header: Optional[Sequence[Any]] = None,
    ) -> None:
        """Add embedding projector data to summary.

        Writes ``<log_dir>/<step:05d>/<tag>/`` tensors.tsv, metadata.tsv and sprite.png, and
        rewrites ``<log_dir>/projector_config.pbtxt`` listing every embedding this writer added
        (no event is written).

        Args:
            mat: A matrix (N, D) whose rows are the feature vectors of the data points.
            metadata: A list of labels, one per data point (each converted to str); with
                `metadata_header`, a list of rows, one value per header column.
            label_img: Images (N, C, H, W), C 1 or 3, values in [0, 1], one per data point.
            global_step: Global step value to record (None means 0).
            tag: Name for the embedding.
            metadata_header: A list of headers for multi-column metadata.

        Raises:
            ValueError: `mat` is not 2-D, or `metadata`/`label_img` do not have one entry per
                data point (torch raises AssertionError).
        """
        self._projector_config = projector.write_embedding(
            self._get_file_writer().get_logdir(), self._projector_config, mat, metadata,
            label_img, global_step, tag, metadata_header,
        )

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
            walltime: Optional override default walltime (time.time()) seconds after epoch.
        """
        self._get_file_writer().add_summary(
            pr_curve.pr_curve(tag, labels, predictions, num_thresholds, weights),
            global_step,
            walltime,
        )

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
        """Add precision recall curve with raw data (six 1-D sequences of one length).

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
            weights: Unused (kept for torch's signature).
            walltime: Optional override default walltime (time.time()) seconds after epoch.
        """
        self._get_file_writer().add_summary(
            pr_curve.pr_curve_raw(
                tag, true_positive_counts, false_positive_counts, true_negative_counts,
                false_negative_counts, precision, recall, num_thresholds, weights,
            ),
            global_step,
            walltime,
        )

    def add_custom_scalars(self, layout: Mapping[str, Mapping[str, Sequence[Any]]]) -> None:
        """Create special chart by collecting charts tags in 'scalars'.

        Writes the Custom Scalars layout (no step). TensorBoard reads one layout per run, so
        call this once per writer; it can be called before or after the training loop. The
        charts of ``add_line_chart`` are added to it.

        Args:
            layout: ``{categoryName: charts}``, where charts is ``{chartName: [kind, tags]}``:
                kind "Multiline" with the tags (regexes) to draw together, or "Margin" with
                exactly 3 tags [value, lower, upper].
        """
        self._custom_layout = layout
        self._write_layout()

    def _write_layout(self) -> None:
        """Writes add_custom_scalars' layout with the line charts added (TensorBoard keeps the
        last layout of a run)."""
        layout = custom_scalars.with_line_charts(self._custom_layout, self._line_charts or {})
        self._get_file_writer().add_summary(custom_scalars.custom_scalars(layout))

    def add_line_chart(
        self,
        labels: Sequence[str],
        values: Sequence[Any],
        title: str,
        walltime: Optional[float] = None,
    ) -> None:
        """(xfast) Add a point to the line chart `title`: one line per series, over the x axis.

        ``add_line_chart(['Epoch', 'Loss', 'Acc'], [epoch, loss, acc], 'Training')`` logs
        ``add_scalar('Training/Loss', loss, epoch)`` and ``add_scalar('Training/Acc', acc,
        epoch)`` (the Scalars dashboard shows each series), and on the first call for a title
        (or one with a new series) adds the chart `title` over every series to the Custom
        Scalars layout, in the category "Line charts", beside any layout given to
        ``add_custom_scalars``. Neither torch nor tensorboardX has this method.

        Args:
            labels: The x axis's name, then one name per series.
            values: The x value (an integer: the step), then one y value per series (number,
                numpy scalar or one-element tensor; a CUDA tensor is not synchronized on, as in
                ``add_scalar``).
            title: The chart's title, and the series' tag prefix.
            walltime: Optional override default walltime (time.time()) seconds after epoch.

        Raises:
            ValueError: fewer than two labels, a repeated series name, `values` not as long as
                `labels`, or a y value with several elements.
            TypeError: `title` or a label is not a str, the x value is not an integer, or a y
                value is not a number.
        """
        series, step, ys = custom_scalars.line_chart_point(labels, values, title)
        charts = self._line_charts
        if charts is None:
            charts = self._line_charts = {}
        known = charts.setdefault(title, [])
        new = [name for name in series if name not in known]
        if new:
            known.extend(new)
            self._write_layout()
        wall = to_walltime(walltime)  # one walltime for the point's series
        for name, y in zip(series, ys):
            self.add_scalar(f"{title}/{name}", y, step, wall)

    def add_custom_scalars_multilinechart(
        self, tags: Sequence[str], category: str = "default", title: str = "untitled"
    ) -> None:
        """Shorthand for creating a multiline chart (see ``add_custom_scalars``).

        Args:
            tags: list of tags that have been used in ``add_scalar()``.
            category: The chart's category.
            title: The chart's title.
        """
        self.add_custom_scalars({category: {title: ["Multiline", tags]}})

    def add_custom_scalars_marginchart(
        self, tags: Sequence[str], category: str = "default", title: str = "untitled"
    ) -> None:
        """Shorthand for creating a margin chart (see ``add_custom_scalars``).

        Args:
            tags: exactly 3 tags used in ``add_scalar()``: value, lower bound, upper bound.
            category: The chart's category.
            title: The chart's title.

        Raises:
            ValueError: `tags` does not hold 3 tags (torch raises AssertionError).
        """
        if isinstance(tags, str) or len(tags) != 3:
            raise ValueError(f"add_custom_scalars_marginchart needs exactly 3 tags, got {tags!r}")
        self.add_custom_scalars({category: {title: ["Margin", tags]}})

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
        """Add meshes or 3D point clouds to TensorBoard (rendered with three.js).

        Args:
            tag: Data identifier.
            vertices: (B, N, 3) 3D coordinates of vertices.
            colors: (B, N, 3) colors for each vertex, in [0, 255].
            faces: (B, F, 3) indices of the vertices of each triangle.
            config_dict: Dictionary with ThreeJS classes names and configuration.
            global_step: Global step value to record.
            walltime: Optional override default walltime (time.time()) seconds after epoch.

        Raises:
            ValueError: a part is not of shape (B, N, 3).
        """
        self._get_file_writer().add_summary(
            mesh.mesh(tag, vertices, colors, faces, config_dict), global_step, walltime
        )

    def add_hparams(
        self,
        hparam_dict: dict[str, Any],
        metric_dict: dict[str, Any],
        hparam_domain_discrete: Optional[dict[str, list[Any]]] = None,
        run_name: Optional[str] = None,
        global_step: Optional[int] = None,
        *,
        name: Optional[str] = None,
    ) -> None:
        """Add a set of hyperparameters to be compared in TensorBoard's HParams dashboard.

        By default, as in torch, each call writes a new run ``<log_dir>/<run_name>`` (default:
        ``str(time.time())``) holding the hyperparameters and one scalar per metric.

        ``run_name="."`` (xfast) writes them into this writer's own run instead, so that the
        hparams sit beside the scalars logged with ``add_scalar`` and no extra run appears.
        In that mode a metric whose value is None is declared (a column of the HParams
        table, filled from the scalars of that tag logged in this run) without writing a value.
        TensorBoard reads one set of hyperparameters per run (both loaders keep the first
        one), so call it once per run in that mode.

        Args:
            hparam_dict: Each key-value pair is the name of the hyperparameter and its value:
                bool, str, float, int, a one-element torch.Tensor, or None (skipped).
            metric_dict: Each key-value pair is the name of a metric and its value, written as
                a scalar. The key should be unique in the run, or the value added by
                ``add_scalar`` will be displayed in the HParams plugin.
            hparam_domain_discrete: A dictionary that contains names of the hyperparameters and
                all discrete values they can hold.
            run_name: Name of the run, under this writer's log_dir; "." for this writer's run.
            global_step: Global step value to record.
            name: tensorboardX's name for ``run_name``.

        Raises:
            TypeError: `hparam_dict` or `metric_dict` is not a dict.
            ValueError: a hyperparameter has an unsupported type.
        """
        summaries, run_name, global_step, in_this_run = hparams.resolve_add_hparams(
            hparam_dict, metric_dict, hparam_domain_discrete, run_name, global_step, name
        )
        if in_this_run:
            if self._hparams_in_run:
                warnings.warn(
                    "xfast: add_hparams(run_name='.') was already called for this run; "
                    "TensorBoard shows the first set of hyperparameters of a run only",
                    RuntimeWarning,
                    stacklevel=2,
                )
            self._hparams_in_run = True
            writer = self._get_file_writer()
        else:
            run_dir = os.path.join(
                self._get_file_writer().get_logdir(), run_name or str(time.time())
            )
            writer = FileWriter(run_dir)
        try:
            for s in summaries:
                writer.add_summary(s, global_step)
        finally:
            if not in_this_run:
                writer.close()

    def _queue_media(self, job: Job, global_step: Optional[int], walltime: Optional[float]) -> None:
        """Takes the event's place in the file now and hands the encode to the media worker,
        which fills that place when it is done (see docs/ordering.md)."""
        wall = to_walltime(walltime)
        step = to_step(global_step)
        file = self._get_file_writer()
        worker = self._media
        if worker is None:
            with _create_lock:  # two threads' first calls must share one worker
                worker = self._media
                if worker is None:
                    worker = self._media = MediaWorker()
        slot = file._live_engine().reserve_summary(step, wall)
        if slot is None:
            return  # a full ring in on_full="drop" mode: counted in stats()["dropped"]
        worker.submit(lambda: job().SerializeToString(), slot, file)

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

    def flush(self) -> None:
        """Flushes the event file to disk.

        Returns once everything logged before the call is written to the OS, for every run
        this writer owns (a barrier, like torch's), cross-rank reductions, device results and
        media encodes in flight included.
        """
        errors = self._drain_background(stop=False)
        for writer in (self.all_writers or {}).values():
            writer.flush()
        if errors:
            raise errors[0]

    def close(self) -> None:
        """Flushes and closes every event file. Logging afterwards opens a new file."""
        errors = self._drain_background(stop=True)
        if self.all_writers is not None:
            writers = list(self.all_writers.values())
            self.file_writer = self.all_writers = None
            for writer in writers:
                try:
                    writer.close()
                except OSError as e:  # close every file before reporting
                    errors.append(e)
                self._closed_file_stats = _merge_stats(self._closed_file_stats, writer.stats())
        if errors:
            raise errors[0]

    def _drain_background(self, *, stop: bool) -> list[BaseException]:
        """Waits for the work queued off the caller's thread (cross-rank reductions, device
        results, media encodes) to reach the engine; returns their errors, first one first."""
        found = [
            drain(self, raising=False),
            self._device.wait(stop) if self._device is not None else None,
            self._drain_media(),
        ]
        return [e for e in found if e is not None]

    def stats(self) -> dict[str, int]:
        """(xfast) Counters over all of this writer's event files: events_written,
        bytes_written, dropped, lost, high_water, capacity, plus nonfinite_values and
        histograms_skipped."""
        if self._device is not None:
            self._device.report_notes()
        out = dict(self._closed_file_stats)
        for writer in (self.all_writers or {}).values():
            out = _merge_stats(out, writer.stats())
        out["nonfinite_values"] = self._nonfinite_values
        out["histograms_skipped"] = self._histograms_skipped
        return out

    def __enter__(self) -> SummaryWriter:
        return self

    def __exit__(self, exc_type: Any, exc_val: Any, exc_tb: Any) -> None:
        self.close()
