# SPDX-License-Identifier: Apache-2.0
"""The default-bins histogram as torch ops on the tensor's own device, with no host sync.

Method (the native kernel's, csrc/histogram.h ``default_slot_table``): a float32's ``bits >> 15``
indexes a 131072-entry slot table, and one compare against a threshold table finishes the exact
bucket; counts go into a fixed-size tensor with ``index_add_``. ``torch.bincount`` and
``torch.histc`` are not used: on CUDA both read data-dependent sizes or ranges back to the host
(a sync). Every result stays on the device: the caller copies the small packed result to pinned
memory with ``non_blocking=True``.

Two implementations, one result: for CUDA float32/bfloat16/float16 tensors a fused Triton
kernel (xfast._triton_histogram: one read pass, one launch per dtype in the batch plus one
reduction launch) when triton imports; otherwise, and for every other dtype or device, these
torch ops. The torch ops stay because they run anywhere: CI checks them bucket for bucket
against the native kernel on CPU tensors, and the Triton kernel against them (Triton's
interpreter, and benchmarks/gpu_check.py on a GPU). A Triton failure at run time warns once
and falls back. ``XFAST_DEVICE_HISTOGRAM=torch`` forces the torch ops;
``XFAST_DEVICE_HISTOGRAM=cuda`` selects a third implementation, CUDA C++ compiled by NVRTC
(xfast._cuda_histogram; opt-in until measured on a GPU). Their cost is ~20 kernel
launches and several passes per chunk.

Temporaries are bounded: tensors are processed in chunks of ``chunk_elements()`` elements
(about 64 bytes of temporaries per element, so <= 64 MiB), plus O(buckets) accumulators.
"""

from __future__ import annotations

import functools
import os
import threading
import warnings
from collections.abc import Sequence
from typing import Any, Optional

import numpy as np

from xfast import _core

NBINS = 1548
# Packed result row: NBINS bin counts, then these columns (all float64).
MOMENTS = ("min", "max", "sum", "sum_squares", "finite", "nan", "pos_inf", "neg_inf", "zeros",
           "update_sum_squares")
WIDTH = NBINS + len(MOMENTS)
COL = {name: NBINS + i for i, name in enumerate(MOMENTS)}

_SLOTS = NBINS + 2  # 0: below the first edge, 1 + i: bin i, NBINS + 1: above the last edge
_TEMP_BYTES_PER_ELEMENT = 64
_TEMP_BUDGET_BYTES = 64 << 20

_tables_lock = threading.Lock()
_tables: dict[Any, Any] = {}


def chunk_elements() -> int:
    """Elements per chunk so that one chunk's temporaries stay within 64 MiB."""
    return _TEMP_BUDGET_BYTES // _TEMP_BYTES_PER_ELEMENT


def upload(torch: Any, device: Any, host: Any) -> Any:
    """A small host tensor on `device`, copied from pinned memory without blocking."""
    if device.type == "cuda":
        host = host.pin_memory()
    return host.to(device, non_blocking=True)


def stream_key(torch: Any, device: Any) -> tuple[str, int]:
    """(device, current stream): the key of a cache of tensors uploaded without blocking. Such a
    tensor is ready only in its own stream's order, so each stream uploads its own."""
    if device.type != "cuda":
        return (str(device), 0)
    return (str(device), int(torch.cuda.current_stream(device).cuda_stream))


def _device_tables(torch: Any, device: Any) -> tuple[Any, Any, Any]:
    """(slot table int32, float32 thresholds, float64 edges) on ``device``, uploaded once per
    stream."""
    key = stream_key(torch, device)
    t = _tables.get(key)
    if t is None:
        with _tables_lock:
            t = _tables.get(key)
            if t is None:
                slots, thr = _core.default_slot_table()
                edges = np.asarray(_core.default_edges(), dtype=np.float64)
                t = tuple(upload(torch, device, torch.from_numpy(a))
                          for a in (slots.astype(np.int32), thr, edges))
                _tables[key] = t
    return t


@functools.cache
def fused_dtypes() -> tuple[Any, ...]:
    """The dtypes the fused kernels read (torch imported on first use), in the order of the
    CUDA kernels' dtype index."""
    import torch

    return (torch.float32, torch.bfloat16, torch.float16)


