# SPDX-License-Identifier: Apache-2.0
"""The default-bins histogram as two Triton kernels per batch (float32/bfloat16/float16).

Same result layout as xfast.device.torch_ops (the reference this kernel is tested against).
One read of the tensors computes, per element, its slot with one gather from a 32 KiB packed
table, counts it in a 256-bin ``tl.histogram`` kept in registers for the
whole program (two windows of slots placed from a sample; the rare values outside them take
one atomic each), and accumulates finite-value moments in float64; a second small kernel sums
the programs' rows into the packed float64 result. All tensors of one dtype go in one launch (a
model's parameters: one launch per step), and the launch layout is cached per batch layout, so
logging the same model every step uploads nothing. Temporaries: O(programs * slots), whatever
the tensors' sizes. Used only for CUDA tensors when triton imports; any failure falls back to
the torch-ops path (xfast.device.torch_ops).
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Sequence
from typing import Any, Callable, Optional

import triton
import triton.language as tl

from xfast.device.common import stream_key, upload

_NSLOT = 2048  # a program's count row: slots 0..1549, then the special slots below
_ZERO_SLOT = 775  # slot of bin [0, 1e-12): where +0.0 and -0.0 go
_PINF, _NAN, _NINF, _ZCOUNT = 1552, 1553, 1554, 1555  # special slots (zeros: also in 775)
# The register histogram (`bins` wide, 256 by default) has a window of bins / 2 slots for
# negative values, one of bins / 2 - 5 slots for positive values, then zero, +inf, NaN, -inf
# and a bin for what is counted elsewhere.
_MARGIN = 8  # window slack beyond the sampled extremes: 1.1^8 = 2.1x in magnitude
_SAMPLE = 1024  # elements sampled per program to place its windows
_COLS = 1024  # block columns (one row per thread group); a block is rows x _COLS
_PART = 8  # per-program moments: min, max, sum, sum_squares, update_sum_squares, 3 spare
_RC = 256  # slots per program of the reduction kernel
_NPART = 10  # packed result columns after the bins (see xfast.encoding.histogram_rows.MOMENTS)

# The kernels' type: ignores: a triton kernel's parameters take no annotations but tl.constexpr
# (triton reads them), and without triton's stubs (CPU installs) @triton.jit is Any.

@triton.jit
def _slot(x, tbl_ptr, mask):  # type: ignore[no-untyped-def]
    # See xfast.device.common.packed_slot_table: one 32 KiB table (L1-resident; a warp's values
    # touch few of its lines), indexed by sign, exponent and 4 mantissa bits.
    bits = x.to(tl.int32, bitcast=True)
    e = tl.load(tbl_ptr + ((bits >> 19) & 0x1FFF), mask=mask, other=0)
    key = (bits & 0x7FFFF) ^ ((bits >> 31) & 0x7FFFF)
    return (e & 0x7FF) + (key >= (e >> 11)).to(tl.int32)


@triton.jit  # type: ignore[untyped-decorator, unused-ignore]
def _histogram_kernel(  # type: ignore[no-untyped-def]
    x_ptr, prev_ptr, meta_ptr, k, tid_ptr, lpid_ptr, iters, tbl_ptr, scratch_ptr, part_ptr,
    HAS_PREV: tl.constexpr, ALIGNED: tl.constexpr, ROWS: tl.constexpr, COLS: tl.constexpr,
    NSLOT: tl.constexpr, SAMPLE: tl.constexpr, HB: tl.constexpr, WN: tl.constexpr,
    WP: tl.constexpr, MARGIN: tl.constexpr, ZSLOT: tl.constexpr, PINF: tl.constexpr,
    ZCOUNT: tl.constexpr,
):
    # Several tensors of one dtype in one launch: program pid works on the launch's tensor tid,
    # blocks lpid * iters .. +iters of it. Tensor j starts meta[j] elements after x_ptr (prev:
    # meta[k + j] after prev_ptr) and holds meta[2k + j] elements.
    BLOCK: tl.constexpr = ROWS * COLS
    HB_ZERO: tl.constexpr = WN + WP
    HB_NONE: tl.constexpr = HB - 1
    pid = tl.program_id(0)
    tid = tl.load(tid_ptr + pid).to(tl.int64)
    lpid = tl.load(lpid_ptr + pid).to(tl.int64)
    xoff = tl.load(meta_ptr + tid)
    poff = tl.load(meta_ptr + k + tid)
    n = tl.load(meta_ptr + 2 * k + tid)
    if ALIGNED:  # every offset is a multiple of 16 elements: lets Triton vectorize the loads
        xoff = tl.multiple_of(xoff, 16)
        poff = tl.multiple_of(poff, 16)
    first = lpid * iters * BLOCK
    span = tl.minimum(n - first, iters * BLOCK)
    # The windows stay fixed for the whole program, so its histogram lives in registers and is
    # written once at the end. They are placed from a strided sample of the program's elements:
    # at the largest magnitudes seen (plus a margin), each covering ~5 orders of magnitude
    # downwards. Values outside them (rare for weights and gradients) take one atomic each.
    si = tl.arange(0, SAMPLE).to(tl.int64)
    sx = tl.load(x_ptr + xoff + first + (si * span) // SAMPLE).to(tl.float32)
    ss = _slot(sx, tbl_ptr, si >= 0)
    snz = sx != 0.0
    lo_n = tl.min(tl.where(snz & (ss < ZSLOT), ss, NSLOT), axis=0) - MARGIN
    hi_p = tl.max(tl.where(snz & (ss >= ZSLOT) & (ss < PINF), ss, -NSLOT), axis=0) + MARGIN
    lo_p = hi_p - (WP - 1)

    local = tl.arange(0, ROWS)[:, None] * COLS + tl.arange(0, COLS)[None, :]
    # tl.histogram's cost grows with its bin count (Triton 3.6 on an H200: 2048 bins ran ~3x
    # slower than 256, 8192 over 100x), hence two windows rather than all 2048 slots.
    hist = tl.zeros([HB], dtype=tl.int32)
    s_sum = tl.zeros([COLS], dtype=tl.float64)
    s_sq = tl.zeros([COLS], dtype=tl.float64)
    s_up = tl.zeros([COLS], dtype=tl.float64)
    v_min = tl.full([COLS], float("inf"), dtype=tl.float32)
    v_max = tl.full([COLS], float("-inf"), dtype=tl.float32)
    priv = scratch_ptr + pid.to(tl.int64) * NSLOT  # this program's own count row
    for it in range(tl.cdiv(span, BLOCK)):
        start = first + it * BLOCK
        m = local < tl.minimum(n - start, BLOCK).to(tl.int32)
        x = tl.load(x_ptr + xoff + start + local, mask=m, other=0.0).to(tl.float32)
        s = _slot(x, tbl_ptr, m)
        fin = s < PINF
        nz = x != 0.0
        rn = (s - lo_n).to(tl.uint32, bitcast=True)
        rp = (s - lo_p).to(tl.uint32, bitcast=True)
        in_n = nz & (s < ZSLOT) & (rn < WN)
        in_p = nz & fin & (s >= ZSLOT) & (rp < WP)
        special = tl.where(nz, s - PINF + HB_ZERO + 1, HB_ZERO)
        elsewhere = tl.where(fin & nz, HB_NONE, special)
        h = tl.where(in_n, s - lo_n, tl.where(in_p, s - lo_p + WN, elsewhere))
        h = tl.where(m, h, HB_NONE)
        tl.atomic_add(priv + s, 1, mask=m & fin & nz & (~in_n) & (~in_p), sem="relaxed")
        hist += tl.histogram(tl.reshape(h, [BLOCK], can_reorder=True), HB)
        d = tl.where(fin, x, 0.0).to(tl.float64)
        s_sum += tl.sum(d, axis=0)
        s_sq += tl.sum(d * d, axis=0)
        ok = m & fin
        v_min = tl.minimum(v_min, tl.min(tl.where(ok, x, float("inf")), axis=0))
        v_max = tl.maximum(v_max, tl.max(tl.where(ok, x, float("-inf")), axis=0))
        if HAS_PREV:
            p = tl.load(prev_ptr + poff + start + local, mask=m, other=0.0).to(tl.float64)
            u = tl.where(fin, d - p, 0.0)
            s_up += tl.sum(u * u, axis=0)
    b = tl.arange(0, HB)
    special_slot = tl.where(b == HB_ZERO, ZSLOT, PINF + b - HB_ZERO - 1)
    target = tl.where(b < WN, lo_n + b, tl.where(b < HB_ZERO, lo_p + b - WN, special_slot))
    tl.atomic_add(priv + target, hist, mask=(hist > 0) & (b < HB_NONE), sem="relaxed")
    tl.atomic_add(priv + ZCOUNT, tl.sum(tl.where(b == HB_ZERO, hist, 0), axis=0), sem="relaxed")
    out = part_ptr + pid.to(tl.int64) * 8
    tl.store(out + 0, tl.min(v_min, axis=0).to(tl.float64))
    tl.store(out + 1, tl.max(v_max, axis=0).to(tl.float64))
    tl.store(out + 2, tl.sum(s_sum, axis=0))
    tl.store(out + 3, tl.sum(s_sq, axis=0))
    tl.store(out + 4, tl.sum(s_up, axis=0))


@triton.jit  # type: ignore[untyped-decorator, unused-ignore]
def _reduce_kernel(  # type: ignore[no-untyped-def]
    scratch_ptr, part_ptr, rmeta_ptr, out_ptr, NBINS: tl.constexpr, WIDTH: tl.constexpr,
    NSLOT: tl.constexpr, RC: tl.constexpr, PINF: tl.constexpr, NAN: tl.constexpr,
    NINF: tl.constexpr, ZCOUNT: tl.constexpr,
):
    # Program (j, c) sums slots c * RC .. +RC of tensor j's program rows (rows rmeta[3j] ..
    # +rmeta[3j + 1]) into its packed result row; the chunk holding the special slots also
    # writes the moment columns.
    j = tl.program_id(0)
    c = tl.program_id(1)
    start = tl.load(rmeta_ptr + 3 * j)
    cnt = tl.load(rmeta_ptr + 3 * j + 1)
    n = tl.load(rmeta_ptr + 3 * j + 2)
    cols = c * RC + tl.arange(0, RC)
    acc = tl.zeros([RC], dtype=tl.int64)
    for r in range(cnt):
        acc += tl.load(scratch_ptr + (start + r) * NSLOT + cols).to(tl.int64)
    row = out_ptr + j.to(tl.int64) * WIDTH
    tl.store(row + cols - 1, acc.to(tl.float64), mask=(cols >= 1) & (cols <= NBINS))
    if c == PINF // RC:
        nan = tl.sum(tl.where(cols == NAN, acc, 0), axis=0)
        pinf = tl.sum(tl.where(cols == PINF, acc, 0), axis=0)
        ninf = tl.sum(tl.where(cols == NINF, acc, 0), axis=0)
        zeros = tl.sum(tl.where(cols == ZCOUNT, acc, 0), axis=0)
        q = tl.arange(0, 8)
        lo = tl.full([8], float("inf"), dtype=tl.float64)
        hi = tl.full([8], float("-inf"), dtype=tl.float64)
        tot = tl.zeros([8], dtype=tl.float64)
        for r in range(cnt):
            v = tl.load(part_ptr + (start + r) * 8 + q)
            lo = tl.minimum(lo, v)
            hi = tl.maximum(hi, v)
            tot += v
        tl.store(row + NBINS + 0, tl.min(tl.where(q == 0, lo, float("inf")), axis=0))
        tl.store(row + NBINS + 1, tl.max(tl.where(q == 1, hi, float("-inf")), axis=0))
        tl.store(row + NBINS + 2, tl.sum(tl.where(q == 2, tot, 0.0), axis=0))
        tl.store(row + NBINS + 3, tl.sum(tl.where(q == 3, tot, 0.0), axis=0))
        tl.store(row + NBINS + 4, (n - nan - pinf - ninf).to(tl.float64))
        tl.store(row + NBINS + 5, nan.to(tl.float64))
        tl.store(row + NBINS + 6, pinf.to(tl.float64))
        tl.store(row + NBINS + 7, ninf.to(tl.float64))
        tl.store(row + NBINS + 8, zeros.to(tl.float64))
        tl.store(row + NBINS + 9, tl.sum(tl.where(q == 4, tot, 0.0), axis=0))


_LAYOUTS_MAX = 64
_layouts: OrderedDict[tuple[Any, ...], tuple[Any, ...]] = OrderedDict()


def _layout(
    torch: Any, device: Any, key: tuple[Any, ...],
    make_specs: Callable[[], list[tuple[Any, bool, int, int, int]]], programs: int, rows: int,
) -> tuple[Any, ...]:
    """Launch metadata for a batch layout (per tensor: dtype, has_prev, element offsets of the
    tensor and its prev from the first of its dtype group, numel), uploaded once and kept for
    the next steps (least recently used out beyond _LAYOUTS_MAX layouts)."""
    hit = _layouts.get(key)
    if hit is not None:
        _layouts.move_to_end(key)
        return hit
    specs = make_specs()
    block = rows * _COLS
    groups: dict[tuple[Any, bool], list[int]] = {}
    for j, (dtype, has_prev, _, _, _) in enumerate(specs):
        groups.setdefault((dtype, has_prev), []).append(j)
    launches = []
    rmeta = [0] * (3 * len(specs))
    row = 0
    for (_, has_prev), members in groups.items():
        blocks = [max(1, triton.cdiv(specs[j][4], block)) for j in members]
        iters = max(1, triton.cdiv(sum(blocks), programs))
        tid: list[int] = []
        lpid: list[int] = []
        for i, (j, nb) in enumerate(zip(members, blocks)):
            p = triton.cdiv(nb, iters)
            rmeta[3 * j : 3 * j + 3] = [row + len(tid), p, specs[j][4]]
            tid += [i] * p
            lpid += list(range(p))
        xoff = [specs[j][2] for j in members]
        poff = [specs[j][3] for j in members]
        meta = torch.tensor(xoff + poff + [specs[j][4] for j in members], dtype=torch.int64)
        aligned = all(o % 16 == 0 for o in xoff + poff)
        launches.append((
            members[0], has_prev, upload(torch, device, meta), len(members),
            upload(torch, device, torch.tensor(tid, dtype=torch.int32)),
            upload(torch, device, torch.tensor(lpid, dtype=torch.int32)), iters, len(tid),
            aligned, row,
        ))
        row += len(tid)
    hit = (launches, upload(torch, device, torch.tensor(rmeta, dtype=torch.int64)), row)
    _layouts[key] = hit
    if len(_layouts) > _LAYOUTS_MAX:
        _layouts.popitem(last=False)
    return hit


def histogram_triton(
    torch: Any, tensors: Sequence[Any], prev: Optional[Sequence[Optional[Any]]],
    table: Any, nbins: int, programs: int, rows: int = 2, num_warps: int = 4, bins: int = 256,
) -> Any:
    """Packed (len(tensors), nbins + 10) float64 rows, as xfast.device.histogram.histogram_device.

    One kernel launch per dtype in the batch plus one reduction launch and three allocations;
    no host sync. `table` is xfast.device.common.device_table(); `programs` sizes the grid (a few
    per SM), each program looping over blocks of rows x 1024 elements of one tensor.
    """
    device = tensors[0].device
    dtype = tensors[0].dtype
    stream = stream_key(torch, device)  # layouts are uploaded per stream (see stream_key)
    if (prev is None or all(p is None for p in prev)) and all(t.dtype == dtype for t in tensors):
        # The common case (a model's parameters or gradients): the key is built from a few
        # list comprehensions, the per-tensor specs only when the layout is new.
        ptrs = [t.data_ptr() for t in tensors]
        es = tensors[0].element_size()
        offs = tuple([(q - ptrs[0]) // es for q in ptrs])
        sizes = tuple([t.numel() for t in tensors])
        key: tuple[Any, ...] = (stream, programs, rows, dtype, offs, sizes)

        def specs() -> list[tuple[Any, bool, int, int, int]]:
            return [(dtype, False, o, o, n) for o, n in zip(offs, sizes)]
    else:
        firsts: dict[tuple[Any, bool], tuple[int, int]] = {}
        full = []
        for j, t in enumerate(tensors):
            p = prev[j] if prev is not None else None
            has_prev = p is not None and p.dtype == t.dtype
            x_ptr = t.data_ptr()
            p_ptr = p.data_ptr() if p is not None and has_prev else x_ptr
            base = firsts.setdefault((t.dtype, has_prev), (x_ptr, p_ptr))
            es = t.element_size()
            full.append((t.dtype, has_prev, (x_ptr - base[0]) // es, (p_ptr - base[1]) // es,
                         t.numel()))
        key = (stream, programs, rows, tuple(full))

        def specs() -> list[tuple[Any, bool, int, int, int]]:
            return full
    launches, rmeta, total = _layout(torch, device, key, specs, programs, rows)
    scratch = torch.zeros((total, _NSLOT), dtype=torch.int32, device=device)
    part = torch.empty((total, _PART), dtype=torch.float64, device=device)
    for first, has_prev, meta, kg, tid, lpid, iters, grid, aligned, row in launches:
        x0 = tensors[first].detach()
        p0 = prev[first].detach() if has_prev else x0  # type: ignore[index]
        _histogram_kernel[(grid,)](
            x0, p0, meta, kg, tid, lpid, iters, table, scratch[row:], part[row:],
            HAS_PREV=has_prev, ALIGNED=aligned, ROWS=rows, COLS=_COLS, NSLOT=_NSLOT,
            SAMPLE=_SAMPLE, HB=bins, WN=bins // 2, WP=bins // 2 - 5, MARGIN=_MARGIN,
            ZSLOT=_ZERO_SLOT, PINF=_PINF, ZCOUNT=_ZCOUNT, num_warps=num_warps,
        )
    out = torch.empty((len(tensors), nbins + _NPART), dtype=torch.float64, device=device)
    _reduce_kernel[(len(tensors), triton.cdiv(_ZCOUNT + 1, _RC))](
        scratch, part, rmeta, out, NBINS=nbins, WIDTH=nbins + _NPART, NSLOT=_NSLOT, RC=_RC,
        PINF=_PINF, NAN=_NAN, NINF=_NINF, ZCOUNT=_ZCOUNT, num_warps=4,
    )
    return out
