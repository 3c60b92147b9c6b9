# SPDX-License-Identifier: Apache-2.0
"""Logging device tensors without host syncs, and the model-wide add_histograms call."""

from __future__ import annotations

import math
import time
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any, Callable, Optional, Union

import numpy as np

from xfast import _core, _dist, _sharded
from xfast._completion import CompletionQueue
from xfast._convert import check_strided, histogram_buffer, is_tensor, to_step, torch_module
from xfast._gpu_histogram import COL, NBINS, WIDTH, histogram_device, to_pinned_host

if TYPE_CHECKING:
    from xfast.file_writer import FileWriter
    from xfast.writer import SummaryWriter

STATS = ("norm", "mean", "std", "min", "max", "zero_fraction", "nonfinite", "update_ratio")
# Need per-element data the cross-rank reduction does not carry (exact zeros, the update).
_LOCAL_ONLY_STATS = ("zero_fraction", "update_ratio")

_EDGES: Optional[np.ndarray] = None
# A slice (a view) rather than a column list (a copy): nan, pos_inf, neg_inf are adjacent.
_NONFINITE_COLS = slice(COL["nan"], COL["neg_inf"] + 1)
assert (COL["pos_inf"], COL["neg_inf"]) == (COL["nan"] + 1, COL["nan"] + 2)


def _edges() -> np.ndarray:
    global _EDGES
    if _EDGES is None:
        _EDGES = np.asarray(_core.default_edges(), dtype=np.float64)
    return _EDGES


def completion_queue(writer: SummaryWriter) -> CompletionQueue:
    """The writer's completion queue, created on first use."""
    q: Optional[CompletionQueue] = writer.__dict__.get("_completion")
    if q is None:
        q = writer.__dict__["_completion"] = CompletionQueue()
    return q


def is_device_tensor(value: Any) -> bool:
    """True for a torch tensor that does not live in host memory (CUDA, ...)."""
    torch = torch_module()
    return torch is not None and isinstance(value, torch.Tensor) and value.device.type != "cpu"


def write_rows(
    writer: SummaryWriter, fw: FileWriter, tags: list[str], rows: np.ndarray, step: int,
    wall: float, max_bins: Optional[int],
) -> None:
    """Writes packed result rows (see _gpu_histogram; C-contiguous float64) as histogram events,
    one engine call for all of them, and notes non-finite values and unwritten histograms for
    report_deferred. Any thread."""
    tids = [fw._tag_id(tag) for tag in tags]
    written = fw._engine.add_histogram_rows(tids, rows, _edges(), step, wall, max_bins)
    nonfinite = rows[:, _NONFINITE_COLS].sum(axis=1)
    if nonfinite.any() or not written.all():
        for i in np.flatnonzero((nonfinite > 0) | ~written):
            nan, pos_inf, neg_inf = (int(v) for v in rows[i, _NONFINITE_COLS])
            info = {"nan": nan, "pos_inf": pos_inf, "neg_inf": neg_inf,
                    "written": bool(written[i])}
            deferred = writer.__dict__.setdefault("_deferred_nonfinite", [])
            deferred.append((tags[i], info, int(nonfinite[i])))
    if writer.__dict__.get("_nonfinite_scalars"):
        for tag, count in zip(tags, nonfinite.tolist()):
            fw._engine.add_scalar(fw._tag_id(tag + "/nonfinite"), count, step, wall, 0)


def report_deferred(writer: SummaryWriter) -> None:
    """Issues, on the caller's thread, the non-finite warnings noted by the queue thread."""
    pending = writer.__dict__.get("_deferred_nonfinite")
    while pending:
        tag, info, nonfinite = pending.pop(0)
        writer._report_nonfinite(tag, info, nonfinite)


def wait_pending(writer: SummaryWriter, stop: bool = False) -> Optional[BaseException]:
    """flush()/close(): waits for queued device results and reports their warnings. Returns
    (rather than raises) an error a queued write hit, so close() can close its files first;
    ``stop`` also ends the queue's thread."""
    q: Optional[CompletionQueue] = writer.__dict__.get("_completion")
    error: Optional[BaseException] = None
    if q is not None:
        try:
            q.wait()
        except Exception as e:
            error = e
        if stop:
            q.stop()
    report_deferred(writer)
    return error


def add_histogram_device(
    writer: SummaryWriter, tag: str, values: Any, global_step: Any, walltime: Optional[float],
    max_bins: Optional[int],
) -> None:
    """add_histogram for a device tensor: queue the kernels, start the result's copy, return."""
    torch = torch_module()
    fw = writer._get_file_writer()
    fw._tag_id(tag)  # a bad tag raises here, on the caller's thread
    step = to_step(global_step)
    wall = time.time() if walltime is None else walltime
    check_strided(values)
    if values.numel() == 0:
        raise ValueError("The input has no element.")
    if values.is_complex():
        raise TypeError(f"add_histogram does not take complex tensors (got {values.dtype})")
    host, event = to_pinned_host(torch, histogram_device([values]))
    report_deferred(writer)

    def write() -> None:
        write_rows(writer, fw, [tag], host.numpy(), step, wall, max_bins)

    completion_queue(writer).submit(event, write, (tag,))


