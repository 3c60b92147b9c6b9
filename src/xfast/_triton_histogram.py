# SPDX-License-Identifier: Apache-2.0
"""The default-bins histogram as one fused Triton kernel per batch (float32/bfloat16/float16).

Same method and result layout as xfast._gpu_histogram (whose torch-ops code is the reference
this kernel is tested against): one read of the tensor computes the slot of every element,
a per-program histogram (``tl.histogram``) and per-program finite-value moments; programs add
their histograms into a fixed-size count tensor with atomics and store their moments in a
small partials tensor that a handful of torch ops reduce for all tensors at once. All tensors of
one dtype go in one launch (a model's parameters: one launch per step). Temporaries:
O(programs + buckets) per tensor, whatever its size. Used only for CUDA tensors when triton
imports; any failure falls back to the torch-ops path (xfast._gpu_histogram).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Optional

import triton
import triton.language as tl

_SLOTS_P2 = 2048  # the 1551 count slots, padded to a power of two
_ZERO_SLOT = 775  # slot of bin [0, 1e-12): where +0.0 and -0.0 go
_WINDOW = 128  # bins per tl.histogram call (see the kernel)
_BLOCK = 2048
_NPART = 10  # min, max, sum, sum_squares, finite, nan, pos_inf, neg_inf, zeros, update_ssq


# A triton kernel takes no annotations but tl.constexpr (triton reads them); without triton's
# stubs (CPU installs) its decorator is Any.
@triton.jit  # type: ignore[untyped-decorator, unused-ignore]
def _histogram_kernel(  # type: ignore[no-untyped-def]
    x_ptr, prev_ptr, meta_ptr, k, tid_ptr, lpid_ptr, iters, slots_ptr, thr_ptr, scratch_ptr,
    part_ptr, HAS_PREV: tl.constexpr, ALIGNED: tl.constexpr, BLOCK: tl.constexpr,
    NSLOT: tl.constexpr, W: tl.constexpr, ZSLOT: tl.constexpr,
):
    # Several tensors of one dtype in one launch: program pid works on the launch's tensor tid,
    # blocks lpid * iters .. +iters of it. Tensor j starts meta[j] elements after x_ptr (prev:
    # meta[k + j] after prev_ptr) and holds meta[2k + j] elements.
    pid = tl.program_id(0)
    tid = tl.load(tid_ptr + pid).to(tl.int64)
    lpid = tl.load(lpid_ptr + pid).to(tl.int64)
    xoff = tl.load(meta_ptr + tid)
    poff = tl.load(meta_ptr + k + tid)
    n = tl.load(meta_ptr + 2 * k + tid)
    if ALIGNED:  # every offset is a multiple of 16 elements: lets Triton vectorize the loads
        xoff = tl.multiple_of(xoff, 16)
        poff = tl.multiple_of(poff, 16)
    lane = tl.arange(0, BLOCK)
    win = tl.arange(0, W)
    # Counts go to this program's private row of scratch (no contention between programs),
    # summed per tensor afterwards.
    priv = scratch_ptr + pid.to(tl.int64) * NSLOT
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
    # A small tensor's program stops after its own blocks instead of looping `iters` times
    # over masked-out lanes.
    first = lpid * iters
    my_iters = tl.minimum(tl.cdiv(n, BLOCK) - first, iters)
    for it in range(my_iters):
        offs = (first + it) * BLOCK + lane
        m = offs < n
        x = tl.load(x_ptr + xoff + offs, mask=m, other=0.0).to(tl.float32)
        bits = x.to(tl.int32, bitcast=True)
        idx = (bits >> 15) & 0x1FFFF
        s = tl.load(slots_ptr + idx, mask=m, other=0)
        t = tl.load(thr_ptr + s, mask=m, other=0.0)
        s = s + (x >= t).to(tl.int32)
        # tl.histogram costs ~numBins/32 operations per element (warp ballots), so 2048 bins
        # would dominate the kernel. A block's values cluster in two runs of slots (negative
        # and positive magnitudes; weights and gradients span ~100 bins per sign), so each run
        # is counted in a W-bin window starting at its smallest slot; zeros are counted
        # separately and the rare values outside both windows take one atomic each.
        nz = m & (x != 0.0)
        neg = nz & (s < ZSLOT)
        pos = nz & (s >= ZSLOT)
        lo_n = tl.min(tl.where(neg, s, NSLOT), axis=0)
        lo_p = tl.min(tl.where(pos, s, NSLOT), axis=0)
        in_n = neg & (s - lo_n < W)
        in_p = pos & (s - lo_p < W)
        h_n = tl.histogram(tl.where(in_n, s - lo_n, 0), W, mask=in_n)
        h_p = tl.histogram(tl.where(in_p, s - lo_p, 0), W, mask=in_p)
        tl.atomic_add(priv + lo_n + win, h_n, mask=h_n > 0, sem="relaxed")
        tl.atomic_add(priv + lo_p + win, h_p, mask=h_p > 0, sem="relaxed")
        rest = nz & (~in_n) & (~in_p)
        tl.atomic_add(priv + s, tl.full([BLOCK], 1, tl.int32), mask=rest, sem="relaxed")
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
            p = tl.load(prev_ptr + poff + offs, mask=m, other=0.0).to(tl.float64)
            u = tl.where(fin, d - p, 0.0)
            s_up += u * u
    tl.atomic_add(priv + ZSLOT, tl.sum(c_zero, axis=0), sem="relaxed")
    out = part_ptr + pid.to(tl.int64) * 10
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


_layout_cache: dict[tuple[Any, ...], tuple[Any, Any, Any]] = {}


def _upload(torch: Any, device: Any, host: Any) -> Any:
    """A small host tensor on `device`, copied from pinned memory without blocking."""
    if device.type == "cuda":
        host = host.pin_memory()
    return host.to(device, non_blocking=True)


def _program_tables(
    torch: Any, device: Any, rows: tuple[int, ...], progs: tuple[int, ...]
) -> tuple[Any, Any, Any]:
    """Per program: the launch's tensor index, the program's index within that tensor, and
    the tensor's row in the batch (int64, for the final reduction). Cached per layout: logging
    the same model every step reuses them, so they are uploaded once."""
    key = (str(device), rows, progs)
    t = _layout_cache.get(key)
    if t is None:
        counts = torch.tensor(progs)
        tid = torch.repeat_interleave(torch.arange(len(rows), dtype=torch.int32), counts)
        starts = torch.cumsum(counts, 0) - counts
        lpid = torch.arange(int(counts.sum()), dtype=torch.int32) - torch.repeat_interleave(
            starts, counts
        ).to(torch.int32)
        ids = torch.repeat_interleave(torch.tensor(rows, dtype=torch.int64), counts)
        t = _layout_cache[key] = tuple(_upload(torch, device, a) for a in (tid, lpid, ids))
    return t


def _groups(tensors: Sequence[Any], prev: Optional[Sequence[Optional[Any]]]) -> list[list[int]]:
    """Indices of tensors that can share one launch: same dtype, and prev present (of that
    dtype) for all or none."""
    groups: dict[tuple[Any, bool], list[int]] = {}
    for j, t in enumerate(tensors):
        p = prev[j] if prev is not None else None
        has_prev = p is not None and p.dtype == t.dtype
        groups.setdefault((t.dtype, has_prev), []).append(j)
    return list(groups.values())


def supports(t: Any, p: Optional[Any] = None) -> bool:
    """Whether this kernel takes tensor t (the three float types it widens exactly) and its
    optional previous value p (same dtype, same size, contiguous)."""
    import torch

    ok = t.dtype in (torch.float32, torch.bfloat16, torch.float16) and t.is_contiguous()
    if p is not None:
        ok = ok and p.dtype == t.dtype and p.numel() == t.numel() and p.is_contiguous()
    return bool(ok)


def histogram_triton(
    torch: Any, tensors: Sequence[Any], prev: Optional[Sequence[Optional[Any]]],
    slots: Any, thr: Any, nbins: int, programs: int,
) -> Any:
    """Packed (len(tensors), nbins + 10) float64 rows, as _gpu_histogram.histogram_device.

    One kernel launch per dtype in the batch plus ~10 torch ops; no host sync. The element
    offsets of the tensors (from their data pointers: host metadata) travel in one small
    non-blocking upload per launch. `programs` sizes the grid (a few per SM), each program
    looping over `iters` blocks of one tensor.
    """
    device = tensors[0].device
    k = len(tensors)
    launches = []
    for rows in _groups(tensors, prev):
        xs = [tensors[j].detach() for j in rows]
        # mypy narrows no index by a variable: prev[j] is checked just before.
        ps = [prev[j].detach() if prev is not None and prev[j] is not None else xs[i]  # type: ignore[union-attr]
              for i, j in enumerate(rows)]
        has_prev = prev is not None and prev[rows[0]] is not None
        blocks = [max(1, triton.cdiv(x.numel(), _BLOCK)) for x in xs]
        iters = max(1, triton.cdiv(sum(blocks), programs))
        progs = tuple(triton.cdiv(b, iters) for b in blocks)
        es = xs[0].element_size()
        xoff = [(x.data_ptr() - xs[0].data_ptr()) // es for x in xs]
        poff = [(p.data_ptr() - ps[0].data_ptr()) // es for p in ps]
        meta = _upload(torch, device, torch.tensor(xoff + poff + [x.numel() for x in xs]))
        tid, lpid, ids = _program_tables(torch, device, tuple(rows), progs)
        aligned = all(o % 16 == 0 for o in xoff + poff)
        launches.append((xs[0], ps[0], meta, len(rows), tid, lpid, ids, iters, has_prev, aligned))
    total = sum(int(launch[4].numel()) for launch in launches)
    part = torch.empty((total, _NPART), dtype=torch.float64, device=device)
    scratch = torch.zeros((total, _SLOTS_P2), dtype=torch.int32, device=device)
    row = 0
    for x0, p0, meta, kg, tid, lpid, _, iters, has_prev, aligned in launches:
        grid = int(tid.numel())
        _histogram_kernel[(grid,)](
            x0, p0, meta, kg, tid, lpid, iters, slots, thr, scratch[row:], part[row:],
            HAS_PREV=has_prev, ALIGNED=aligned, BLOCK=_BLOCK, NSLOT=_SLOTS_P2, W=_WINDOW,
            ZSLOT=_ZERO_SLOT, num_warps=8,
        )
        row += grid
    ids = launches[0][6] if len(launches) == 1 else torch.cat([launch[6] for launch in launches])
    counts = torch.zeros((k, _SLOTS_P2), dtype=torch.int64, device=device).index_add_(
        0, ids, scratch.to(torch.int64)
    )
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
