# SPDX-License-Identifier: Apache-2.0
"""SummaryReader: tbparse's reader over the native scan, plus numpy arrays without pandas."""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import TYPE_CHECKING, Callable, Optional, Union

from xfast import remote
from xfast.reader import scan as _scan
from xfast.reader.scan import FileData, HistogramArrays, ScalarArrays

if TYPE_CHECKING:
    import pandas as pd

EVENT_TYPES = frozenset({"scalars", "tensors", "histograms", "images", "audio", "hparams", "text"})
EXTRA_COLUMNS = frozenset(
    {
        "dir_name",
        "file_name",
        "wall_time",
        "min",
        "max",
        "num",
        "sum",
        "sum_squares",
        "width",
        "height",
        "content_type",
        "length_frames",
        "sample_rate",
    }
)
# Which native series each event type needs (text, hparams, images, audio: protobuf values).
_KINDS = {
    "scalars": _scan.KIND_SCALARS,
    "tensors": _scan.KIND_TENSORS | _scan.KIND_OTHERS,
    "histograms": _scan.KIND_HISTOGRAMS,
    "images": _scan.KIND_OTHERS,
    "audio": _scan.KIND_OTHERS,
    "hparams": _scan.KIND_OTHERS,
    "text": _scan.KIND_OTHERS,
}


