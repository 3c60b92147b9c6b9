# SPDX-License-Identifier: Apache-2.0
"""The model-wide ``SummaryWriter.add_histograms``: every tensor of a model (and its gradient) in
one call, host tensors through one native batch, device tensors through one computation per
device (xfast.device), DTensors through one cross-rank reduction (xfast.distributed)."""

from __future__ import annotations

import math
import time
from collections.abc import Iterable, Mapping
from typing import Any, Optional, Protocol, Union

import numpy as np

from xfast.device.histogram import histogram_device, to_pinned_host
from xfast.device.log import DeviceLog
from xfast.distributed.groups import is_silent
from xfast.distributed.sharded import HistogramStats, histogram_stats, is_dtensor
from xfast.encoding.convert import (
    check_strided,
    host_tensor_span,
    is_tensor,
    to_step,
    torch_module,
)
from xfast.encoding.histogram_rows import COL, NBINS, WIDTH, host_rows, write_rows

STATS = ("norm", "mean", "std", "min", "max", "zero_fraction", "nonfinite", "update_ratio")
# Need per-element data the cross-rank reduction does not carry (exact zeros, the update).
_LOCAL_ONLY_STATS = ("zero_fraction", "update_ratio")


class HistogramWriter(Protocol):
    """What add_histograms needs of the SummaryWriter it logs for (so it never imports it)."""

    _nonfinite_scalars: bool
    _device: Optional[DeviceLog]

    def _get_file_writer(self) -> Any: ...

    def _device_path(self) -> DeviceLog: ...

    def _report_nonfinite(self, tag: str, info: dict[str, Any], nonfinite: int) -> None: ...


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


def _stats_row(hs: HistogramStats) -> np.ndarray:
    """A cross-rank HistogramStats as a packed row (see xfast.encoding.histogram_rows)."""
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


def _named(named_tensors: Any) -> Iterable[tuple[str, Any]]:
    """(name, tensor) pairs from pairs, a mapping of names to tensors (``state_dict()``,
    ``dict(model.named_parameters())``) or an ``nn.Module`` (its ``named_parameters()``)."""
    if isinstance(named_tensors, Mapping):
        return named_tensors.items()
    torch = torch_module()
    if torch is not None and isinstance(named_tensors, torch.nn.Module):
        params: Iterable[tuple[str, Any]] = named_tensors.named_parameters()
        return params
    pairs: Iterable[tuple[str, Any]] = named_tensors
    return pairs


def _plain_host_batch(
    pairs: list[tuple[str, Any]], grads: bool, param_prefix: str, grad_prefix: str
) -> Optional[tuple[list[str], list[tuple[int, int, int]]]]:
    """(tags, spans) when every tensor (and gradient) is one the kernel reads in place: a plain,
    contiguous, non-empty CPU tensor (the usual model on the CPU); None when any is not, and
    the general path takes the call. A span needs no other check (strided, not a DTensor, on
    the CPU), so each tensor costs one host_tensor_span."""
    tags: list[str] = []
    spans: list[tuple[int, int, int]] = []
    for name, t in pairs:
        g = getattr(t, "grad", None) if grads else None
        for prefix, x in ((param_prefix, t), (grad_prefix, g)):
            if x is not None:
                span = host_tensor_span(x)
                if span is None:
                    return None
                tags.append(prefix + name)
                spans.append(span)
    return tags, spans


def _add_plain_host_batch(
    writer: HistogramWriter,
    tags: list[str],
    spans: list[tuple[int, int, int]],
    global_step: Any,
    walltime: Optional[float],
    max_bins: Optional[int],
) -> None:
    """The common call's path: one native call counts every tensor and queues its event (the
    small ones on this thread, the large ones in one pool dispatch). Packed rows cost a small
    tensor a 12 KiB row allocated, cleared, then scanned again to trim it; on the GPT-2-shaped
    model's 196 small tensors this path takes ~2.0 us a tensor against ~3.2 (docs/histograms.md).
    """
    fw = writer._get_file_writer()
    tids = [fw._tag_id(tag) for tag in tags]
    notes = fw._engine.add_histograms_at(tids, spans, to_step(global_step), walltime, max_bins)
    for i, nan, pos_inf, neg_inf, written in notes:
        info = {"nan": nan, "pos_inf": pos_inf, "neg_inf": neg_inf, "written": written}
        writer._report_nonfinite(tags[i], info, nan + pos_inf + neg_inf)


