# SPDX-License-Identifier: Apache-2.0
"""Histograms of sharded tensors: per-shard counts over the fixed default edges, summed."""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Optional

import numpy as np

from xfast import _core
from xfast.distributed.groups import collective_device, is_silent, process_group
from xfast.encoding.convert import histogram_buffer, to_step
from xfast.encoding.histogram_rows import NBINS, default_edges

# Layout of a tensor's row in the SUM collective: the bin counts, then these totals. Counts stay
# exact in float64 up to 2**53 elements.
_FINITE, _NAN, _POS_INF, _NEG_INF, _NUMEL, _SUM, _SUM_SQUARES = range(NBINS, NBINS + 7)
_ROW = NBINS + 7


@dataclass
class HistogramStats:
    """A default-bins histogram of a whole (possibly sharded) tensor, as every rank sees it.

    ``counts`` holds one count per default bin (``xfast._core.default_edges()``); ``min``,
    ``max``, ``sum`` and ``sum_squares`` cover the finite values (``num`` of them; min and
    max are +inf/-inf when there is none); NaN and +-inf are only counted. ``numel`` is the
    element count of the whole tensor.
    """

    counts: np.ndarray
    min: float
    max: float
    num: int
    sum: float
    sum_squares: float
    nan: int
    pos_inf: int
    neg_inf: int
    numel: int


# Per type: add_histograms asks for every parameter and gradient each step, and walking the
# MRO took 0.3 us a tensor.
_DTENSOR_TYPES: dict[type, bool] = {}


def is_dtensor(value: Any) -> bool:
    """Whether `value` is a torch DTensor (FSDP2 parameters and gradients are), without
    importing torch.distributed."""
    cls = type(value)
    hit = _DTENSOR_TYPES.get(cls)
    if hit is None:
        hit = _DTENSOR_TYPES[cls] = any(
            c.__name__ == "DTensor" and c.__module__.startswith("torch.distributed")
            for c in cls.__mro__
        )
    return hit


def wants_sharded(values: Any, sharded: Optional[bool]) -> bool:
    """add_histogram's choice: explicit ``sharded``, else sharded exactly for DTensors."""
    return bool(sharded) if sharded is not None else is_dtensor(values)


def _local_and_groups(value: Any, group: Any) -> tuple[Any, tuple[Any, ...]]:
    """The part of `value` this rank counts and the process groups its counts are summed over.

    A DTensor is summed over the mesh dimensions it is sharded on, and not over those it is
    replicated on (HSDP's replicas would otherwise count twice). Partial placements are first
    reduced to replicated values (an all_reduce of the local shard, never a gather).
    """
    if not is_dtensor(value):
        return value, (group,)
    from torch.distributed.tensor import Replicate

    value = value.detach()
    if any(p.is_partial() for p in value.placements):
        value = value.redistribute(
            value.device_mesh, [Replicate() if p.is_partial() else p for p in value.placements]
        )
    mesh = value.device_mesh
    groups = tuple(mesh.get_group(i) for i, p in enumerate(value.placements) if p.is_shard())
    return value.to_local(), groups


def _local_row(local: Any) -> tuple[np.ndarray, np.ndarray]:
    """This rank's SUM row and its [max, -min] pair (one MAX collective gives both)."""
    row = np.zeros(_ROW, dtype=np.float64)
    extremes = np.array([-np.inf, -np.inf])
    data, code = histogram_buffer(local)
    row[_NUMEL] = data.size
    if data.size:
        acc = _core.histogram_accumulate(data, code)
        row[:NBINS] = acc["counts"]
        row[_FINITE] = acc["finite"]
        row[_NAN] = acc["nan"]
        row[_POS_INF] = acc["pos_inf"]
        row[_NEG_INF] = acc["neg_inf"]
        row[_SUM] = acc["sum"]
        row[_SUM_SQUARES] = acc["sum_squares"]
        if acc["finite"]:
            extremes[:] = (acc["max"], -acc["min"])
    return row, extremes


def _all_reduce(dist: Any, array: np.ndarray, op: Any, groups: tuple[Any, ...]) -> np.ndarray:
    import torch

    for g in groups:
        t = torch.from_numpy(array)
        device = collective_device(dist, g)
        if device != "cpu":
            t = t.to(device)
        dist.all_reduce(t, op=op, group=g)
        array = t.cpu().numpy() if device != "cpu" else array
    return array


