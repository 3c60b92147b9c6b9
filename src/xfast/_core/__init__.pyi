# SPDX-License-Identifier: Apache-2.0
# Hand-written stubs for xfast._core (csrc/bindings.cc), a package only so that its `testing`
# submodule can have stubs; checked by `python -m mypy.stubtest xfast._core` (tests/test_lint.py).

from collections.abc import Sequence
from typing import Any, Optional, Union

import numpy as np
import numpy.typing as npt

from xfast._core import testing as testing

# Dicts built in bindings.cc. A histogram pass (histogram_accumulate, testing.histogram_default):
# counts (uint64 ndarray, one per default bin, len 1548), min, max,
# sum, sum_squares (float, finite values only; min/max meaningless when finite == 0), finite,
# nan, pos_inf, neg_inf (int).
_Accum = dict[str, Any]

compiler: str
"""The compiler that built this module ("gcc 13.2.0", "clang ...", or "unknown")."""

class EventWriter:
    """One event file, a bounded ring of records and the writer thread that drains it.

    Any thread may call any method; pushes never wait unless the ring is full and the writer
    was opened with ``drop_when_full=False`` (then the push releases the GIL and blocks). A
    writer-thread I/O error is latched and reported once, at the next push, flush or close:
    as an ``OSError``, or a ``RuntimeWarning`` when ``warn_on_error`` is set.
    """

    def __init__(
        self,
        path: str,
        wall_time: float,
        purge_step: Optional[int] = None,
        ring_capacity: int = 16384,
        drop_when_full: bool = False,
        max_latency_s: float = 0.05,
        warn_on_error: bool = False,
    ) -> None:
        """Creates ``path`` (failing if it exists) and writes its first record (file_version;
        plus the file_version + SessionLog START pair torch writes when ``purge_step`` is set)
        synchronously, then starts the writer thread. ``wall_time`` is seconds since the epoch;
        ``max_latency_s`` bounds how long a queued record waits before it reaches the OS.
        ``ring_capacity`` is in records (rounded up to a power of two); when the ring is full a
        push waits, or with ``drop_when_full`` the record is dropped and counted. Raises
        ``OSError`` when the file cannot be created or written. Releases the GIL while it opens
        the file."""
    def intern(self, tag: str, /) -> int:
        """The id of ``tag`` for the add_* calls (the same id for the same tag, per writer)."""
    def add_scalar(
        self, tag: int, value: float, step: int, wall_time: Optional[float], style: int = 0, /
    ) -> None:
        """Queues a scalar. A raw METH_FASTCALL method (positional arguments only; ~70 ns a
        call). ``wall_time`` None is now; ``style`` 0 simple_value, 1 float32 tensor, 2 double
        tensor. Raises ``ValueError`` for an unknown tag id, a bad style, or a value/step out
        of range (int64 steps), ``TypeError`` for a float step."""
    def add_histogram(
        self,
        tag: int,
        data: npt.NDArray[Any],
        dtype: int,
        step: int,
        wall_time: Optional[float],
        max_bins: Optional[int] = None,
    ) -> dict[str, Any]:
        """Default-bins histogram of a C-contiguous buffer (``dtype`` an xfast dtype code),
        computed here (GIL released above 64 KiB) and queued. Returns ``{'nan', 'pos_inf',
        'neg_inf': int, 'written': bool}``; written is False when nothing was countable."""
    def add_histogram_at(
        self,
        tag: int,
        address: int,
        n: int,
        dtype: int,
        step: int,
        wall_time: Optional[float],
        max_bins: Optional[int] = None,
        /,
    ) -> Optional[tuple[int, int, int, bool]]:
        """``add_histogram`` over ``n`` contiguous elements at host address ``address`` (a CPU
        tensor's ``data_ptr()``), kept alive and unchanged by the caller for the call. A raw
        METH_FASTCALL method (positional arguments only, ints as Python ints). Returns None
        when the histogram was written with no NaN/inf, else ``(nan, pos_inf, neg_inf,
        written)``. Raises ``ValueError`` for a null address, ``n == 0``, an unknown tag id or
        dtype code, or a step out of int64, ``TypeError`` for a non-int argument."""
    def add_histograms_at(
        self,
        tags: Sequence[int],
        spans: list[tuple[int, int, int]],
        step: int,
        wall_time: Optional[float],
        max_bins: Optional[int] = None,
    ) -> list[tuple[int, int, int, int, bool]]:
        """``add_histogram_at`` for many tensors in one call, events queued in input order:
        ``spans`` holds ``(address, n, dtype code)`` of memory the caller keeps alive and
        unchanged. Returns ``[(index, nan, pos_inf, neg_inf, written), ...]`` for the
        histograms that had NaN/inf or nothing countable (empty when none)."""
    def add_histogram_counts(
        self,
        tag: int,
        counts: npt.ArrayLike,
        limits: npt.ArrayLike,
        min: float,
        max: float,
        num: float,
        sum: float,
        sum_squares: float,
        step: int,
        wall_time: Optional[float],
        max_bins: Optional[int] = None,
    ) -> bool:
        """Trims (and ``max_bins``-groups) counts computed elsewhere, then queues the histogram.
        ``len(limits) == len(counts) + 1``. Returns False, queueing nothing, when no bin has a
        count."""
    def add_histogram_rows(
        self,
        tags: Sequence[int],
        rows: npt.NDArray[np.float64],
        limits: npt.ArrayLike,
        step: int,
        wall_time: Optional[float],
        max_bins: Optional[int] = None,
    ) -> npt.NDArray[np.bool_]:
        """add_histogram_counts for many tags at once: row i of ``rows`` (float64, C-contiguous)
        holds ``len(limits) - 1`` counts, then min, max, sum, sum_squares and the finite count
        (the layout histogram_rows fills). Returns a bool array: False where nothing was
        counted (nothing queued for that tag)."""
    def add_histogram_raw(
        self,
        tag: int,
        min: float,
        max: float,
        num: float,
        sum: float,
        sum_squares: float,
        bucket_limit: Sequence[float],
        bucket: Sequence[float],
        step: int,
        wall_time: Optional[float],
    ) -> None:
        """Queues a histogram exactly as given (torch's add_histogram_raw)."""
    def add_text(self, tag: int, text: str, step: int, wall_time: Optional[float]) -> None:
        """Queues a text summary (plugin 'text') for ``tag``."""
    def add_summary(self, summary: bytes, step: int, wall_time: Optional[float]) -> None:
        """Queues Event{wall_time, step, summary} around an already serialized Summary."""
    def add_event(self, event: bytes) -> None:
        """Queues an already serialized Event as is."""
    def reserve_summary(self, step: int, wall_time: Optional[float]) -> Optional[PendingSummary]:
        """Reserves the file's next place for a Summary event encoded later (add_image, ...):
        pushes the record now (waiting, GIL released, while the ring is full) and returns the
        ``PendingSummary`` to settle, or None when a full ring dropped it
        (``drop_when_full``). The writer thread writes nothing behind it until it is settled.
        Raises ``OSError`` when the writer is closed."""
    def flush(self, fsync: bool = False) -> None:
        """Returns once everything queued before the call is written (and fsync'ed if asked).
        Releases the GIL while it waits."""
    def close(self, timeout_s: float = -1.0) -> None:
        """Drains, writes and closes; idempotent. ``timeout_s >= 0`` bounds the wait
        (``OSError`` ETIMEDOUT after it; the writer thread is then left to finish alone)."""
    def stats(self) -> dict[str, int]:
        """``{'events_written', 'bytes_written', 'dropped', 'lost', 'high_water',
        'capacity'}``: counters since the writer opened."""
    def abandon_after_fork(self) -> None:
        """In a forked child, before anything else: forgets the writer thread (it does not exist
        there) and closes this process's copy of the file descriptor, without touching locks
        the parent's threads may have held; later pushes raise. The object is never destroyed."""
    @property
    def path(self) -> str:
        """The event file's path."""
    @property
    def closed(self) -> bool:
        """Whether close() has run."""

