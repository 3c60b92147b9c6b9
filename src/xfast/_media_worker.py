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
from typing import Callable, Optional

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

    def submit(self, build: Callable[[], bytes], sink: Callable[[bytes], None]) -> None:
        """Queues a job, blocking while the queue is full, then raises the error of any earlier
        job that failed (the new job stays queued: nothing more is lost)."""
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
            except Exception as e:  # noqa: BLE001 - kept for the caller: a worker has nowhere to raise
                with self._error_lock:
                    self._failed += 1
                    if self._first_error is None:
                        self._first_error = e
            finally:
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
    for worker in list(_live_workers):
        try:
            worker.drain()
        except RuntimeError as e:  # nobody is left to raise to: say so rather than lose it
            sys.stderr.write(f"{e}\n")


atexit.register(_drain_all_at_exit)
def _after_fork_in_child() -> None:
    for worker in list(_live_workers):
        worker._after_fork_in_child()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_after_fork_in_child)