def histogram_stats(tensors: Sequence[Any], group: Any = None) -> list[HistogramStats]:
    """Default-bins histograms of sharded tensors, equal bucket for bucket to those of the
    whole tensors, without gathering them. Collective.

    Each rank counts its own part (a DTensor's local shard, or a plain tensor/array taken as
    this rank's shard of one tensor spread over `group`) against the fixed default edges; the
    counts, element totals and moments are then summed, and min/max reduced, with two
    all_reduce calls per distinct set of process groups, however many tensors are passed.
    Every rank of those groups must call this with the same number of tensors, in the same
    order (a rank may hold 0 elements of a tensor). Outside a process group each tensor is
    simply histogrammed whole. Device tensors are copied to the host (the kernel runs there).

    Args:
        tensors: DTensors, torch tensors, numpy arrays or sequences of numbers.
        group: The process group plain tensors are sharded over (default: the whole world).
            DTensors use their own device mesh.

    Returns:
        One HistogramStats per tensor, on every rank.
    """
    dist = process_group()
    locals_: list[Any] = []
    keys: dict[tuple[int, ...], list[int]] = {}
    groups_of: dict[tuple[int, ...], tuple[Any, ...]] = {}
    for i, value in enumerate(tensors):
        local, groups = _local_and_groups(value, group) if dist is not None else (value, ())
        locals_.append(local)
        key = tuple(id(g) for g in groups)
        keys.setdefault(key, []).append(i)
        groups_of[key] = groups
    out: list[Optional[HistogramStats]] = [None] * len(locals_)
    for key, indices in keys.items():
        pairs = [_local_row(locals_[i]) for i in indices]
        rows = np.stack([p[0] for p in pairs])
        extremes = np.stack([p[1] for p in pairs])
        if dist is not None and groups_of[key]:
            rows = _all_reduce(dist, rows, dist.ReduceOp.SUM, groups_of[key])
            extremes = _all_reduce(dist, extremes, dist.ReduceOp.MAX, groups_of[key])
        for row, ext, i in zip(rows, extremes, indices):
            out[i] = HistogramStats(
                counts=row[:NBINS].copy(), min=float(-ext[1]), max=float(ext[0]),
                num=int(row[_FINITE]), sum=float(row[_SUM]), sum_squares=float(row[_SUM_SQUARES]),
                nan=int(row[_NAN]), pos_inf=int(row[_POS_INF]), neg_inf=int(row[_NEG_INF]),
                numel=int(row[_NUMEL]),
            )
    return [s for s in out if s is not None]


def write_histogram_stats(
    writer: Any,
    tag: str,
    stats: HistogramStats,
    global_step: Any = None,
    walltime: Optional[float] = None,
    max_bins: Optional[int] = None,
) -> None:
    """Writes a HistogramStats as add_histogram would have written the whole tensor (same
    trimming, ``max_bins`` grouping, NaN/inf warning). Does nothing on a non-writing rank.

    Raises:
        ValueError: the whole tensor has no element.
    """
    if stats.numel == 0:
        raise ValueError("The input has no element.")
    if is_silent(writer):
        return
    fw = writer._get_file_writer()
    tid = fw._tag_id(tag)
    wall = time.time() if walltime is None else walltime
    written = stats.num > 0 and fw._engine.add_histogram_counts(
        tid, stats.counts, default_edges(), stats.min, stats.max, float(stats.num),
        stats.sum, stats.sum_squares, to_step(global_step), wall, max_bins,
    )
    nonfinite = stats.nan + stats.pos_inf + stats.neg_inf
    if nonfinite or not written:
        info = {"nan": stats.nan, "pos_inf": stats.pos_inf, "neg_inf": stats.neg_inf,
                "written": written}
        writer._report_nonfinite(tag, info, nonfinite)


def add_sharded_histogram(
    writer: Any,
    tag: str,
    values: Any,
    global_step: Any,
    bins: Any,
    walltime: Optional[float],
    max_bins: Optional[int],
) -> None:
    """add_histogram's sharded path: histogram_stats over the default group, then the write."""
    if not (isinstance(bins, str) and bins == "tensorflow"):
        raise ValueError("sharded histograms use the default bins ('tensorflow') only")
    if max_bins is not None:
        max_bins = int(max_bins)
        if max_bins <= 0:
            raise ValueError(f"max_bins must be positive, got {max_bins}")
    wall = time.time() if walltime is None else walltime
    (stats,) = histogram_stats([values])
    write_histogram_stats(writer, tag, stats, global_step, wall, max_bins)