class PendingSummary:
    """An event's reserved place in its file (``EventWriter.reserve_summary``), settled once by
    whoever encodes it. Dropped unsettled, it counts as failed, so the writer thread never waits
    on it forever."""

    def fill(self, summary: bytes) -> None:
        """Settles it with its serialized Summary, written in its place. Later calls do
        nothing."""
    def fail(self) -> None:
        """Settles it as failed: nothing is written in its place."""
    @property
    def settled(self) -> bool:
        """Whether fill() or fail() ran."""

def after_fork_in_child() -> None:
    """Resets the histogram thread pool in a forked child."""

def histogram_implementation() -> str:
    """The float32 histogram loops in use: 'avx2', 'sse2' or 'portable'."""

def pixels_uint8(image: npt.NDArray[np.float32]) -> npt.NDArray[np.uint8]:
    """torch's ``image()`` scaling of a C-contiguous float32 array in one pass:
    ``uint8(trunc(clip(x * 255, 0, 255)))``, NaN as 0, same shape (the GIL kept). Raises
    ``TypeError`` for another dtype, ``ValueError`` for a non-contiguous array."""

def default_slot_table() -> tuple[npt.NDArray[np.uint16], npt.NDArray[np.float32]]:
    """(slots uint16[131072], thresholds float32[1550]): the default-bins O(1) bucket index
    (see histogram.h) for the device-side histogram."""

def set_num_threads(n: int) -> None:
    """Sets the histogram kernel's thread count (0 = XFAST_NUM_THREADS or all cores)."""

def get_num_threads() -> int:
    """The histogram kernel's thread count."""

def scan_event_files(
    files: Sequence[tuple[str, int]],
    tag_glob: str = "",
    tag_regex: str = "",
    kinds: int = 15,
    threads: int = 0,
) -> list[dict[str, Any]]:
    """Reads event files [(path, start offset), ...] on ``threads`` threads (0 = all cores) with
    the GIL released, checking every record's CRC; one dict a file (see csrc/bindings.cc and
    xfast.reader.scan for its keys). ``tag_glob`` (fnmatch, whole tag) and ``tag_regex`` (POSIX
    extended, searched) filter tags; ``kinds`` (1 scalars, 2 scalar tensors, 4 histograms, 8
    other values) filters values. Raises ValueError for an invalid regex."""

def default_edges() -> npt.NDArray[np.float64]:
    """torch's default 'tensorflow' histogram bucket limits (float64, 1549 edges)."""

def wall_clock_now() -> float:
    """Seconds since the epoch, as the writer stamps an event with no wall time."""

def histogram_accumulate(data: npt.NDArray[Any], dtype: int) -> _Accum:
    """Counts a C-contiguous buffer into the default bins without writing anything. Counts over
    shards of one tensor add up to the counts of the whole (xfast.distributed)."""

def histogram_rows(
    batch: Sequence[Union[tuple[npt.NDArray[Any], int], tuple[int, int, int]]],
    out: npt.NDArray[np.float64],
) -> None:
    """histogram_accumulate over ``[(buffer, dtype code) or (address, n, dtype code), ...]``
    (the caller keeps every buffer alive) in one pool dispatch with the GIL released,
    written into ``out`` (float64, C-contiguous, one row per buffer, >= 1556 columns): 1548
    counts, then min, max (inf, -inf when nothing is finite), sum, sum_squares,
    finite, nan, pos_inf, neg_inf. Other columns are left alone."""
