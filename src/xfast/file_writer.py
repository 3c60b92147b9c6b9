# SPDX-License-Identifier: Apache-2.0
"""FileWriter: one event file in one directory, backed by a native EventWriter."""

from __future__ import annotations

import atexit
import itertools
import os
import socket
import sys
import time
import weakref
from typing import Any, Optional, Union

from xfast import _core, remote
from xfast.encoding import event_wire
from xfast.encoding.convert import to_step

# Process-wide, like tensorboard's _global_uid: every file this process opens gets a new number,
# so names never clash and sort in creation order within a second.
_uid = itertools.count()
_live_writers: weakref.WeakSet[FileWriter] = weakref.WeakSet()

DEFAULT_QUEUE_CAPACITY = 16384
ON_ERROR_CHOICES = ("raise", "warn")

# How long interpreter exit waits, over all writers still open, for their events to reach the
# OS. Ample for any backlog on a working disk (the writer sustains millions of events per
# second); a hung network file system must not hang the process forever.
EXIT_TIMEOUT_S = 10.0


def _event_file_path(log_dir: str, filename_suffix: str) -> str:
    # %010d truncates the float time, as torch's file names do.
    name = "events.out.tfevents.%010d.%s.%s.%s" % (  # noqa: UP031
        time.time(),
        socket.gethostname(),
        os.getpid(),
        next(_uid),
    )
    return os.path.join(log_dir, name + filename_suffix)


