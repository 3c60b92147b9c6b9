# SPDX-License-Identifier: Apache-2.0
"""tensorboardX's FileWriter (and its DummyFileWriter) over xfast's FileWriter."""

from __future__ import annotations

import contextlib
import os
import time
from collections.abc import Iterator
from typing import Any, Optional, Union

from xfast import file_writer as base
from xfast.encoding import event_wire


class _EventFileView:
    """What tensorboardX scripts reach through ``file_writer.event_writer``: the event file's
    name as ``event_writer._ev_writer._file_name``, and the writer's own flush/close."""

    def __init__(self, owner: FileWriter) -> None:
        self._owner = owner

    @property
    def _ev_writer(self) -> _EventFileView:
        return self

    @property
    def _file_name(self) -> str:
        return self._owner._file_name

    def get_logdir(self) -> str:
        """Returns the directory where the event file is written."""
        return self._owner.get_logdir()

    def add_event(self, event: Any) -> None:
        """Adds an ``Event`` message as it is (its step and wall time are not touched)."""
        self._owner._live_engine().add_event(event.SerializeToString())

    def flush(self) -> None:
        """Returns once every event added before the call is written to the OS."""
        self._owner.flush()

    def close(self) -> None:
        """Flushes and closes the event file."""
        self._owner.close()


def _check_metadata(
    current: dict[str, Any], global_step: Optional[int], walltime: Optional[float]
) -> None:
    if current:
        raise RuntimeError("use_metadata: default metadata is already set (blocks do not nest)")
    if global_step is None and walltime is None:
        raise ValueError("use_metadata needs global_step or walltime (or both)")


class FileWriter(base.FileWriter):
    """Writes protocol buffers to event files, with tensorboardX 2.6.5's FileWriter interface.

    xfast's FileWriter (native ring buffer and writer thread, events reach the OS within ~50 ms)
    under tensorboardX's names: ``logdir``, ``use_metadata``, ``add_openvino_graph``,
    ``event_writer._ev_writer._file_name``; ``add_graph`` tags its run metadata "profiler".

    Args:
        logdir: Directory where the event file is written (created if missing).
        max_queue: Accepted for compatibility (xfast's ring holds ``queue_capacity`` records).
        flush_secs: Accepted for compatibility: events reach the OS within ~50 ms anyway.
        filename_suffix: Suffix added to the event file's name.
        purge_step: (xfast) Write tensorboardX's purge events for this step first.
        queue_capacity: (xfast) Records the ring buffer holds.
        on_full: (xfast) "block" (default, lose nothing) or "drop".
        on_error: (xfast) "raise" (default) or "warn" for write errors of the writer thread.
    """

    def __init__(
        self,
        logdir: Union[str, os.PathLike[str]],
        max_queue: int = 10,
        flush_secs: int = 120,
        filename_suffix: str = "",
        *,
        purge_step: Optional[int] = None,
        queue_capacity: int = base.DEFAULT_QUEUE_CAPACITY,
        on_full: str = "block",
        on_error: str = "raise",
    ) -> None:
        self._default_metadata: dict[str, Any] = {}
        # add_scalar's tag -> engine id of the cleaned tag (see SummaryWriter.add_scalar).
        self._clean_ids: dict[str, int] = {}
        super().__init__(
            logdir,
            max_queue,
            flush_secs,
            filename_suffix,
            purge_step=purge_step,
            queue_capacity=queue_capacity,
            on_full=on_full,
            on_error=on_error,
        )
        self.event_writer = _EventFileView(self)

    def _open(self, purge_step: Optional[int]) -> None:
        super()._open(purge_step)
        self._clean_ids = {}  # ids of a previous engine mean nothing to the new one
        # Kept after close(), as tensorboardX keeps it: scripts read the file once done.
        self._file_name = str(self._engine.path)

    def _after_fork_in_child(self) -> None:
        super()._after_fork_in_child()
        self._clean_ids = {}

    def _resolve(
        self, step: Optional[int], walltime: Optional[float]
    ) -> tuple[Optional[int], Optional[float]]:
        """The step and wall time to write: those given, else ``use_metadata``'s defaults."""
        meta = self._default_metadata
        if meta:
            if step is None:
                step = meta["global_step"]
            if walltime is None:
                walltime = meta["walltime"]
        return step, walltime

    def add_event(
        self, event: Any, step: Optional[int] = None, walltime: Optional[float] = None
    ) -> None:
        """Adds an ``Event`` message to the event file.

        Args:
            event: An ``Event`` protocol buffer (tensorboardX's or tensorboard's).
            step: Optional global step to record with the event (default: ``use_metadata``'s).
            walltime: Optional wall time to override the default (``use_metadata``'s, or now).
        """
        step, walltime = self._resolve(step, walltime)
        super().add_event(event, step, walltime)

    def add_summary(
        self, summary: Any, global_step: Optional[int] = None, walltime: Optional[float] = None
    ) -> None:
        """Adds a ``Summary`` message (or its serialized bytes) to the event file.

        Args:
            summary: A ``Summary`` protocol buffer.
            global_step: Optional global step (default: ``use_metadata``'s, else none).
            walltime: Optional wall time (default: ``use_metadata``'s, else now).
        """
        global_step, walltime = self._resolve(global_step, walltime)
        super().add_summary(summary, global_step, walltime)

    def add_graph(self, graph_profile: Any, walltime: Optional[float] = None) -> None:
        """Adds a ``(GraphDef, RunMetadata)`` pair: ``Event.graph_def``, then the run metadata
        as ``Event.tagged_run_metadata`` tagged "profiler" (tensorboardX's tag).

        Args:
            graph_profile: A ``(GraphDef, RunMetadata)`` pair.
            walltime: Optional wall time (default: ``use_metadata``'s, else now).
        """
        graph, run_metadata = graph_profile
        _, walltime = self._resolve(None, walltime)
        wall = time.time() if walltime is None else walltime
        engine = self._live_engine()
        engine.add_event(
            event_wire.event_bytes(wall, 0, event_wire.GRAPH_DEF, graph.SerializeToString())
        )
        trm = event_wire.tagged_run_metadata("profiler", run_metadata.SerializeToString())
        engine.add_event(event_wire.event_bytes(wall, 0, event_wire.TAGGED_RUN_METADATA, trm))

    def add_onnx_graph(self, graph: Any, walltime: Optional[float] = None) -> None:
        """Adds a ``GraphDef`` as ``Event.graph_def``.

        Args:
            graph: A ``GraphDef`` protocol buffer (or its bytes).
            walltime: Optional wall time (default: ``use_metadata``'s, else now).
        """
        super().add_onnx_graph(graph, self._resolve(None, walltime)[1])

    def add_openvino_graph(self, graph: Any, walltime: Optional[float] = None) -> None:
        """Adds a ``GraphDef`` (as built from an OpenVINO IR file) as ``Event.graph_def``.

        Args:
            graph: A ``GraphDef`` protocol buffer (or its bytes).
            walltime: Optional wall time (default: ``use_metadata``'s, else now).
        """
        super().add_onnx_graph(graph, self._resolve(None, walltime)[1])

    @contextlib.contextmanager
    def use_metadata(
        self, *, global_step: Optional[int] = None, walltime: Optional[float] = None
    ) -> Iterator[FileWriter]:
        """Context manager giving the events added inside it a default step and wall time.

        Args:
            global_step: Step for events added without one.
            walltime: Wall time for events added without one (default: now, at each call).

        Raises:
            ValueError: neither is given (tensorboardX: AssertionError).
            RuntimeError: a ``use_metadata`` block of this writer is already open
                (tensorboardX: AssertionError).
        """
        _check_metadata(self._default_metadata, global_step, walltime)
        self._default_metadata = {"global_step": global_step, "walltime": walltime}
        try:
            yield self
        finally:
            self._default_metadata = {}