def add_scalar_device(
    writer: SummaryWriter, tag: str, value: Any, global_step: Any, walltime: Optional[float],
    style: int,
) -> None:
    """add_scalar for a one-element device tensor: a non-blocking copy and a queued write."""
    torch = torch_module()
    if value.numel() != 1:
        raise ValueError(
            "scalar_value must hold exactly one element, "
            f"got a tensor of shape {tuple(value.shape)}"
        )
    fw = writer._get_file_writer()
    tid = fw._tag_id(tag)
    step = to_step(global_step)
    wall = time.time() if walltime is None else walltime
    host, event = to_pinned_host(torch, value.detach().reshape(1).to(torch.float64))

    def write() -> None:
        fw._engine.add_scalar(tid, float(host[0]), step, wall, style)

    completion_queue(writer).submit(event, write, (tag,))


def defer_if_pending(writer: SummaryWriter, tag: str, write: Callable[[], None]) -> bool:
    """Routes a host-side write behind the tag's queued device results; False if none."""
    q: Optional[CompletionQueue] = writer.__dict__.get("_completion")
    if q is None or not q.pending(tag):
        return False
    q.defer(tag, write)
    return True


def _host_rows(tensors: list[Any], prevs: list[Any], want_zeros: bool) -> np.ndarray:
    """Packed rows of host tensors (one per tensor, 2D): one native batch call (one pool
    dispatch for all) fills the counts and moments; numpy adds the optional extras."""
    buffers = [histogram_buffer(t) for t in tensors]
    rows = np.zeros((len(buffers), WIDTH), dtype=np.float64)
    _core.histogram_rows(buffers, rows)
    if want_zeros or any(p is not None for p in prevs):
        for row, t, prev, (data, code) in zip(rows, tensors, prevs, buffers):
            if want_zeros:
                row[COL["zeros"]] = np.count_nonzero(data == 0) if code != 3 else np.count_nonzero(
                    (data.view(np.uint16) & 0x7FFF) == 0
                )
            if prev is not None:
                a = t.detach().double().reshape(-1)
                d = a - prev.detach().double().reshape(-1).to(a.device)
                d = d[a.isfinite()]
                row[COL["update_sum_squares"]] = float(d.dot(d))
    return rows


def add_histogram_deferred(
    writer: SummaryWriter, tag: str, values: Any, global_step: Any, walltime: Optional[float],
    max_bins: Optional[int],
) -> None:
    """add_histogram of host values for a tag with device results in flight: counted now (the
    values may change after the call), written behind them."""
    if np.size(values) == 0 if not hasattr(values, "numel") else values.numel() == 0:
        raise ValueError("The input has no element.")
    rows = _host_rows([values], [None], False)
    fw = writer._get_file_writer()
    step = to_step(global_step)
    wall = time.time() if walltime is None else walltime
    completion_queue(writer).defer(
        tag, lambda: write_rows(writer, fw, [tag], rows, step, wall, max_bins)
    )


def _stat(name: str, row: np.ndarray) -> float:
    n = row[COL["finite"]]
    s, q = row[COL["sum"]], row[COL["sum_squares"]]
    if name == "norm":
        return math.sqrt(q)
    if name == "mean":
        return s / n if n else math.nan
    if name == "std":  # unbiased, as torch.std
        return math.sqrt(max(q - s * s / n, 0.0) / (n - 1)) if n > 1 else math.nan
    if name == "min":
        return row[COL["min"]] if n else math.nan
    if name == "max":
        return row[COL["max"]] if n else math.nan
    if name == "zero_fraction":
        total = n + row[COL["nan"]] + row[COL["pos_inf"]] + row[COL["neg_inf"]]
        return float(row[COL["zeros"]] / total) if total else math.nan
    if name == "nonfinite":
        return float(row[COL["nan"]] + row[COL["pos_inf"]] + row[COL["neg_inf"]])
    if name == "update_ratio":
        return math.sqrt(row[COL["update_sum_squares"]]) / math.sqrt(q) if q else math.nan
    raise ValueError(f"unknown stat {name!r}; choose from {STATS}")


def _stats_row(hs: _sharded.HistogramStats) -> np.ndarray:
    """A cross-rank HistogramStats as a packed result row (see _gpu_histogram)."""
    row = np.zeros(WIDTH)
    row[:NBINS] = hs.counts
    for name in ("min", "max", "sum", "sum_squares", "nan", "pos_inf", "neg_inf"):
        row[COL[name]] = getattr(hs, name)
    row[COL["finite"]] = hs.num
    return row


class _Item:
    """One tensor to log: its histogram tag, the stats' tag prefix and the optional previous."""

    __slots__ = ("tag", "tensor", "prev")

    def __init__(self, tag: str, tensor: Any, prev: Any) -> None:
        self.tag, self.tensor, self.prev = tag, tensor, prev


