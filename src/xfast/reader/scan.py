# SPDX-License-Identifier: Apache-2.0
"""The native scan of a logdir's event files, shaped into numpy arrays per file and tag.

``_core.scan_event_files`` reads the files on worker threads with the GIL released, checks every
record's CRC and decodes the hot values (simple_value scalars, float/double scalar tensors,
histograms) straight into per-tag columns. The rest (images, audio, text, other tensors) comes
back as (offset, length) of its event, parsed here with protobuf. TensorBoard's restart rule is
applied afterwards: in a file whose ``file_version`` is 2 or more, a ``SessionLog.START`` at step
s drops every earlier value of that file with a step >= s (``purge_orphaned_data``); with
``purge_orphaned_data="run"`` also the values with a step >= s in the run's earlier files, as
TensorBoard's dashboard, which reads a run's files as one stream, does.
"""

from __future__ import annotations

import contextlib
import dataclasses
import os
import tempfile
from collections.abc import Iterable, Iterator, Sequence
from typing import Any, Callable, Optional, Union

import numpy as np
import numpy.typing as npt

from xfast import _core, remote
from xfast.encoding import proto

# Kinds of value the native scan keeps (csrc/event_scan.h ScanKind).
KIND_SCALARS = 1
KIND_TENSORS = 2
KIND_HISTOGRAMS = 4
KIND_OTHERS = 8
KIND_ALL = 15

_EMPTY_I64 = np.zeros(0, dtype=np.int64)
_EMPTY_F64 = np.zeros(0, dtype=np.float64)


@dataclasses.dataclass(frozen=True)
class ScalarArrays:
    """Every (step, value, wall_time) of one scalar tag, in the order they were written."""

    step: npt.NDArray[np.int64]
    value: npt.NDArray[np.float64]
    wall_time: npt.NDArray[np.float64]

    def __len__(self) -> int:
        return len(self.step)

    @staticmethod
    def concat(parts: Sequence[ScalarArrays]) -> ScalarArrays:
        """The parts one after another (no copy for a single part)."""
        if len(parts) == 1:
            return parts[0]
        if not parts:
            return ScalarArrays(_EMPTY_I64, _EMPTY_F64, _EMPTY_F64)
        return ScalarArrays(
            np.concatenate([p.step for p in parts]),
            np.concatenate([p.value for p in parts]),
            np.concatenate([p.wall_time for p in parts]),
        )