class FileWriter:
    """Writes Event protocol buffers to an event file, like torch.utils.tensorboard's FileWriter.

    The file is created, and its first record written, before the constructor returns. Events
    are queued to a native ring buffer and written by a background thread, reaching the OS
    within about 50 ms; ``flush()`` waits until everything queued before it is written.

    Args:
        log_dir: Directory where the event file is written (created if missing).
        max_queue: Accepted for compatibility. xfast's queue is a ring of ``queue_capacity``
            records and is written continuously, so it needs no small queue to bound latency.
        flush_secs: Accepted for compatibility; data reaches the OS within ~50 ms regardless.
        filename_suffix: Appended to the event file's name.
        purge_step: When set, writes the file_version + SessionLog START pair torch writes for
            ``purge_step`` right after the first record (once per FileWriter).
        queue_capacity: Records the ring holds before ``on_full`` applies (xfast only).
        on_full: ``"block"`` (default) waits for room, losing nothing; ``"drop"`` never waits
            and counts dropped records in ``stats()`` (xfast only).
        on_error: What a write error of the background thread (disk full, EIO, deleted file)
            does at the next ``add_*``, ``flush()`` or ``close()``: ``"raise"`` (default) raises
            OSError saying how many events were lost; ``"warn"`` issues a RuntimeWarning with
            the same message instead, so that training goes on (xfast only). Either way the
            writer keeps going, and errors creating the file always raise.

    ``log_dir`` may be an fsspec URL (``s3://bucket/run``, ``gs://...``): the file is then
    spooled locally and uploaded in segments every ``flush_secs`` and on ``flush()``/``close()``
    (see ``xfast.remote``; needs fsspec and the store's package).

    Lifetime: every writer still open at interpreter exit (normal end, uncaught exception,
    KeyboardInterrupt) is flushed and closed by an ``atexit`` hook that waits at most
    ``EXIT_TIMEOUT_S`` seconds in all. ``os._exit()`` and fatal signals skip it and lose only
    the events not yet handed to the OS (at most ~50 ms worth, or what ``flush()`` had not
    covered). A forked child never writes to its parent's file: its first event opens a file of
    its own, which the child should ``close()`` (multiprocessing children are closed for it).
    A deleted event file or log directory is reported as lost events and created again.
    """

    def __init__(
        self,
        log_dir: Union[str, os.PathLike[str]],
        max_queue: int = 10,
        flush_secs: int = 120,
        filename_suffix: str = "",
        *,
        purge_step: Optional[int] = None,
        queue_capacity: int = DEFAULT_QUEUE_CAPACITY,
        on_full: str = "block",
        on_error: str = "raise",
    ) -> None:
        if on_full not in ("block", "drop"):
            raise ValueError(f"on_full must be 'block' or 'drop', got {on_full!r}")
        if on_error not in ON_ERROR_CHOICES:
            raise ValueError(f"on_error must be 'raise' or 'warn', got {on_error!r}")
        if not isinstance(filename_suffix, str):
            raise TypeError("filename_suffix must be a str")
        if int(queue_capacity) < 2:
            raise ValueError("queue_capacity must be at least 2")
        self._log_dir = str(log_dir)
        self.max_queue = max_queue
        self.flush_secs = flush_secs
        self.filename_suffix = filename_suffix
        self._queue_capacity = int(queue_capacity)
        self._drop = on_full == "drop"
        self._warn_on_error = on_error == "warn"
        self._tags: dict[str, int] = {}
        self._engine: Any = None
        self._spool: Optional[remote.Spool] = None
        self._closed_stats: dict[str, int] = {}
        self._open(None if purge_step is None else int(purge_step))
        _live_writers.add(self)

    def _open(self, purge_step: Optional[int]) -> None:
        path = _event_file_path(self._log_dir, self.filename_suffix)
        spool = None
        if remote.is_remote(self._log_dir):
            spool = remote.Spool(
                self._log_dir, os.path.basename(path), self.filename_suffix, self.flush_secs
            )
            path = spool.local_path
        else:
            os.makedirs(self._log_dir, exist_ok=True)
        self._engine = _core.EventWriter(
            path,
            time.time(),
            purge_step,
            self._queue_capacity,
            self._drop,
            warn_on_error=self._warn_on_error,
        )
        if spool is not None:
            spool.start(self._engine)
        self._spool = spool
        self._tags = {}
        _close_in_multiprocessing_child()

    def get_logdir(self) -> str:
        """Returns the directory where the event file is written."""
        return self._log_dir

    @property
    def path(self) -> str:
        """The path of the event file currently written (the local spool for a URL log_dir)."""
        return str(self._live_engine().path)

    def _live_engine(self) -> Any:
        engine = self._engine
        if engine is None:
            raise OSError("Writer is closed")
        return engine

    def _tag_id(self, tag: str) -> int:
        """The engine's id for `tag` (hot path: one dict lookup once a tag is known)."""
        tid = self._tags.get(tag)
        if tid is None:
            if not isinstance(tag, str):
                raise TypeError(f"tag must be a str, got {type(tag).__name__}")
            tid = self._tags[tag] = self._live_engine().intern(tag)
        return tid

    def add_event(
        self, event: Any, step: Optional[int] = None, walltime: Optional[float] = None
    ) -> None:
        """Adds an event (a tensorboard ``Event`` protobuf message) to the event file.

        Args:
            event: An ``Event`` message (tensorboard.compat.proto or tensorboardX.proto); its
                wall_time and (when given) step are set here, as torch does.
            step: Optional global step value for training process to record with the event.
            walltime: Optional walltime to override the default (now) walltime.
        """
        event.wall_time = time.time() if walltime is None else walltime
        if step is not None:
            event.step = int(step)
        self._live_engine().add_event(event.SerializeToString())

    def add_summary(
        self, summary: Any, global_step: Optional[int] = None, walltime: Optional[float] = None
    ) -> None:
        """Adds a ``Summary`` protobuf message (or its serialized bytes) to the event file.

        Args:
            summary: A ``Summary`` message, e.g. from ``torch.utils.tensorboard.summary``.
            global_step: Optional global step value for training process to record with the summary.
            walltime: Optional walltime to override the default (now) walltime.
        """
        data = summary if isinstance(summary, bytes) else summary.SerializeToString()
        self._live_engine().add_summary(data, to_step(global_step), walltime)

    def add_graph(self, graph_profile: Any, walltime: Optional[float] = None) -> None:
        """Adds a ``(GraphDef, RunMetadata)`` pair, as torch's ``graph()`` returns it.

        Writes ``Event.graph_def`` and then ``Event.tagged_run_metadata`` with tag "step1".
        """
        graph, run_metadata = graph_profile
        wall = time.time() if walltime is None else walltime
        engine = self._live_engine()
        engine.add_event(
            event_wire.event_bytes(wall, 0, event_wire.GRAPH_DEF, graph.SerializeToString())
        )
        trm = event_wire.tagged_run_metadata("step1", run_metadata.SerializeToString())
        engine.add_event(event_wire.event_bytes(wall, 0, event_wire.TAGGED_RUN_METADATA, trm))

    def add_onnx_graph(self, graph: Any, walltime: Optional[float] = None) -> None:
        """Adds a ``GraphDef`` (as built from an ONNX model) as ``Event.graph_def``."""
        wall = time.time() if walltime is None else walltime
        data = graph if isinstance(graph, bytes) else graph.SerializeToString()
        self._live_engine().add_event(event_wire.event_bytes(wall, 0, event_wire.GRAPH_DEF, data))

    def flush(self, fsync: bool = False) -> None:
        """Returns once every event added before the call is written to the OS.

        Args:
            fsync: Also fsync the file (xfast only; torch never does).

        Raises:
            OSError: the writer thread failed to write since the last call; the message says
                how many events were lost. The writer keeps going. For a URL log_dir, also
                when the upload failed (it is retried later).
        """
        engine = self._live_engine()
        if isinstance(engine, _ReopenOnUse):
            return  # a forked child that has not logged: nothing of its own to flush
        engine.flush(fsync)
        if self._spool is not None:
            self._spool.ship()

    def close(self) -> None:
        """Flushes the event file to disk and closes it. A second call does nothing."""
        engine = self._engine
        if engine is None:
            return
        self._engine = None
        if isinstance(engine, _ReopenOnUse):
            return  # a forked child that never logged: it has no file of its own
        spool, self._spool = self._spool, None
        try:
            engine.close()
        finally:
            # Read after close(), which drains the ring: the totals include what was queued.
            self._closed_stats = _merge_stats(self._closed_stats, engine.stats())
            if spool is not None:
                spool.close()

    def reopen(self) -> None:
        """Opens a new event file in the same directory after ``close()``.

        torch's ``reopen()`` raises AttributeError and tensorboardX's breaks the writer; this
        one works. Does nothing while the writer is open.
        """
        if self._engine is None:
            self._open(None)

    def stats(self) -> dict[str, int]:
        """Counters of this writer's files: events_written, bytes_written, dropped, lost,
        high_water (largest backlog seen, in records) and capacity (xfast only)."""
        if self._engine is None or isinstance(self._engine, _ReopenOnUse):
            return dict(self._closed_stats)
        return _merge_stats(self._closed_stats, self._engine.stats())

    def _close_at_exit(self, timeout_s: float) -> None:
        engine = self._engine
        if engine is None or isinstance(engine, _ReopenOnUse):
            return
        # The engine stays in place, closed: a daemon thread still logging now gets
        # OSError("Writer is closed") rather than an AttributeError. A remote log_dir's spool
        # is uploaded after this by xfast.remote's own exit hook (registered earlier, so run
        # later).
        engine.close(timeout_s)

    def _after_fork_in_child(self) -> None:
        engine = self._engine
        if engine is None:
            return
        # The writer thread does not exist in the child, and the file belongs to the parent:
        # forget both and open a file of the child's own on its first event.
        engine.abandon_after_fork()
        self._engine = _ReopenOnUse(self)
        self._tags = {}  # ids of the parent's engine mean nothing to the child's
        if self._spool is not None:
            self._spool.abandon_after_fork()
            self._spool = None


