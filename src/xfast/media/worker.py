# SPDX-License-Identifier: Apache-2.0
"""MediaWorker: a few threads per SummaryWriter that encode images, videos and audio in
parallel and settle each event's reserved place in its file, so the training thread only copies
data and the file keeps the order of the calls."""

from __future__ import annotations

import atexit
import os
import queue
import sys
import threading
import weakref
from typing import Any, Callable, Optional, Protocol

# Jobs a worker holds before callers block: bounds the memory held by pending copies
# (32 float 3x256x256 images are 25 MB) while absorbing bursts of a few dozen calls.
QUEUE_CAPACITY = 32
# Encoder threads per writer. PNG filtering (numpy) and deflate (zlib) release the GIL for most
# of their time, so a few threads encode that many images at once; more would only compete
# with the training loop for the cores.
THREADS = max(1, min(4, (os.cpu_count() or 1)))
# An idle worker thread exits after this long and is restarted by the next job, so a writer
# that is dropped without close() leaves no thread behind.
_IDLE_EXIT_S = 5.0

_live_workers: weakref.WeakSet[MediaWorker] = weakref.WeakSet()


class Slot(Protocol):
    """Where a job's result goes: an event's reserved place (``_core.PendingSummary``)."""

    def fill(self, summary: bytes, /) -> None: ...

    def fail(self) -> None: ...


class MediaWorker:
    """Runs jobs on up to ``threads`` background threads, several at once.

    A job is ``(build, slot)``: ``build()`` returns serialized Summary bytes, ``slot.fill``
    takes them (or ``slot.fail()`` runs when ``build`` raises). The order events reach the file
    is the order their slots were reserved, whichever job finishes first. Errors are kept and
    raised by the next ``submit``/``drain``.
    """

    def __init__(self, capacity: int = QUEUE_CAPACITY, threads: int = THREADS) -> None:
        self._capacity = capacity
        self._max_threads = threads
        self._reset()
        _live_workers.add(self)

    def _reset(self) -> None:
        self._queue: queue.Queue[tuple[Callable[[], bytes], Slot]] = queue.Queue(self._capacity)
        self._threads = 0
        # Held while starting a thread and enqueueing, and by a thread when it decides to exit
        # on an empty queue: a job is never left in a queue nobody reads.
        self._start_lock = threading.Lock()
        self._error_lock = threading.Lock()
        self._first_error: Optional[BaseException] = None
        self._failed = 0
        # Event files this worker wrote to, flushed at interpreter exit after the last job.
        self._files: weakref.WeakSet[Any] = weakref.WeakSet()

    def submit(self, build: Callable[[], bytes], slot: Slot, file: Any) -> None:
        """Queues a job, blocking while the queue is full, then raises the error of any earlier
        job that failed (the new job stays queued: nothing more is lost). `file` is the
        FileWriter whose event `slot` holds a place in (flushed at interpreter exit)."""
        self._files.add(file)
        with self._start_lock:
            if self._threads < self._max_threads:
                self._threads += 1
                threading.Thread(target=self._run, name="xfast-media", daemon=True).start()
            self._queue.put((build, slot))
        self.raise_errors()

    def _run(self) -> None:
        while True:
            try:
                build, slot = self._queue.get(timeout=_IDLE_EXIT_S)
            except queue.Empty:
                with self._start_lock:
                    if self._queue.empty():
                        self._threads -= 1
                        return
                continue
            try:
                slot.fill(build())
            except Exception as e:  # kept for the caller: a worker has nowhere to raise
                slot.fail()  # the writer thread must not wait for it
                with self._error_lock:
                    self._failed += 1
                    if self._first_error is None:
                        self._first_error = e
            finally:
                # Drop the job before waiting for the next one: it holds the data copy and the
                # event file, which an idle thread must not keep alive.
                del build, slot
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
        # The threads are gone in the child and the queued copies are the parent's to write
        # (their slots, dropped with the old queue, fail without touching the parent's locks).
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