def _checked_prev(name: str, t: Any, prev: Any) -> Any:
    """`prev` for parameter `t`, checked at the call (the update is computed elementwise)."""
    if prev is None:
        return None
    if not is_tensor(prev):
        raise TypeError(f"prev[{name!r}] must be a tensor, got {type(prev).__name__}")
    if prev.numel() != t.numel():
        raise ValueError(
            f"prev[{name!r}] has {prev.numel()} elements, the parameter {t.numel()}"
        )
    return prev


def add_histograms(
    writer: SummaryWriter,
    named_tensors: Iterable[tuple[str, Any]],
    global_step: Any,
    grads: bool,
    stats: Iterable[str],
    prev: Optional[Union[dict[str, Any], Iterable[tuple[str, Any]]]],
    param_prefix: str,
    grad_prefix: str,
    walltime: Optional[float],
    max_bins: Optional[int],
) -> None:
    """SummaryWriter.add_histograms (see its docstring)."""
    stats = tuple(stats)
    for s in stats:
        if s not in STATS:
            raise ValueError(f"unknown stat {s!r}; choose from {STATS}")
    prev_map = dict(prev) if prev is not None else {}
    if "update_ratio" in stats and prev is None:
        raise ValueError("stats 'update_ratio' needs prev= (the previous step's parameters)")
    items: list[_Item] = []
    for name, t in named_tensors:
        if t is not None:
            if not is_tensor(t):
                raise TypeError(
                    f"add_histograms takes (name, tensor) pairs; {name!r} is a {type(t).__name__}"
                )
            check_strided(t)
            if t.numel() > 0:
                prev_t = _checked_prev(name, t, prev_map.get(name))
                items.append(_Item(param_prefix + name, t, prev_t))
        g = getattr(t, "grad", None) if grads else None
        if g is not None:
            check_strided(g)
            if g.numel() > 0:
                items.append(_Item(grad_prefix + name, g, None))
    # DTensors (FSDP2 parameters and their grads) are histogrammed whole through one batched
    # cross-rank reduction, on every rank; plain tensors are this rank's own and only writing
    # ranks log them.
    sharded = [it for it in items if _sharded.is_dtensor(it.tensor)]
    if sharded:
        items = [it for it in items if not _sharded.is_dtensor(it.tensor)]
        local_only = [s for s in stats if s in _LOCAL_ONLY_STATS]
        if local_only:
            raise ValueError(f"stats {local_only} are not available for sharded (DTensor) tensors")
        results = _sharded.histogram_stats([it.tensor for it in sharded])
    silent = isinstance(writer, _dist.SilentRank)
    if silent or not (items or sharded):
        return
    fw = writer._get_file_writer()
    step = to_step(global_step)
    wall = time.time() if walltime is None else walltime
    want_zeros = "zero_fraction" in stats
    report_deferred(writer)

    def write_all(group: list[_Item], rows: Any) -> None:
        rows = np.ascontiguousarray(rows, dtype=np.float64)
        write_rows(writer, fw, [it.tag for it in group], rows, step, wall, max_bins)
        if not stats:
            return
        for it, row in zip(group, rows):
            for s in stats:
                if s == "update_ratio" and it.prev is None:
                    continue
                if s == "nonfinite" and writer._nonfinite_scalars:
                    continue  # write_rows already wrote <tag>/nonfinite
                fw._engine.add_scalar(fw._tag_id(f"{it.tag}/{s}"), _stat(s, row), step, wall, 0)

    if sharded:
        write_all(sharded, [_stats_row(r) for r in results])

    # Device tensors: one batched computation and one small copy per device (no host sync).
    by_device: dict[Any, list[_Item]] = {}
    host_items: list[_Item] = []
    torch = torch_module()
    tensor_type = torch.Tensor if torch is not None else ()
    for it in items:
        t = it.tensor
        # is_device_tensor, inlined: this loop runs once per parameter and gradient per call.
        device = t.device if isinstance(t, tensor_type) else None
        if device is not None and device.type != "cpu":
            by_device.setdefault(device, []).append(it)
        else:
            host_items.append(it)
    q: Optional[CompletionQueue] = writer.__dict__.get("_completion")
    for group in by_device.values():
        result = histogram_device([it.tensor for it in group], [it.prev for it in group])
        host, event = to_pinned_host(torch, result)

        def write_group(g: list[_Item] = group, h: Any = host) -> None:
            write_all(g, h.numpy())

        q = completion_queue(writer)
        q.submit(event, write_group, tuple(it.tag for it in group))
    if host_items:
        rows = _host_rows([it.tensor for it in host_items], [it.prev for it in host_items],
                          want_zeros)
        if q is not None and any(q.pending(it.tag) for it in host_items):
            q.submit(None, lambda: write_all(host_items, rows), tuple(it.tag for it in host_items))
        else:
            write_all(host_items, rows)
            report_deferred(writer)  # host tensors' warnings belong to this call, not the next
