# SPDX-License-Identifier: Apache-2.0
"""MediaWorker: one FIFO thread per SummaryWriter that encodes images, videos and audio and
hands the serialized Summary to the event file, so the training thread only copies data."""

from __future__ import annotations

import atexit
import os
import queue
import sys
import threading
import weakref
from typing import Any, Callable, Optional

# Jobs a worker holds before callers block: bounds the memory held by pending copies
# (32 float 3x256x256 images are 25 MB) while absorbing bursts of a few dozen calls.
QUEUE_CAPACITY = 32
# An idle worker thread exits after this long and is restarted by the next job, so a writer
# that is dropped without close() leaves no thread behind.
_IDLE_EXIT_S = 5.0

_live_workers: weakref.WeakSet[MediaWorker] = weakref.WeakSet()


class MediaWorker:
    """Runs jobs in submission order on one background thread.

    A job is ``(build, sink)``: ``build()`` returns serialized Summary bytes, ``sink(bytes)``
    writes them. Errors are kept and raised by the next ``submit``/``drain``.
    """

    def __init__(self, capacity: int = QUEUE_CAPACITY) -> None:
        self._capacity = capacity
        self._reset()
        _live_workers.add(self)

    def _reset(self) -> None:
        self._queue: queue.Queue[tuple[Callable[[], bytes], Callable[[bytes], None]]] = queue.Queue(
            self._capacity
        )
        self._thread: Optional[threading.Thread] = None
        # Held while starting the thread and enqueueing, and by the thread when it decides to
        # exit on an empty queue: a job is never left in a queue nobody reads.
        self._start_lock = threading.Lock()
        self._error_lock = threading.Lock()
        self._first_error: Optional[BaseException] = None
        self._failed = 0
        # Event files this worker wrote to, flushed at interpreter exit after the last job.
        self._files: weakref.WeakSet[Any] = weakref.WeakSet()

    def submit(self, build: Callable[[], bytes], sink: Callable[[bytes], None], file: Any) -> None:
        """Queues a job, blocking while the queue is full, then raises the error of any earlier
        job that failed (the new job stays queued: nothing more is lost). `file` is the
        FileWriter `sink` writes to (flushed at interpreter exit)."""
        self._files.add(file)
        with self._start_lock:
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name="xfast-media", daemon=True)
                self._thread.start()
            self._queue.put((build, sink))
        self.raise_errors()

    def _run(self) -> None:
        while True:
            try:
                build, sink = self._queue.get(timeout=_IDLE_EXIT_S)
            except queue.Empty:
                with self._start_lock:
                    if self._queue.empty():
                        self._thread = None
                        return
                continue
            try:
                sink(build())
            except Exception as e:  # kept for the caller: a worker has nowhere to raise
                with self._error_lock:
                    self._failed += 1
                    if self._first_error is None:
                        self._first_error = e
            finally:
                # Drop the job before waiting for the next one: it holds the data copy and the
                # event file, which an idle thread must not keep alive.
                del build, sink
                self._queue.task_done()

    def drain(self) -> None:
        """Returns once every job submitted so far has run; then raises any pending error."""
        self._queue.join()
        self.raise_errors()

    def raise_errors(self) -> None:
        """Raises (once) RuntimeError for jobs that failed since the last report."""
        with self._error_lock:
            error, failed = self._first_error, self._failed
            self._first_error, self._failed = None, 0
        if error is not None:
            raise RuntimeError(
                f"xfast: {failed} image/video/audio event(s) could not be written; "
                f"first error: {type(error).__name__}: {error}"
            ) from error

    def _after_fork_in_child(self) -> None:
        # The thread is gone in the child and the queued copies are the parent's to write.
        self._reset()


def _drain_all_at_exit() -> None:
    # The last jobs only reach the native writer's queue: flush their files too, or the
    # process could end before its writer thread wrote them. Nobody is left to raise to, so
    # errors are printed rather than lost.
    for worker in list(_live_workers):
        try:
            worker.drain()
        except RuntimeError as e:
            sys.stderr.write(f"{e}\n")
        for file in list(worker._files):
            try:
                if file._engine is not None:
                    file.flush()
            except OSError as e:
                sys.stderr.write(f"xfast: {e}\n")


def _after_fork_in_child() -> None:
    for worker in list(_live_workers):
        worker._after_fork_in_child()


atexit.register(_drain_all_at_exit)
if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_after_fork_in_child)
