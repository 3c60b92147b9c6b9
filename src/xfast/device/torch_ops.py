# SPDX-License-Identifier: Apache-2.0
"""The default-bins histogram as torch ops on the tensor's own device, with no host sync: the
backend for every dtype and device, and the reference the fused kernels are tested against.

Method (the native kernel's, csrc/histogram.h ``default_slot_table``): a float32's ``bits >> 15``
indexes a 131072-entry slot table, and one compare against a threshold table finishes the exact
bucket; counts go into a fixed-size tensor with ``index_add_``. ``torch.bincount`` and
``torch.histc`` are not used: on CUDA both read data-dependent sizes or ranges back to the host
(a sync). Their cost is ~20 kernel launches and several passes per chunk.

Temporaries are bounded: tensors are processed in chunks of ``chunk_elements()`` elements
(about 64 bytes of temporaries per element, so <= 64 MiB), plus O(buckets) accumulators.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Optional

import numpy as np

from xfast import _core
from xfast.device.common import per_stream, upload
from xfast.encoding.histogram_rows import NBINS, default_edges

_SLOTS = NBINS + 2  # 0: below the first edge, 1 + i: bin i, NBINS + 1: above the last edge
_TEMP_BYTES_PER_ELEMENT = 64
_TEMP_BUDGET_BYTES = 64 << 20


def chunk_elements() -> int:
    """Elements per chunk so that one chunk's temporaries stay within 64 MiB."""
    return _TEMP_BUDGET_BYTES // _TEMP_BYTES_PER_ELEMENT


def _device_tables(torch: Any, device: Any) -> tuple[Any, Any, Any]:
    """(slot table int32, float32 thresholds, float64 edges) on ``device``, uploaded once per
    stream."""

    def make() -> tuple[Any, ...]:
        slots, thr = _core.default_slot_table()
        return tuple(upload(torch, device, torch.from_numpy(a))
                     for a in (slots.astype(np.int32), thr, default_edges()))

    return per_stream(torch, device, "torch ops", make)  # type: ignore[no-any-return]


def _slots_of_chunk(torch: Any, x: Any, tables: tuple[Any, Any, Any]) -> tuple[Any, Any]:
    """(slot index int32/int64 per element, the chunk as a float tensor for the moments)."""
    slots, thr, edges = tables
    if x.dtype in (torch.float32, torch.bfloat16, torch.float16):
        # float16 and bfloat16 widen exactly to float32; bfloat16 is never narrowed to float16.
        xf = x if x.dtype == torch.float32 else x.float()
        idx = (xf.view(torch.int32) >> 15) & 0x1FFFF
        s = slots[idx]
        # NaN and +-inf land in slots NBINS + 1 / NBINS + 2 (never counted as bins).
        s = s + (xf >= thr[s]).to(torch.int32)
        return s, xf
    # float64 and integers: numpy's astype(float64), then an exact search over the edges
    # (right=True gives 1 + the bin's index, i.e. the slot); the last bin is closed.
    xf = x.to(torch.float64)
    s = torch.bucketize(xf, edges, right=True)
    s = s - (xf == edges[-1]).to(s.dtype)
    return s, xf


def histogram_torch(
    torch: Any, tensors: Sequence[Any], prev: Optional[Sequence[Optional[Any]]]
) -> Any:
    """Packed rows of `tensors` (on one device, any real dtype) as xfast.device.histogram's
    histogram_device, computed with torch ops."""
    device = tensors[0].device
    tables = _device_tables(torch, device)  # only the torch ops use them
    k = len(tensors)
    counts = torch.zeros(k * (_SLOTS + 1), dtype=torch.int64, device=device)
    f64 = dict(dtype=torch.float64, device=device)
    i64 = dict(dtype=torch.int64, device=device)
    mins = torch.full((k,), float("inf"), **f64)
    maxs = torch.full((k,), float("-inf"), **f64)
    sums = torch.zeros((4, k), **f64)  # sum, sum_squares, update_sum_squares, spare
    cnts = torch.zeros((5, k), **i64)  # finite, nan, pos_inf, neg_inf, zeros
    step = chunk_elements()
    one = torch.ones((1,), **i64)
    for j, t in enumerate(tensors):
        if t.device != device:
            raise ValueError("histogram_device: all tensors must be on one device")
        flat = t.detach().reshape(-1)
        p = prev[j] if prev is not None else None
        pflat = None if p is None else p.detach().reshape(-1)
        base = j * (_SLOTS + 1)
        for lo in range(0, flat.numel(), step):
            x = flat[lo : lo + step]
            s, xf = _slots_of_chunk(torch, x, tables)
            counts.index_add_(0, s + base if base else s, one.expand(s.numel()))
            fin = torch.isfinite(xf)
            cnts[0, j] += fin.sum()
            cnts[1, j] += torch.isnan(xf).sum()
            cnts[2, j] += (xf == float("inf")).sum()
            cnts[3, j] += (xf == float("-inf")).sum()
            cnts[4, j] += (xf == 0).sum()
            xz = torch.where(fin, xf, 0).to(torch.float64)
            sums[0, j] += xz.sum()
            sums[1, j] += torch.dot(xz, xz)
            mins[j] = torch.minimum(mins[j], torch.where(fin, xf, float("inf")).amin().double())
            maxs[j] = torch.maximum(maxs[j], torch.where(fin, xf, float("-inf")).amax().double())
            if pflat is not None:
                d = torch.where(fin, xz - pflat[lo : lo + step].to(torch.float64), 0)
                sums[2, j] += torch.dot(d, d)
    bins = counts.view(k, _SLOTS + 1)[:, 1 : NBINS + 1].to(torch.float64)
    cols = torch.stack(
        [mins, maxs, sums[0], sums[1], *cnts[:4].to(torch.float64), cnts[4].to(torch.float64),
         sums[2]],
        dim=1,
    )
    return torch.cat([bins, cols], dim=1)
