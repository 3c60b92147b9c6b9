# SPDX-License-Identifier: Apache-2.0
"""The default-bins histogram as one fused Triton kernel per tensor (float32/bfloat16/float16).

Same method and result layout as xfast._gpu_histogram (whose torch-ops code is the reference
this kernel is tested against): one read of the tensor computes the slot of every element,
a per-program histogram (``tl.histogram``) and per-program finite-value moments; programs add
their histograms into a fixed-size count tensor with atomics and store their moments in a
small partials tensor that a handful of torch ops reduce for all tensors at once. Temporaries:
O(programs + buckets) per tensor, whatever its size. Used only for CUDA tensors when triton
imports; any failure falls back to the torch-ops path (xfast._gpu_histogram).
"""

from __future__ import annotations

from typing import Any, Optional, Sequence

import triton
import triton.language as tl

_SLOTS_P2 = 2048  # the 1551 count slots, padded to a power of two for tl.histogram
_BLOCK = 2048
_NPART = 10  # min, max, sum, sum_squares, finite, nan, pos_inf, neg_inf, zeros, update_ssq


@triton.jit
def _histogram_kernel(
    x_ptr, prev_ptr, n, iters, slots_ptr, thr_ptr, counts_ptr, part_ptr,
    HAS_PREV: tl.constexpr, BLOCK: tl.constexpr, NSLOT: tl.constexpr,
):
    pid = tl.program_id(0).to(tl.int64)
    lane = tl.arange(0, BLOCK)
    hist = tl.zeros([NSLOT], dtype=tl.int32)
    s_sum = tl.zeros([BLOCK], dtype=tl.float64)
    s_sq = tl.zeros([BLOCK], dtype=tl.float64)
    s_up = tl.zeros([BLOCK], dtype=tl.float64)
    v_min = tl.full([BLOCK], float("inf"), dtype=tl.float32)
    v_max = tl.full([BLOCK], float("-inf"), dtype=tl.float32)
    c_fin = tl.zeros([BLOCK], dtype=tl.int32)
    c_nan = tl.zeros([BLOCK], dtype=tl.int32)
    c_pinf = tl.zeros([BLOCK], dtype=tl.int32)
    c_ninf = tl.zeros([BLOCK], dtype=tl.int32)
    c_zero = tl.zeros([BLOCK], dtype=tl.int32)
    for it in range(iters):
        offs = (pid * iters + it) * BLOCK + lane
        m = offs < n
        x = tl.load(x_ptr + offs, mask=m, other=0.0).to(tl.float32)
        bits = x.to(tl.int32, bitcast=True)
        idx = (bits >> 15) & 0x1FFFF
        s = tl.load(slots_ptr + idx, mask=m, other=0)
        t = tl.load(thr_ptr + s, mask=m, other=0.0)
        s = s + (x >= t).to(tl.int32)
        hist += tl.histogram(s, NSLOT, mask=m)
        is_nan = x != x
        is_inf = (x == float("inf")) | (x == float("-inf"))
        fin = m & (~is_nan) & (~is_inf)
        d = tl.where(fin, x, 0.0).to(tl.float64)
        s_sum += d
        s_sq += d * d
        v_min = tl.minimum(v_min, tl.where(fin, x, float("inf")))
        v_max = tl.maximum(v_max, tl.where(fin, x, float("-inf")))
        c_fin += fin.to(tl.int32)
        c_nan += (m & is_nan).to(tl.int32)
        c_pinf += (m & (x == float("inf"))).to(tl.int32)
        c_ninf += (m & (x == float("-inf"))).to(tl.int32)
        c_zero += (m & (x == 0.0)).to(tl.int32)
        if HAS_PREV:
            p = tl.load(prev_ptr + offs, mask=m, other=0.0).to(tl.float64)
            u = tl.where(fin, d - p, 0.0)
            s_up += u * u
    tl.atomic_add(counts_ptr + tl.arange(0, NSLOT), hist.to(tl.int64))
    out = part_ptr + pid * 10
    tl.store(out + 0, tl.min(v_min, axis=0).to(tl.float64))
    tl.store(out + 1, tl.max(v_max, axis=0).to(tl.float64))
    tl.store(out + 2, tl.sum(s_sum, axis=0))
    tl.store(out + 3, tl.sum(s_sq, axis=0))
    tl.store(out + 4, tl.sum(c_fin.to(tl.int64), axis=0).to(tl.float64))
    tl.store(out + 5, tl.sum(c_nan.to(tl.int64), axis=0).to(tl.float64))
    tl.store(out + 6, tl.sum(c_pinf.to(tl.int64), axis=0).to(tl.float64))
    tl.store(out + 7, tl.sum(c_ninf.to(tl.int64), axis=0).to(tl.float64))
    tl.store(out + 8, tl.sum(c_zero.to(tl.int64), axis=0).to(tl.float64))
    tl.store(out + 9, tl.sum(s_up, axis=0))