class _ReopenOnUse:
    """Stands in for a forked child's engine: the first use opens the child's own file."""

    def __init__(self, owner: FileWriter) -> None:
        self._owner = owner

    def __getattr__(self, name: str) -> Any:
        owner = self._owner
        owner._open(None)
        return getattr(owner._engine, name)


def _merge_stats(a: dict[str, int], b: dict[str, int]) -> dict[str, int]:
    """Counters of two sets of files together: high_water and capacity are maxima, the rest sums."""
    out = dict(a)
    for k, v in b.items():
        if k in ("high_water", "capacity"):
            out[k] = max(out.get(k, 0), v)
        else:
            out[k] = out.get(k, 0) + v
    return out


def close_all_writers(timeout_s: Optional[float] = None) -> None:
    """Flushes and closes every open writer, waiting at most ``timeout_s`` seconds in all
    (default: ``EXIT_TIMEOUT_S``, read at call time).

    Registered with ``atexit``. Errors are printed to stderr, not raised: at exit there is no
    caller left to handle them.
    """
    deadline = time.monotonic() + (EXIT_TIMEOUT_S if timeout_s is None else timeout_s)
    for w in list(_live_writers):
        try:
            w._close_at_exit(max(0.0, deadline - time.monotonic()))
        except Exception as e:  # keep closing the others; report each
            print(f"xfast: closing {w.get_logdir()!r} at exit: {e}", file=sys.stderr)


_mp_finalizer_registered = False


def _close_in_multiprocessing_child() -> None:
    """Forked multiprocessing children (DataLoader workers included) leave through os._exit(),
    which skips atexit; their exit does run multiprocessing's finalizers, so close from there.
    Called whenever a file is opened: cheap, and a child's finalizers are reset at its start."""
    global _mp_finalizer_registered
    mp = sys.modules.get("multiprocessing")
    if _mp_finalizer_registered or mp is None or mp.parent_process() is None:
        return
    _mp_finalizer_registered = True
    mp.util.Finalize(None, close_all_writers, exitpriority=0)


# atexit runs hooks last-registered first. xfast/__init__ imports this module before writer.py's
# helpers (distributed.reduce, media.worker), so their exit drains of background work run
# before this close; remote's spool upload, registered by the import above, runs after it.
atexit.register(close_all_writers)


def _after_fork_in_child() -> None:
    global _mp_finalizer_registered
    _mp_finalizer_registered = False
    _core.after_fork_in_child()
    for w in list(_live_writers):
        w._after_fork_in_child()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_after_fork_in_child)