class DummyFileWriter:
    """The file writer of a ``SummaryWriter(write_to_disk=False)``: writes nothing, creates no
    directory; every method returns at once.

    Args:
        logdir: The directory a real writer would have written to.
    """

    def __init__(self, logdir: Union[str, os.PathLike[str]]) -> None:
        self._logdir = logdir
        self._default_metadata: dict[str, Any] = {}

    def get_logdir(self) -> Union[str, os.PathLike[str]]:
        """Returns the directory a real writer would have written to."""
        return self._logdir

    def add_event(
        self, event: Any, step: Optional[int] = None, walltime: Optional[float] = None
    ) -> None:
        """Does nothing."""

    def add_summary(
        self, summary: Any, global_step: Optional[int] = None, walltime: Optional[float] = None
    ) -> None:
        """Does nothing."""

    def add_graph(self, graph_profile: Any, walltime: Optional[float] = None) -> None:
        """Does nothing."""

    def add_onnx_graph(self, graph: Any, walltime: Optional[float] = None) -> None:
        """Does nothing."""

    def add_openvino_graph(self, graph: Any, walltime: Optional[float] = None) -> None:
        """Does nothing."""

    def flush(self) -> None:
        """Does nothing."""

    def close(self) -> None:
        """Does nothing."""

    def reopen(self) -> None:
        """Does nothing."""

    def stats(self) -> dict[str, int]:
        """(xfast) No counters: nothing is written."""
        return {}

    @contextlib.contextmanager
    def use_metadata(
        self, *, global_step: Optional[int] = None, walltime: Optional[float] = None
    ) -> Iterator[DummyFileWriter]:
        """Checks its arguments as ``FileWriter.use_metadata`` does; sets nothing.

        Args:
            global_step: Default step (unused: nothing is written).
            walltime: Default wall time (unused: nothing is written).
        """
        _check_metadata(self._default_metadata, global_step, walltime)
        yield self
