# SPDX-License-Identifier: Apache-2.0
"""tensorboardX's GlobalSummaryWriter: one writer for a whole program, steps counted per tag,
shared with forked worker processes whose events land in the parent's one event file."""

from __future__ import annotations

import atexit
import multiprocessing
import os
import threading
import time
import weakref
from typing import Any, Optional, Union

from xfast.encoding.convert import to_float
from xfast.tensorboardX.writer import SummaryWriter, host_array

_writer: Optional[GlobalSummaryWriter] = None  # getSummaryWriter's instance
_live: weakref.WeakSet[GlobalSummaryWriter] = weakref.WeakSet()

# How long close() (or interpreter exit) waits for the receiving thread to write what the
# children sent; it only stops early if writing itself hangs (a dead disk).
_DRAIN_TIMEOUT_S = 30.0


class GlobalSummaryWriter:
    """A writer whose ``add_scalar``, ``add_image`` and ``add_text`` number the steps
    themselves (0, 1, 2, ... per tag and kind) and that forked processes share.

    Calls made in the creating process are written at once (xfast's engine); calls made in a
    process forked from it (``multiprocessing`` with the fork start method, ``os.fork``) are
    sent through a pipe to a thread of the creating process, which writes them to the same
    event file. Steps are given out in the creating process, so every event gets exactly one,
    none lost or repeated; ``close()`` writes everything the children sent before it.

    Args:
        logdir: Save directory location (see ``SummaryWriter``).
        comment: Suffix of the default ``logdir``.
        purge_step: See ``SummaryWriter``.
        max_queue: Accepted for compatibility.
        flush_secs: Accepted for compatibility: events reach the OS within ~50 ms anyway.
        filename_suffix: Suffix added to the event file's name.
        write_to_disk: False: nothing is written.
        log_dir: The same as ``logdir``, used when ``logdir`` is not given.
        coalesce_process: Accepted for compatibility (children's events always go to the
            parent's file).
        **kwargs: xfast's options of ``SummaryWriter`` (``queue_capacity``, ...).
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
        coalesce_process: bool = True,
        **kwargs: Any,
    ) -> None:
        self.smw: Optional[SummaryWriter] = SummaryWriter(
            logdir=logdir, comment=comment, purge_step=purge_step, max_queue=max_queue,
            flush_secs=flush_secs, filename_suffix=filename_suffix, write_to_disk=write_to_disk,
            log_dir=log_dir, **kwargs,
        )
        self._owner_pid = os.getpid()
        self._steps: dict[tuple[str, str], int] = {}
        self._step_lock = threading.Lock()
        self._reader, self._sender = multiprocessing.Pipe(duplex=False)
        # Children write whole messages under this lock, so theirs never interleave.
        self._send_lock = multiprocessing.Lock()
        self._error: Optional[BaseException] = None
        self._receiver: Optional[threading.Thread] = threading.Thread(
            target=self._receive, name="xfast-global-writer", daemon=True
        )
        self._receiver.start()
        _live.add(self)

    def _write(self, kind: str, tag: str, payload: Any, walltime: Optional[float],
               dataformats: str) -> None:
        """Numbers the event (next step of `tag` for `kind`) and writes it (owner only)."""
        smw = self.smw
        if smw is None:
            raise OSError("GlobalSummaryWriter is closed")
        with self._step_lock:
            key = (kind, tag)
            step = self._steps[key] = self._steps.get(key, -1) + 1
            if kind == "scalar":
                smw.add_scalar(tag, payload, step, walltime)
            elif kind == "image":
                smw.add_image(tag, payload, step, walltime, dataformats)
            else:
                smw.add_text(tag, payload, step, walltime)

    def _submit(self, kind: str, tag: str, payload: Any, walltime: Optional[float],
                dataformats: str = "") -> None:
        if os.getpid() == self._owner_pid:
            self._write(kind, tag, payload, walltime, dataformats)
            return
        # A forked child: the wall time is the call's, the step the parent's next one.
        message = (kind, tag, payload, time.time() if walltime is None else walltime,
                   dataformats)
        try:
            with self._send_lock:
                self._sender.send(message)
        except (BrokenPipeError, OSError) as e:
            raise OSError(
                "GlobalSummaryWriter: the writing process closed this writer; events from "
                "forked processes can no longer be written"
            ) from e

    def _receive(self) -> None:
        """The owner's thread writing what forked children send, until close() says stop."""
        while True:
            try:
                message = self._reader.recv()
            except (EOFError, OSError):
                return
            if message is None:
                return
            try:
                self._write(*message)
            except Exception as e:  # kept for close(): one bad message must not stop the rest
                if self._error is None:
                    self._error = e

    def add_scalar(self, tag: str, scalar_value: Any, walltime: Optional[float] = None) -> None:
        """Add scalar data at this tag's next step.

        Args:
            tag: Data identifier.
            scalar_value: Value to save (number, numpy scalar, one-element array or tensor).
            walltime: Optional override default walltime (time.time()) of event.

        Raises:
            TypeError: ``scalar_value`` is not a number; ValueError: it holds several elements.
        """
        self._submit("scalar", tag, to_float(scalar_value), walltime)

    def add_image(self, tag: str, img_tensor: Any, walltime: Optional[float] = None,
                  dataformats: str = "CHW") -> None:
        """Add image data at this tag's next image step.

        Args:
            tag: Data identifier.
            img_tensor: Image data, uint8 in [0, 255] or float in [0, 1].
            walltime: Optional override default walltime (time.time()) of event.
            dataformats: Layout of ``img_tensor``: CHW, HWC, HW, ...
        """
        self._submit("image", tag, host_array(img_tensor), walltime, dataformats)

    def add_text(self, tag: str, text_string: str, walltime: Optional[float] = None) -> None:
        """Add text data at this tag's next text step.

        Args:
            tag: Data identifier.
            text_string: String to save.
            walltime: Optional override default walltime (time.time()) of event.

        Raises:
            TypeError: ``text_string`` is not a str.
        """
        if not isinstance(text_string, str):
            raise TypeError(f"text_string must be a str, got {type(text_string).__name__}")
        self._submit("text", tag, text_string, walltime)

    @staticmethod
    def getSummaryWriter() -> GlobalSummaryWriter:
        """The program-wide writer, created (with the default logdir) on the first call."""
        global _writer
        if _writer is None or _writer.smw is None:
            _writer = GlobalSummaryWriter()
        return _writer

    @property
    def file_writer(self) -> Any:
        """The underlying SummaryWriter's FileWriter (``event_writer._ev_writer._file_name``
        names the event file)."""
        if self.smw is None:
            raise OSError("GlobalSummaryWriter is closed")
        return self.smw._get_file_writer()

    def _stop_receiver(self, timeout_s: float) -> None:
        receiver, self._receiver = self._receiver, None
        if receiver is None:
            return
        with self._send_lock:  # after every child's message already sent
            self._sender.send(None)
        receiver.join(timeout_s)
        self._reader.close()  # a child that sends later gets an error, not a full pipe

    def close(self) -> None:
        """Writes what forked children sent, then flushes and closes the event file.

        In a forked child it does nothing: the file belongs to the creating process.

        Raises:
            Exception: the first error met writing a child's event (other events were written).
        """
        if os.getpid() != self._owner_pid:
            return
        self._stop_receiver(_DRAIN_TIMEOUT_S)
        smw = self.smw
        if smw is not None:
            smw.flush()
            smw.close()
        error, self._error = self._error, None
        if error is not None:
            raise error

    def __enter__(self) -> GlobalSummaryWriter:
        return self

    def __exit__(self, exc_type: Any, exc_val: Any, exc_tb: Any) -> None:
        self.close()


def _drain_at_exit() -> None:
    """Writes what children sent before the files are closed at exit (atexit runs this before
    xfast.file_writer's close of every file, which was registered earlier)."""
    deadline = time.monotonic() + _DRAIN_TIMEOUT_S
    for w in list(_live):
        if w._owner_pid == os.getpid():
            w._stop_receiver(max(0.0, deadline - time.monotonic()))


def _after_fork_in_child() -> None:
    # A child must not keep the read end open: once the parent closes its end, a child that
    # still sends then fails at once instead of filling the pipe and waiting forever.
    for w in list(_live):
        w._receiver = None
        w._reader.close()


atexit.register(_drain_at_exit)
if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_after_fork_in_child)