def add_histograms(
    writer: HistogramWriter,
    named_tensors: Any,
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
    pairs = list(_named(named_tensors))
    if not stats and not prev_map and not writer._nonfinite_scalars:
        plain = _plain_host_batch(pairs, grads, param_prefix, grad_prefix)
        log = writer._device
        if plain is not None and not (log is not None and any(map(log.queue.pending, plain[0]))):
            if log is not None:
                log.report_notes()
            if plain[0] and not is_silent(writer):
                _add_plain_host_batch(writer, *plain, global_step, walltime, max_bins)
            return
    items: list[_Item] = []
    # Per tensor, this loop is most of add_histograms' Python cost on small tensors: torch is
    # looked up once and prev only when some were given.
    torch = torch_module()
    tensor_type = torch.Tensor if torch is not None else ()
    for name, t in pairs:
        if t is not None:
            if not isinstance(t, tensor_type):
                raise TypeError(
                    f"add_histograms takes (name, tensor) pairs; {name!r} is a {type(t).__name__}"
                )
            check_strided(t)
            if t.numel() > 0:
                prev_t = _checked_prev(name, t, prev_map.get(name)) if prev_map else None
                items.append(_Item(param_prefix + name, t, prev_t))
        g = getattr(t, "grad", None) if grads else None
        if g is not None:
            check_strided(g)
            if g.numel() > 0:
                items.append(_Item(grad_prefix + name, g, None))
    # DTensors (FSDP2 parameters and their grads) are histogrammed whole through one batched
    # cross-rank reduction, on every rank; plain tensors are this rank's own and only writing
    # ranks log them.
    sharded = [it for it in items if is_dtensor(it.tensor)]
    if sharded:
        items = [it for it in items if not is_dtensor(it.tensor)]
        local_only = [s for s in stats if s in _LOCAL_ONLY_STATS]
        if local_only:
            raise ValueError(f"stats {local_only} are not available for sharded (DTensor) tensors")
        results = histogram_stats([it.tensor for it in sharded])
    if is_silent(writer) or not (items or sharded):
        return
    fw = writer._get_file_writer()
    step = to_step(global_step)
    wall = time.time() if walltime is None else walltime
    want_zeros = "zero_fraction" in stats
    log = writer._device
    if log is not None:
        log.report_notes()

    def write_all(group: list[_Item], rows: Any, queued: Optional[DeviceLog] = None) -> None:
        """Writes a group's histograms and stats scalars. On the caller's thread (`queued`
        None) warnings are issued at once; on the queue's thread `queued` keeps them for the
        caller's next call."""
        rows = np.ascontiguousarray(rows, dtype=np.float64)
        tags = [it.tag for it in group]
        if queued is not None:
            queued.write_rows(fw, tags, rows, step, wall, max_bins)
        else:
            for note in write_rows(fw, tags, rows, step, wall, max_bins,
                                   writer._nonfinite_scalars):
                writer._report_nonfinite(*note)
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
    for it in items:
        t = it.tensor
        # is_device_tensor, inlined: this loop runs once per parameter and gradient per call
        # (is_cpu first: building t.device costs ~1 us, as much as counting a bias).
        if isinstance(t, tensor_type) and not t.is_cpu:
            by_device.setdefault(t.device, []).append(it)
        else:
            host_items.append(it)
    for group in by_device.values():
        result = histogram_device([it.tensor for it in group], [it.prev for it in group])
        host, event = to_pinned_host(torch, result)
        log = writer._device_path()

        def write_group(g: list[_Item] = group, h: Any = host, lg: DeviceLog = log) -> None:
            write_all(g, h.numpy(), lg)

        log.queue.submit(event, write_group, tuple(it.tag for it in group))
    if host_items:
        rows = host_rows([it.tensor for it in host_items], [it.prev for it in host_items],
                         want_zeros)
        if log is not None and any(log.queue.pending(it.tag) for it in host_items):
            queued = log
            log.queue.submit(None, lambda: write_all(host_items, rows, queued),
                             tuple(it.tag for it in host_items))
        else:
            write_all(host_items, rows)