_ids_cache: dict[tuple[str, tuple[int, ...]], Any] = {}


def _segment_ids(torch: Any, device: Any, grids: tuple[int, ...]) -> Any:
    """Tensor index of each program's partials row, cached per layout: logging the same model
    every step reuses it, so the upload (from pinned memory, non-blocking) happens once."""
    key = (str(device), grids)
    ids = _ids_cache.get(key)
    if ids is None:
        host = torch.repeat_interleave(torch.arange(len(grids)), torch.tensor(grids))
        if device.type == "cuda":
            host = host.pin_memory()
        ids = _ids_cache[key] = host.to(device, non_blocking=True)
    return ids


def supports(t: Any) -> bool:
    """Whether this kernel takes tensor t (the three float types it widens exactly)."""
    import torch

    return t.dtype in (torch.float32, torch.bfloat16, torch.float16)


def histogram_triton(
    torch: Any, tensors: Sequence[Any], prev: Optional[Sequence[Optional[Any]]],
    slots: Any, thr: Any, nbins: int, programs: int,
) -> Any:
    """Packed (len(tensors), nbins + 10) float64 rows, as _gpu_histogram.histogram_device.

    One kernel launch per tensor plus ~10 torch ops for the whole batch; no host sync.
    `programs` caps the grid per tensor (a few per SM), each program looping over blocks.
    """
    device = tensors[0].device
    k = len(tensors)
    counts = torch.zeros((k, _SLOTS_P2), dtype=torch.int64, device=device)
    grids = []
    for t in tensors:
        blocks = max(1, triton.cdiv(t.numel(), _BLOCK))
        grid = min(blocks, programs)
        grids.append((grid, triton.cdiv(blocks, grid)))
    total = sum(g for g, _ in grids)
    part = torch.empty((total, _NPART), dtype=torch.float64, device=device)
    seg = []
    row = 0
    for j, (t, (grid, iters)) in enumerate(zip(tensors, grids)):
        x = t.detach().reshape(-1)
        p = prev[j] if prev is not None else None
        pv = p.detach().reshape(-1) if p is not None else x
        _histogram_kernel[(grid,)](
            x, pv, x.numel(), iters, slots, thr, counts[j], part[row:],
            HAS_PREV=p is not None, BLOCK=_BLOCK, NSLOT=_SLOTS_P2, num_warps=8,
        )
        seg.append((j, grid))
        row += grid
    ids = _segment_ids(torch, device, tuple(g for _, g in seg))
    sums = torch.zeros((k, _NPART), dtype=torch.float64, device=device).index_add_(0, ids, part)
    inf = float("inf")
    mins = torch.full((k,), inf, dtype=torch.float64, device=device).scatter_reduce_(
        0, ids, part[:, 0], "amin"
    )
    maxs = torch.full((k,), -inf, dtype=torch.float64, device=device).scatter_reduce_(
        0, ids, part[:, 1], "amax"
    )
    cols = torch.cat([mins[:, None], maxs[:, None], sums[:, 2:]], dim=1)
    return torch.cat([counts[:, 1 : nbins + 1].to(torch.float64), cols], dim=1)
