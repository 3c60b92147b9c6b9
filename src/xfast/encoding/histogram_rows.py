# SPDX-License-Identifier: Apache-2.0
"""The packed histogram row: one tensor's default-bins counts and moments as float64, the layout
``_core.histogram_rows`` fills on the host, the device kernels fill on the GPU and
``_core``'s ``add_histogram_rows`` writes as events."""

from __future__ import annotations

import functools
from collections.abc import Sequence
from typing import Any, Optional

import numpy as np

from xfast import _core
from xfast.encoding.convert import histogram_buffer, host_tensor_span

NBINS = 1548
# Packed result row: NBINS bin counts, then these columns (all float64).
MOMENTS = ("min", "max", "sum", "sum_squares", "finite", "nan", "pos_inf", "neg_inf", "zeros",
           "update_sum_squares")
WIDTH = NBINS + len(MOMENTS)
COL = {name: NBINS + i for i, name in enumerate(MOMENTS)}

# The columns after those histogram_rows writes (zeros, update_sum_squares).
_EXTRA_COLS = slice(COL["zeros"], WIDTH)
assert MOMENTS[8:] == ("zeros", "update_sum_squares")
# A slice (a view) rather than a column list (a copy): nan, pos_inf, neg_inf are adjacent.
_NONFINITE_COLS = slice(COL["nan"], COL["neg_inf"] + 1)
assert (COL["pos_inf"], COL["neg_inf"]) == (COL["nan"] + 1, COL["nan"] + 2)

# (tag, {"nan", "pos_inf", "neg_inf", "written"}, non-finite count): a histogram whose
# non-finite values, or whose not being written, the writer warns about.
Note = tuple[str, dict[str, Any], int]


@functools.cache
def default_edges() -> np.ndarray:
    """The default bins' edges as float64 (``_core.default_edges()``, converted once)."""
    return np.asarray(_core.default_edges(), dtype=np.float64)


def host_rows(tensors: Sequence[Any], prevs: Sequence[Any], want_zeros: bool) -> np.ndarray:
    """Packed rows of host tensors (one per tensor, 2D): one native batch call (one pool
    dispatch for all) fills the counts and moments; numpy adds the optional extras (the
    ``zeros`` column when `want_zeros`, ``update_sum_squares`` where a previous value is given).
    """
    extras = want_zeros or any(p is not None for p in prevs)
    buffers = [histogram_buffer(t) for t in tensors] if extras else []
    # Without extras (which need the numpy views), plain CPU tensors are read in place by
    # address (see host_tensor_span).
    batch: list[Any] = list(buffers) or [host_tensor_span(t) or histogram_buffer(t)
                                         for t in tensors]
    # histogram_rows writes every column up to the moments (zeroing the counts itself, then
    # adding only the bins a tensor's values span); np.zeros would clear each 12 KiB row first.
    rows = np.empty((len(batch), WIDTH), dtype=np.float64)
    rows[:, _EXTRA_COLS] = 0.0
    _core.histogram_rows(batch, rows)
    if extras:
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


def write_rows(
    fw: Any, tags: Sequence[str], rows: np.ndarray, step: int, wall: float,
    max_bins: Optional[int], nonfinite_scalars: bool,
) -> list[Note]:
    """Writes packed rows (C-contiguous float64) to FileWriter `fw` as histogram events, one
    engine call for all of them, plus ``<tag>/nonfinite`` scalars when `nonfinite_scalars`.
    Returns the notes of rows with non-finite values or left unwritten. Any thread."""
    tids = [fw._tag_id(tag) for tag in tags]
    written = fw._engine.add_histogram_rows(tids, rows, default_edges(), step, wall, max_bins)
    nonfinite = rows[:, _NONFINITE_COLS].sum(axis=1)
    notes: list[Note] = []
    if nonfinite.any() or not written.all():
        for i in np.flatnonzero((nonfinite > 0) | ~written):
            nan, pos_inf, neg_inf = (int(v) for v in rows[i, _NONFINITE_COLS])
            info = {"nan": nan, "pos_inf": pos_inf, "neg_inf": neg_inf,
                    "written": bool(written[i])}
            notes.append((tags[int(i)], info, int(nonfinite[i])))
    if nonfinite_scalars:
        for tag, count in zip(tags, nonfinite.tolist()):
            fw._engine.add_scalar(fw._tag_id(tag + "/nonfinite"), count, step, wall, 0)
    return notes