@dataclasses.dataclass(frozen=True)
class HistogramArrays:
    """Every HistogramProto of one tag. Event i's buckets are ``limits[offsets[i]:offsets[i+1]]``
    (right edges) and ``counts[offsets[i]:offsets[i+1]]``."""

    step: npt.NDArray[np.int64]
    wall_time: npt.NDArray[np.float64]
    min: npt.NDArray[np.float64]
    max: npt.NDArray[np.float64]
    num: npt.NDArray[np.float64]
    sum: npt.NDArray[np.float64]
    sum_squares: npt.NDArray[np.float64]
    offsets: npt.NDArray[np.int64]
    limits: npt.NDArray[np.float64]
    counts: npt.NDArray[np.float64]

    def __len__(self) -> int:
        return len(self.step)

    def buckets(self, i: int) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]]:
        """(limits, counts) of event i."""
        lo, hi = int(self.offsets[i]), int(self.offsets[i + 1])
        return self.limits[lo:hi], self.counts[lo:hi]

    def counts_matrix(self) -> npt.NDArray[np.float64]:
        """Counts as a (events, buckets) matrix: a view, when every event has as many buckets.

        Raises ValueError when the bucket counts differ between events."""
        return self._matrix(self.counts)

    def limits_matrix(self) -> npt.NDArray[np.float64]:
        """Bucket limits as a (events, buckets) matrix, like counts_matrix."""
        return self._matrix(self.limits)

    def _matrix(self, flat: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
        widths = np.diff(self.offsets)
        if len(widths) and np.any(widths != widths[0]):
            raise ValueError("the events have different numbers of buckets; use buckets(i)")
        return flat.reshape(len(self), int(widths[0]) if len(widths) else 0)

    @staticmethod
    def concat(parts: Sequence[HistogramArrays]) -> HistogramArrays:
        """The parts one after another (no copy for a single part)."""
        if len(parts) == 1:
            return parts[0]
        if not parts:
            return _histograms({})
        shifts = np.cumsum([0] + [len(p.limits) for p in parts[:-1]])
        offsets = np.concatenate(
            [parts[0].offsets[:1]] + [p.offsets[1:] + s for p, s in zip(parts, shifts)]
        )
        fields = (
            "step",
            "wall_time",
            "min",
            "max",
            "num",
            "sum",
            "sum_squares",
            "limits",
            "counts",
        )
        cols = {f: np.concatenate([getattr(p, f) for p in parts]) for f in fields}
        return HistogramArrays(offsets=offsets, **cols)


@dataclasses.dataclass(frozen=True)
class OtherValue:
    """A summary value the native scan left to protobuf (image, audio, text, other tensors)."""

    step: int
    wall_time: float
    value: Any  # a Summary.Value message


@dataclasses.dataclass
class TagData:
    """One tag's values in one event file."""

    name: str
    plugin_name: str
    plugin_content: bytes
    scalars: ScalarArrays
    tensors: ScalarArrays
    histograms: HistogramArrays
    others: list[OtherValue]


@dataclasses.dataclass
class FileData:
    """What the scan found in one event file."""

    path: str
    run: str  # directory relative to the logdir, "/"-separated; "" for the logdir itself
    file_version: str
    records: int  # records read whole, CRCs checked
    corrupt: int  # records skipped: a bad CRC or an unparsable event
    skipped_bytes: int  # bytes stepped over to find the next record after damage
    truncated_bytes: int  # an incomplete last record (a run still writing)
    end_offset: int  # just past the last whole record
    error: str  # why the file could not be read ("" when it could)
    tags: dict[str, TagData]
    restarts: list[int]  # steps of the file's SessionLog.START events (file_version >= 2)

    @property
    def file_name(self) -> str:
        """The file's base name."""
        return os.path.basename(self.path)


def event_files(path: str) -> list[tuple[str, str]]:
    """(run, file path) of every event file under ``path`` (a file, a run or a logdir).

    An event file has "tfevents" in its name (TensorBoard's rule). Files come in the order of
    their path components sorted one level at a time, so a run's files are in name (= time) order.
    Raises FileNotFoundError when ``path`` does not exist."""
    if os.path.isfile(path):
        return [("", path)]
    if not os.path.isdir(path):
        raise FileNotFoundError(f"no such file or directory: {path!r}")
    found: list[tuple[list[str], str, str]] = []
    for root, _dirs, files in os.walk(path):
        rel = os.path.relpath(root, path)
        run = "" if rel == "." else rel.replace(os.sep, "/")
        for name in files:
            if "tfevents" in name:
                found.append(
                    ((run.split("/") if run else []) + [name], run, os.path.join(root, name))
                )
    found.sort(key=lambda f: f[0])
    return [(run, file) for _key, run, file in found]


@contextlib.contextmanager
def local_copy(url: str) -> Iterator[tuple[str, bool]]:
    """(a temporary local directory holding the event files under an fsspec URL, relative
    layout kept; whether the URL named one file), removed afterwards. Object stores cannot be
    mapped, so their files are fetched whole first."""
    fs, root = remote.fsspec_module().core.url_to_fs(url)
    with tempfile.TemporaryDirectory(prefix="xfast-read-") as tmp:
        is_file = bool(fs.isfile(root))
        if is_file:
            fs.get(root, os.path.join(tmp, os.path.basename(root)))
        else:
            for path in fs.find(root):
                if "tfevents" in os.path.basename(path):
                    rel = os.path.relpath(path, root)
                    os.makedirs(os.path.join(tmp, os.path.dirname(rel)), exist_ok=True)
                    fs.get(path, os.path.join(tmp, rel))
        yield tmp, is_file


def file_version_number(file_version: str) -> float:
    """TensorBoard's reading of Event.file_version ("brain.Event:2" -> 2.0; 0 when unknown)."""
    try:
        return float(file_version.rsplit(":", 1)[-1])
    except ValueError:
        return 0.0


def scan(
    files: Sequence[tuple[str, str]],
    *,
    kinds: int = KIND_ALL,
    tag_glob: str = "",
    tag_regex: str = "",
    purge_orphaned_data: Union[bool, str] = True,
    threads: int = 0,
    start_offsets: Optional[Sequence[int]] = None,
) -> list[FileData]:
    """Scans (run, path) files natively and returns one FileData each, in the same order.

    ``start_offsets`` resumes each file where an earlier scan ended (FileData.end_offset)."""
    if purge_orphaned_data not in (True, False, "run"):
        raise ValueError(
            f"purge_orphaned_data must be True, False or 'run': {purge_orphaned_data!r}"
        )
    offsets = list(start_offsets) if start_offsets is not None else [0] * len(files)
    raw = _core.scan_event_files(
        [(path, off) for (_run, path), off in zip(files, offsets)],
        tag_glob=tag_glob,
        tag_regex=tag_regex,
        kinds=kinds,
        threads=threads,
    )
    out = [_file_data(run, r, bool(purge_orphaned_data)) for (run, _path), r in zip(files, raw)]
    if purge_orphaned_data == "run":
        _purge_earlier_files(out)
    return out


def _purge_earlier_files(files: list[FileData]) -> None:
    """A restart in one file of a run also drops the values at or after its step that the run's
    earlier files hold."""
    for k, f in enumerate(files):
        for step in f.restarts:
            for earlier in files[:k]:
                if earlier.run == f.run:
                    _keep_before(earlier, step)


def _keep_before(f: FileData, step: int) -> None:
    for t in f.tags.values():
        t.scalars = _select_scalars(t.scalars, t.scalars.step < step)
        t.tensors = _select_scalars(t.tensors, t.tensors.step < step)
        t.histograms = _select_histograms(t.histograms, t.histograms.step < step)
        t.others = [o for o in t.others if o.step < step]


def scan_with_progress(
    files: Sequence[tuple[str, str]], progress: Callable[[int, int], None], **options: Any
) -> list[FileData]:
    """scan() a few files at a time (as many as there are cores), calling progress(bytes done,
    bytes total) after each batch."""
    across_files = options.get("purge_orphaned_data") == "run"
    if across_files:  # a run's files may fall in different batches: purged across at the end
        options = {**options, "purge_orphaned_data": True}
    sizes = [os.path.getsize(path) for _run, path in files]
    total, done = sum(sizes), 0
    batch = max(1, os.cpu_count() or 1)
    out: list[FileData] = []
    progress(0, total)
    for i in range(0, len(files), batch):
        out += scan(files[i : i + batch], **options)
        done += sum(sizes[i : i + batch])
        progress(done, total)
    if across_files:
        _purge_earlier_files(out)
    return out


def _scalars(cols: tuple[Any, Any, Any]) -> ScalarArrays:
    step, wall_time, value = cols
    return ScalarArrays(step, value, wall_time)


def _histograms(d: dict[str, Any]) -> HistogramArrays:
    if not d or len(d["step"]) == 0:
        return HistogramArrays(
            _EMPTY_I64,
            _EMPTY_F64,
            _EMPTY_F64,
            _EMPTY_F64,
            _EMPTY_F64,
            _EMPTY_F64,
            _EMPTY_F64,
            np.zeros(1, dtype=np.int64),
            _EMPTY_F64,
            _EMPTY_F64,
        )
    return HistogramArrays(
        d["step"],
        d["wall_time"],
        d["min"],
        d["max"],
        d["num"],
        d["sum"],
        d["sum_squares"],
        d["offset"],
        d["limits"],
        d["counts"],
    )


def _file_data(run: str, r: dict[str, Any], purge: bool) -> FileData:
    tags: dict[str, TagData] = {}
    for t in r["tags"]:
        if not t["selected"]:
            continue
        tags[t["name"]] = TagData(
            t["name"],
            t["plugin_name"],
            t["plugin_content"],
            _scalars(t["scalars"]),
            _scalars(t["tensors"]),
            _histograms(t["histograms"]),
            [],
        )
    others = r["others"]
    names = [t["name"] for t in r["tags"]]
    starts = r["starts"] if purge and file_version_number(r["file_version"]) >= 2 else []
    if starts:
        _purge(tags, names, starts)
    if len(others["offset"]):
        keep = _keep_mask(others["step"], [(int(o), s) for s, _c, o in starts])
        chosen = np.flatnonzero(keep) if keep is not None else None
        for tag_id, other in _parse_others(r["path"], others, chosen):
            if names[tag_id] in tags:
                tags[names[tag_id]].others.append(other)
    return FileData(
        r["path"],
        run,
        r["file_version"],
        r["records"],
        r["corrupt"],
        r["skipped_bytes"],
        r["truncated_bytes"],
        r["end_offset"],
        r["error"],
        tags,
        [s for s, _c, _o in starts],
    )


def _parse_others(
    path: str, others: dict[str, Any], chosen: Optional[npt.NDArray[np.intp]]
) -> Iterable[tuple[int, OtherValue]]:
    """Parses each event holding an undecoded value once and yields (tag id, value) in file
    order, for the values at the positions ``chosen`` (all when None)."""
    cols = [
        others[k] if chosen is None else others[k][chosen]
        for k in ("offset", "length", "value_index", "tag", "step", "wall_time")
    ]
    last_offset: int = -1
    event: Any = None
    with open(path, "rb") as f:
        for off, length, index, tag, step, wall in zip(*(c.tolist() for c in cols)):
            if off != last_offset:  # one event's values are next to each other
                f.seek(off)
                event = proto.Event.FromString(f.read(length))
                last_offset = off
            yield tag, OtherValue(step, wall, event.summary.value[index])


def _keep_mask(
    step: npt.NDArray[np.int64], cuts: list[tuple[int, int]]
) -> Optional[npt.NDArray[np.bool_]]:
    """Which values survive the restarts: value i read before a START at step s is dropped when
    its step >= s. cuts: (values read before the START, s). None when all survive."""
    keep: Optional[npt.NDArray[np.bool_]] = None
    for before, start_step in cuts:
        dropped = step[:before] >= start_step
        if before and dropped.any():
            if keep is None:
                keep = np.ones(len(step), dtype=bool)
            keep[:before] &= ~dropped
    return keep


def _purge(tags: dict[str, TagData], names: list[str], starts: list[Any]) -> None:
    for tag_id, name in enumerate(names):
        t = tags.get(name)
        if t is None:
            continue
        # starts: (step, counts of each tag's three series read before it, others before it)
        cuts = [
            [(int(c[3 * tag_id + k]) if 3 * tag_id + k < len(c) else 0, s) for s, c, _o in starts]
            for k in range(3)
        ]
        keep = _keep_mask(t.scalars.step, cuts[0])
        if keep is not None:
            t.scalars = _select_scalars(t.scalars, keep)
        keep = _keep_mask(t.tensors.step, cuts[1])
        if keep is not None:
            t.tensors = _select_scalars(t.tensors, keep)
        keep = _keep_mask(t.histograms.step, cuts[2])
        if keep is not None:
            t.histograms = _select_histograms(t.histograms, keep)


def _select_scalars(a: ScalarArrays, keep: npt.NDArray[np.bool_]) -> ScalarArrays:
    return ScalarArrays(a.step[keep], a.value[keep], a.wall_time[keep])


def _select_histograms(h: HistogramArrays, keep: npt.NDArray[np.bool_]) -> HistogramArrays:
    widths = np.diff(h.offsets)[keep]
    bucket_keep = np.repeat(keep, np.diff(h.offsets))
    return HistogramArrays(
        h.step[keep],
        h.wall_time[keep],
        h.min[keep],
        h.max[keep],
        h.num[keep],
        h.sum[keep],
        h.sum_squares[keep],
        np.concatenate([[0], np.cumsum(widths)]).astype(np.int64),
        h.limits[bucket_keep],
        h.counts[bucket_keep],
    )
