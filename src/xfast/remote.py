# SPDX-License-Identifier: Apache-2.0
"""Remote log directories (s3://, gs://, any fsspec URL): a local spool shipped in segments.

Object stores cannot append, and re-uploading a growing file on every flush is quadratic
(tensorflow/tensorboard#5655). So the engine writes a local spool file, and each upload sends
only the bytes written since the previous one, as a new object:

    <log_dir>/<event file name>.<segment, 8 digits><filename_suffix>

Segments start and end on record boundaries (the engine's ``bytes_written`` only ever counts
whole batches of whole records), and every segment after the first starts with a copy of the
file's first record (``file_version``), so each object is a valid event file on its own.
TensorBoard reads a run's event files in name order, so the segments read back as the one
file they came from; none is ever rewritten, which also suits the Python loader's watcher
(it moves to the next file once one exists and never looks back).

Uploads happen every ``flush_secs`` on a background thread, and on ``flush()`` and
``close()``, which return once the store holds everything written before them. The spool
directory (under ``tempfile.gettempdir()``) is removed after the last upload succeeds;
when it fails, ``close()`` raises OSError naming the spool so nothing is lost.
fsspec (and the store's package, e.g. s3fs or gcsfs) is imported only for such URLs; store
options come from the usual environment (AWS_ENDPOINT_URL, credentials files, ...).
"""

from __future__ import annotations

import atexit
import os
import shutil
import struct
import tempfile
import threading
import warnings
import weakref
from typing import Any, Optional

_SEGMENT_DIGITS = 8
# TFRecord framing (compat-spec 2.3): uint64 length, masked CRC of the length, data, CRC.
_LENGTH_AND_CRC = 12
_DATA_CRC = 4

_live_spools: weakref.WeakSet[Spool] = weakref.WeakSet()


def is_remote(log_dir: str) -> bool:
    """Whether `log_dir` is a URL for fsspec rather than a local path."""
    scheme, sep, _ = log_dir.partition("://")
    return bool(sep) and scheme.isidentifier() and scheme != "file"


def fsspec_module() -> Any:
    """The fsspec module, or ImportError saying what to install."""
    return _fsspec()


def _fsspec() -> Any:
    try:
        import fsspec  # type: ignore[import-untyped]
    except ImportError as e:
        raise ImportError(
            "xfast: remote log directories need fsspec and the store's package "
            "(pip install fsspec s3fs, or gcsfs, ...)"
        ) from e
    return fsspec


class Spool:
    """The local spool of one remote event file and the thread that uploads its segments.

    Args:
        log_dir: The remote directory (URL).
        file_name: The event file's name, ``filename_suffix`` included.
        filename_suffix: Kept at the end of every segment's name.
        interval_s: Seconds between background uploads (the writer's ``flush_secs``).
    """

    def __init__(
        self, log_dir: str, file_name: str, filename_suffix: str, interval_s: float
    ) -> None:
        fs, root = _fsspec().core.url_to_fs(log_dir)
        try:
            fs.makedirs(root, exist_ok=True)
        except Exception:
            # Object stores have no directories, and creating a bucket may be forbidden while
            # writing into it is not: a real problem surfaces at the first upload.
            pass
        self._fs = fs
        stem = file_name[: len(file_name) - len(filename_suffix)] if filename_suffix else file_name
        self._key_prefix = root.rstrip("/") + "/" + stem + "."
        self._suffix = filename_suffix
        self._dir = tempfile.mkdtemp(prefix="xfast-spool-")
        self.local_path = os.path.join(self._dir, file_name)
        self._interval = max(float(interval_s), 0.01)
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._engine: Any = None
        self._fd = -1
        self._header = b""
        self._offset = 0
        self._segments = 0
        self._thread: Optional[threading.Thread] = None
        self.last_error: Optional[BaseException] = None

    def start(self, engine: Any) -> None:
        """Starts shipping the spool `engine` writes (its first record is already on disk)."""
        self._engine = engine
        self._fd = os.open(self.local_path, os.O_RDONLY)
        head = os.pread(self._fd, _LENGTH_AND_CRC, 0)
        (length,) = struct.unpack("<Q", head[:8])
        self._header = os.pread(self._fd, _LENGTH_AND_CRC + length + _DATA_CRC, 0)
        self._thread = threading.Thread(target=self._run, name="xfast-upload", daemon=True)
        self._thread.start()
        _live_spools.add(self)

    def segment_key(self, index: int) -> str:
        """The object name of segment `index` (fsspec path, without the protocol)."""
        return f"{self._key_prefix}{index:0{_SEGMENT_DIGITS}d}{self._suffix}"

    def _run(self) -> None:
        while not self._stop.wait(self._interval):
            try:
                self._ship(self._engine.stats()["bytes_written"])
            except Exception as e:  # retried at the next tick; flush()/close() raise
                self.last_error = e

    def _ship(self, end: int) -> None:
        with self._lock:
            if end <= self._offset or self._fd < 0:
                return
            data = _pread_all(self._fd, end - self._offset, self._offset)
            body = data if self._segments == 0 else self._header + data
            self._fs.pipe_file(self.segment_key(self._segments), body)
            self._offset = end
            self._segments += 1

    def ship(self) -> None:
        """Uploads what the engine wrote so far (call after the engine's flush()).

        Raises:
            OSError: the upload failed; it is retried at the next one.
        """
        try:
            self._ship(self._engine.stats()["bytes_written"])
        except OSError:
            raise
        except Exception as e:
            raise OSError(f"xfast: uploading to {self._key_prefix}* failed: {e!r}") from e

    def close(self) -> None:
        """Uploads the rest of the closed spool file, stops the thread, removes the spool."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
        _live_spools.discard(self)
        try:
            self._ship(os.fstat(self._fd).st_size)
        except Exception as e:
            raise OSError(
                f"xfast: uploading to {self._key_prefix}* failed ({e!r}); the events not "
                f"uploaded are kept in {self.local_path}"
            ) from e
        os.close(self._fd)
        self._fd = -1
        shutil.rmtree(self._dir, ignore_errors=True)

    def abandon_after_fork(self) -> None:
        """Forgets the parent's spool in a forked child (its thread does not exist here)."""
        _live_spools.discard(self)
        self._fd = -1


def _pread_all(fd: int, n: int, offset: int) -> bytes:
    parts = []
    while n > 0:
        chunk = os.pread(fd, n, offset)
        if not chunk:
            raise OSError(f"spool file ended {n} bytes early")
        parts.append(chunk)
        n -= len(chunk)
        offset += len(chunk)
    return b"".join(parts)


def _ship_at_exit() -> None:
    for spool in list(_live_spools):
        try:
            spool.ship()
        except OSError as e:
            warnings.warn(
                f"{e} (at exit; the spool is kept in {spool.local_path})", RuntimeWarning,
                stacklevel=1,
            )


atexit.register(_ship_at_exit)
