# SPDX-License-Identifier: Apache-2.0
"""CompletionQueue: waits for device results off the training thread and writes them in order."""

from __future__ import annotations

import queue
import threading
from typing import Any, Callable, Optional


class CompletionQueue:
    """A FIFO of (event, write) items, drained by one daemon thread per SummaryWriter.

    The caller enqueues a device computation's completion event together with a closure that
    writes the result once the event has fired; the thread calls ``event.synchronize()`` (which
    releases the GIL) and then the closure, strictly in submission order.

    Ordering rule: while a tag has items in the queue it is *pending*, and every later event for
    that tag (CPU ones included) is routed through the queue as well (``defer``), so events of
    one tag are written in call order even when a device result completes late. Tags with
    nothing pending are written directly, as before. flush()/close() call ``wait()`` first.

    Threads: submit/defer/pending/wait from any thread; the closures run on the queue thread
    and must only use thread-safe engine calls (the native EventWriter is multi-producer).
    """

    def __init__(self) -> None:
        self._items: queue.Queue[Optional[tuple[Any, Callable[[], None], tuple[str, ...]]]] = (
            queue.Queue()
        )
        self._lock = threading.Lock()
        self._pending: dict[str, int] = {}
        self._thread: Optional[threading.Thread] = None
        self._errors: list[BaseException] = []

    def pending(self, tag: str) -> bool:
        """True while an earlier event for ``tag`` is still queued (lock-free: a dict lookup)."""
        return tag in self._pending

    def submit(self, event: Any, write: Callable[[], None], tags: tuple[str, ...]) -> None:
        """Queue ``write`` to run after ``event.synchronize()`` (event may be None)."""
        with self._lock:
            for t in tags:
                self._pending[t] = self._pending.get(t, 0) + 1
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(
                    target=self._run, name="xfast-completion", daemon=True
                )
                self._thread.start()
        self._items.put((event, write, tags))

    def defer(self, tag: str, write: Callable[[], None]) -> None:
        """Queue a host-side write behind the tag's pending device results."""
        self.submit(None, write, (tag,))

    def wait(self) -> None:
        """Blocks until every queued item has been written; re-raises the first error seen."""
        self._items.join()
        with self._lock:
            errors, self._errors = self._errors, []
        if errors:
            raise errors[0]

    def stop(self) -> None:
        """Waits for the queue to drain and ends its thread (a later submit starts a new one)."""
        with self._lock:
            thread, self._thread = self._thread, None
        if thread is not None and thread.is_alive():
            self._items.put(None)
            thread.join()

    def _run(self) -> None:
        while True:
            item = self._items.get()
            if item is None:
                self._items.task_done()
                return
            event, write, tags = item
            try:
                if event is not None:
                    event.synchronize()
                write()
            except BaseException as e:  # kept for the next wait(): nothing crosses threads silently
                with self._lock:
                    self._errors.append(e)
            finally:
                with self._lock:
                    for t in tags:
                        n = self._pending[t] - 1
                        if n:
                            self._pending[t] = n
                        else:
                            del self._pending[t]
                self._items.task_done()