class SummaryReader:
    """Reads every event under ``log_path`` (an event file, a run directory or a logdir of runs;
    a local path or any fsspec URL, whose event files are fetched to a temporary directory).

    A drop-in for ``tbparse.SummaryReader``: same arguments, and ``.scalars``, ``.tensors``,
    ``.histograms``, ``.text``, ``.hparams`` DataFrames with its columns, dtypes, sort order and
    pivot layout (see xfast.reader.frames), with no sampling. pandas is needed for those
    properties only; the ``*_arrays`` methods return numpy arrays.

    Beyond tbparse (keyword-only): ``tag_glob`` (fnmatch over the whole tag) and ``tag_regex``
    (POSIX extended, searched in the tag) keep only matching tags, checked in the native scan;
    ``runs`` keeps only the named runs (directories relative to ``path``, "" for ``path``
    itself); ``purge_orphaned_data`` applies TensorBoard's restart rule (a SessionLog.START at
    step s drops earlier values of its file with step >= s), on by default as in tbparse, which
    reads each file alone; "run" also drops them from the run's earlier files, as TensorBoard's
    dashboard does;
    ``threads`` caps the scan's worker threads (0 = one per core); ``progress(done, total)`` is
    called with bytes of event files read so far (the files are then read a few at a time).

    Damaged files never raise: records with a bad CRC or unparsable bytes are skipped and
    counted, an incomplete last record (a run still writing) is left out; ``damage`` reports
    both per file. Raises FileNotFoundError for a missing ``path``, ValueError for an unknown
    event type or an invalid regex, KeyError for an unknown extra column.
    """

    def __init__(
        self,
        log_path: str,
        *,
        pivot: bool = False,
        extra_columns: Optional[set[str]] = None,
        event_types: Optional[set[str]] = None,
        tag_glob: Optional[str] = None,
        tag_regex: Optional[str] = None,
        runs: Optional[Sequence[str]] = None,
        purge_orphaned_data: Union[bool, str] = True,
        threads: int = 0,
        progress: Optional[Callable[[int, int], None]] = None,
    ) -> None:
        self._extra = set(extra_columns or ())
        if not isinstance(extra_columns, (set, type(None))):
            raise ValueError(f"extra_columns should be a set, not {type(extra_columns).__name__}")
        unknown = self._extra - EXTRA_COLUMNS
        if unknown:
            raise KeyError(f"Invalid columns entries: {unknown}")
        self._types = set(event_types) if event_types is not None else set(EVENT_TYPES)
        if self._types - EVENT_TYPES:
            raise ValueError(f"Invalid event types: {self._types - EVENT_TYPES}")
        self._pivot = pivot
        self._log_path = log_path
        if log_path.startswith("file://"):
            log_path = log_path[len("file://") :]
        if remote.is_remote(log_path):
            with _scan.local_copy(log_path) as (local, is_file):
                self._read(
                    local if not is_file else os.path.join(local, os.listdir(local)[0]),
                    runs,
                    event_types=self._types,
                    tag_glob=tag_glob,
                    tag_regex=tag_regex,
                    purge=purge_orphaned_data,
                    threads=threads,
                    progress=progress,
                )
            for f in self._files:  # name the remote files, not the removed copies
                rel = os.path.relpath(f.path, local).replace(os.sep, "/")
                f.path = log_path if is_file else f"{log_path.rstrip('/')}/{rel}"
            return
        self._read(
            log_path,
            runs,
            event_types=self._types,
            tag_glob=tag_glob,
            tag_regex=tag_regex,
            purge=purge_orphaned_data,
            threads=threads,
            progress=progress,
        )

    def _read(
        self,
        log_path: str,
        runs: Optional[Sequence[str]],
        *,
        event_types: set[str],
        tag_glob: Optional[str],
        tag_regex: Optional[str],
        purge: Union[bool, str],
        threads: int,
        progress: Optional[Callable[[int, int], None]],
    ) -> None:
        files = _scan.event_files(log_path)
        if runs is not None:
            wanted = set(runs)
            files = [f for f in files if f[0] in wanted]
        kinds = 0
        for t in event_types:
            kinds |= _KINDS[t]
        options = dict(
            kinds=kinds,
            tag_glob=tag_glob or "",
            tag_regex=tag_regex or "",
            purge_orphaned_data=purge,
            threads=threads,
        )
        if progress is None:
            self._files = _scan.scan(files, **options)  # type: ignore[arg-type]
        else:
            self._files = _scan.scan_with_progress(files, progress, **options)

    @property
    def log_path(self) -> str:
        """The path this reader read."""
        return self._log_path

    @property
    def files(self) -> list[FileData]:
        """What the scan found in each event file, in reading order."""
        return self._files

    @property
    def runs(self) -> list[str]:
        """The runs (directories relative to log_path, "" for log_path itself), sorted."""
        return sorted({f.run for f in self._files})

    @property
    def damage(self) -> dict[str, dict[str, int]]:
        """Per damaged file: corrupt records skipped, bytes skipped, truncated tail bytes."""
        return {
            f.path: {
                "corrupt": f.corrupt,
                "skipped_bytes": f.skipped_bytes,
                "truncated_bytes": f.truncated_bytes,
            }
            for f in self._files
            if f.corrupt or f.truncated_bytes or f.skipped_bytes
        }

    def tags(self, event_type: str = "scalars") -> dict[str, list[str]]:
        """{run: sorted tags} holding values of ``event_type`` ("scalars", "tensors" (scalar
        tensors), "histograms")."""
        out: dict[str, set[str]] = {}
        for f in self._files:
            for t in f.tags.values():
                if len(getattr(t, event_type)):
                    out.setdefault(f.run, set()).add(t.name)
        return {run: sorted(tags) for run, tags in sorted(out.items())}

    def scalar_arrays(self, tag: str, run: Optional[str] = None) -> ScalarArrays:
        """Every simple_value scalar of ``tag`` in ``run`` (its files one after another).

        ``run`` may be left out when only one run has the tag. Raises KeyError otherwise."""
        return ScalarArrays.concat([t.scalars for t in self._tag_in_run(tag, run, "scalars")])

    def tensor_scalar_arrays(self, tag: str, run: Optional[str] = None) -> ScalarArrays:
        """Every float/double scalar tensor of ``tag`` in ``run`` (as scalar_arrays)."""
        return ScalarArrays.concat([t.tensors for t in self._tag_in_run(tag, run, "tensors")])

    def histogram_arrays(self, tag: str, run: Optional[str] = None) -> HistogramArrays:
        """Every histogram of ``tag`` in ``run`` (as scalar_arrays)."""
        return HistogramArrays.concat(
            [t.histograms for t in self._tag_in_run(tag, run, "histograms")]
        )

    def scalar_arrays_by_run(self) -> dict[str, dict[str, ScalarArrays]]:
        """{run: {tag: ScalarArrays}} of every simple_value scalar."""
        return self._by_run("scalars", ScalarArrays.concat)  # type: ignore[return-value]

    def histogram_arrays_by_run(self) -> dict[str, dict[str, HistogramArrays]]:
        """{run: {tag: HistogramArrays}} of every histogram."""
        return self._by_run("histograms", HistogramArrays.concat)  # type: ignore[return-value]

    def _by_run(self, kind: str, concat: object) -> dict[str, dict[str, object]]:
        parts: dict[str, dict[str, list[object]]] = {}
        for f in self._files:
            for t in f.tags.values():
                series = getattr(t, kind)
                if len(series):
                    parts.setdefault(f.run, {}).setdefault(t.name, []).append(series)
        return {
            run: {tag: concat(p) for tag, p in tags.items()}  # type: ignore[operator]
            for run, tags in parts.items()
        }

    def _tag_in_run(self, tag: str, run: Optional[str], kind: str) -> list[_scan.TagData]:
        found: dict[str, list[_scan.TagData]] = {}
        for f in self._files:
            t = f.tags.get(tag)
            if t is not None and len(getattr(t, kind)):
                found.setdefault(f.run, []).append(t)
        if run is None:
            if len(found) > 1:
                raise KeyError(f"tag {tag!r} is in several runs {sorted(found)}: pass run=")
            return next(iter(found.values()), [])
        if run not in found:
            raise KeyError(f"no {kind} of tag {tag!r} in run {run!r}")
        return found[run]

    def _frame(self, event_type: str) -> pd.DataFrame:
        if event_type not in self._types:
            raise ValueError(f"event_type is ignored by user: {event_type}")
        from xfast.reader import frames  # pandas, imported on first use

        build = getattr(frames, event_type)
        return build(self._files, self._pivot, self._extra)  # type: ignore[no-any-return]

    @property
    def scalars(self) -> pd.DataFrame:
        """Every simple_value scalar: step, tag, value (+ wall_time, dir_name, file_name)."""
        return self._frame("scalars")

    @property
    def tensors(self) -> pd.DataFrame:
        """Every tensor value except text and hparams: a float for a scalar, else an ndarray."""
        return self._frame("tensors")

    @property
    def histograms(self) -> pd.DataFrame:
        """Every histogram: step, tag, counts, limits (+ min, max, num, sum, sum_squares)."""
        return self._frame("histograms")

    @property
    def text(self) -> pd.DataFrame:
        """Every text value, UTF-8 decoded, tags without their "/text_summary" suffix."""
        return self._frame("text")

    @property
    def hparams(self) -> pd.DataFrame:
        """The hyperparameters of each file's session_start_info: tag, value (no step)."""
        return self._frame("hparams")

    @property
    def images(self) -> pd.DataFrame:
        """Every image: ``value`` holds its encoded bytes (PNG or GIF, undecoded: tbparse needs
        TensorFlow to decode them into arrays) (+ height, width)."""
        return self._frame("images")

    @property
    def audio(self) -> pd.DataFrame:
        """Every audio clip: ``value`` holds its encoded WAV bytes (+ content_type,
        length_frames, sample_rate)."""
        return self._frame("audio")

    def __repr__(self) -> str:
        return f"SummaryReader(log_path={self._log_path!r}, files={len(self._files)})"


def read_scalars(path: Union[str, SummaryReader]) -> dict[str, dict[str, ScalarArrays]]:
    """{run: {tag: ScalarArrays}} of every scalar under ``path``: the shortest way to numpy."""
    reader = (
        path if isinstance(path, SummaryReader) else SummaryReader(path, event_types={"scalars"})
    )
    return reader.scalar_arrays_by_run()