def kernel_supports(t: Any, p: Optional[Any] = None) -> bool:
    """Whether the fused kernels (Triton, CUDA) take tensor t (float32, bfloat16 or float16,
    which widen to float32 exactly; contiguous) and its optional previous value p (same dtype
    and size, contiguous, on t's device: the kernels take its raw pointer)."""
    ok = t.dtype in fused_dtypes() and t.is_contiguous()
    if p is not None:
        ok = ok and p.dtype == t.dtype and p.numel() == t.numel() and p.is_contiguous()
        ok = ok and p.device == t.device
    return bool(ok)


def device_table(torch: Any, device: Any) -> Any:
    """packed_slot_table() on `device` (the Triton and CUDA kernels' table), uploaded once per
    stream."""
    key = ("packed", *stream_key(torch, device))
    t = _tables.get(key)
    if t is None:
        with _tables_lock:
            t = _tables.get(key)
            if t is None:
                t = _tables[key] = upload(torch, device, torch.from_numpy(packed_slot_table()))
    return t


# The fused kernels' process-wide state: the packed table ("packed"), programs per device,
# and the error that switched a kernel off ("disabled": Triton, "cuda disabled": CUDA C++).
_kernel_state: dict[str, Any] = {}

# Special slots of packed_slot_table (beyond the NBINS + 2 count slots).
SLOT_POS_INF, SLOT_NAN, SLOT_NEG_INF = 1552, 1553, 1554


def packed_slot_table() -> np.ndarray:
    """The one-gather slot table (int32[8192]) of the device kernels, from the native tables.

    Entry r covers the float32 values whose bits >> 19 equal r (sign, exponent, 4 mantissa
    bits: ranges of relative width <= 1/16, so each holds at most one edge, the edges being
    1.1x apart). Bits 0-10 hold the slot of the range's smallest value, bits 11-30 the first
    key from which the slot is one more (2^19: never); the key is the value's low 19 bits,
    flipped for negative values so that keys grow with the value. The cut is found by
    bisection over the native two-table method (exact, monotone within a range). Exponent-255
    ranges give +inf, NaN and -inf the special slots. Cached after the first call.
    """
    cached: Optional[np.ndarray] = _kernel_state.get("packed")
    if cached is not None:
        return cached
    slots16, thr = _core.default_slot_table()
    slots = slots16.astype(np.int64)
    r = np.arange(8192, dtype=np.int64)
    flip = np.where(r >> 12 == 1, 0x7FFFF, 0)

    def slot_at(key: np.ndarray) -> np.ndarray:
        bits = ((r << 19) | (key ^ flip)).astype(np.uint32)
        s = slots[(bits >> 15).astype(np.int64)]
        with np.errstate(invalid="ignore"):
            return s + (bits.view(np.float32) >= thr[s])

    base = slot_at(np.zeros_like(r))
    never = 1 << 19
    lo, hi = np.zeros_like(r), np.full_like(r, never)
    while (lo < hi).any():
        mid = (lo + hi) // 2
        up = (slot_at(np.minimum(mid, never - 1)) > base) & (mid < never)
        hi, lo = np.where(up, mid, hi), np.where(up, lo, np.minimum(mid + 1, hi))
    special = (r & 0xFF0) == 0xFF0
    base = np.where(special, SLOT_NAN, base)
    cut = np.where(special, never, hi)
    base[0xFF0], cut[0xFF0] = SLOT_POS_INF, 1  # key 0: +inf, then NaNs
    base[0x1FF0], cut[0x1FF0] = SLOT_NAN, never - 1  # NaNs, then -inf at the largest key
    table: np.ndarray = (base | (cut << 11)).astype(np.int32)
    _kernel_state["packed"] = table
    return table


def _use_triton(
    device: Any, tensors: Sequence[Any], prev: Optional[Sequence[Optional[Any]]]
) -> bool:
    """Triton for CUDA float32/bfloat16/float16 batches when it imports, unless
    XFAST_DEVICE_HISTOGRAM=torch; XFAST_DEVICE_HISTOGRAM=triton forces it (CPU tensors under
    TRITON_INTERPRET=1, for tests)."""
    mode = os.environ.get("XFAST_DEVICE_HISTOGRAM", "auto")
    if mode == "torch" or "disabled" in _kernel_state:
        return False
    if mode != "triton" and device.type != "cuda":
        return False
    try:
        import xfast._triton_histogram  # noqa: F401 (whether triton imports)
    except ImportError:
        return False
    return _fused_kernels_take(device, tensors, prev)


def _fused_kernels_take(
    device: Any, tensors: Sequence[Any], prev: Optional[Sequence[Optional[Any]]]
) -> bool:
    """kernel_supports for every tensor of a batch and its optional previous value, all on
    `device` (a batch across devices goes to the torch ops, which reject it)."""
    if prev is None or all(p is None for p in prev):
        # kernel_supports(t) inlined: this runs per tensor per call (a model's parameters and
        # gradients each step), and the call doubled its cost (92 -> 44 us for 304 tensors on
        # the 2-core CI machine).
        floats = fused_dtypes()
        return all(t.dtype in floats and t.is_contiguous() and t.device == device
                   for t in tensors)
    return all(t.device == device and kernel_supports(t, p) for t, p in zip(tensors, prev))


def _use_cuda_kernel(
    device: Any, tensors: Sequence[Any], prev: Optional[Sequence[Optional[Any]]]
) -> bool:
    """The NVRTC-compiled CUDA C++ kernel (xfast._cuda_histogram) for CUDA float32/bfloat16/
    float16 batches, only with XFAST_DEVICE_HISTOGRAM=cuda: not yet measured on a GPU."""
    if os.environ.get("XFAST_DEVICE_HISTOGRAM") != "cuda" or device.type != "cuda":
        return False
    return "cuda disabled" not in _kernel_state and _fused_kernels_take(device, tensors, prev)


def _programs(torch: Any, device: Any) -> int:
    """The Triton grid size for `device`: a few programs per SM (looked up once)."""
    key = f"programs {device}"
    n = _kernel_state.get(key)
    if n is None:
        n = 8
        if device.type == "cuda":
            n *= torch.cuda.get_device_properties(device).multi_processor_count
        _kernel_state[key] = n
    return int(n)


def _disable(key: str, kernel: str, fallback: str, e: Exception) -> None:
    """A fused kernel failed: warn once and skip it from now on (a compile or launch problem
    must not cost the user their run)."""
    _kernel_state[key] = e
    warnings.warn(
        f"xfast: the {kernel} histogram kernel failed ({type(e).__name__}: {e}); using the "
        f"{fallback} path from now on",
        RuntimeWarning,
        stacklevel=4,
    )


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


def histogram_device(
    tensors: Sequence[Any], prev: Optional[Sequence[Optional[Any]]] = None
) -> Any:
    """Default-bins counts and moments of each tensor, computed on its device.

    Args:
        tensors: Tensors on one device (any real dtype; CPU tensors work too, for tests).
        prev: Optional tensors of the same shapes (the previous step's values): column
            ``update_sum_squares`` then holds sum((t - prev)^2) over finite elements.

    Returns:
        A float64 tensor of shape (len(tensors), WIDTH) on that device: NBINS bin counts then
        the MOMENTS columns. min/max/sum/sum_squares cover finite values only (min is +inf and
        max -inf when there is none). Nothing is read back to the host.
    """
    import torch

    if not tensors:
        raise ValueError("histogram_device needs at least one tensor")
    if prev is not None and len(prev) != len(tensors):
        raise ValueError(f"histogram_device: {len(prev)} previous values for {len(tensors)} "
                         "tensors")
    device = tensors[0].device
    if _use_cuda_kernel(device, tensors, prev):
        try:
            from xfast._cuda_histogram import histogram_cuda

            return histogram_cuda(torch, tensors, prev, device_table(torch, device))
        except Exception as e:
            _disable("cuda disabled", "CUDA", "Triton or torch-ops", e)
    if _use_triton(device, tensors, prev):
        try:
            from xfast._triton_histogram import histogram_triton

            return histogram_triton(torch, tensors, prev, device_table(torch, device), NBINS,
                                    _programs(torch, device))
        except Exception as e:
            _disable("disabled", "Triton", "torch-ops", e)
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


def to_pinned_host(torch: Any, result: Any) -> tuple[Any, Optional[Any]]:
    """Starts the copy of a packed result to host memory without waiting for it.

    Returns (host tensor, event): on CUDA the host tensor is pinned, the copy non-blocking and
    the event recorded after it on the current stream; the host tensor is valid once the event
    has completed. On CPU the result is returned as is with no event; other devices (MPS, XPU,
    ...) copy it with a plain, synchronizing ``.cpu()``.
    """
    if result.device.type != "cuda":
        return result.cpu(), None
    host = torch.empty(result.shape, dtype=result.dtype, pin_memory=True)
    host.copy_(result, non_blocking=True)
    event = torch.cuda.Event()
    event.record()
    return host, event
