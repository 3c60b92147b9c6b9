# SPDX-License-Identifier: Apache-2.0
"""What the device backends share: small uploads without blocking keyed by stream, the fused
kernels' dtypes and packed slot table, and their process-wide state. The bottom of
xfast.device: the dispatcher (xfast.device.histogram) and every backend import it, it imports
none of them."""

from __future__ import annotations

import functools
import threading
from typing import Any, Callable, Optional

import numpy as np

from xfast import _core

# Uploads cached per stream (per_stream).
_tables_lock = threading.Lock()
_tables: dict[Any, Any] = {}


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


def per_stream(torch: Any, device: Any, name: str, make: Callable[[], Any]) -> Any:
    """``make()``'s uploads to `device`, made once per (name, device, current stream) and cached
    for the process (see stream_key). Any thread."""
    key = (name, *stream_key(torch, device))
    t = _tables.get(key)
    if t is None:
        with _tables_lock:
            t = _tables.get(key)
            if t is None:
                t = _tables[key] = make()
    return t


def device_table(torch: Any, device: Any) -> Any:
    """packed_slot_table() on `device` (the Triton and CUDA kernels' table), uploaded once per
    stream."""

    def make() -> Any:
        return upload(torch, device, torch.from_numpy(packed_slot_table()))

    return per_stream(torch, device, "packed", make)


# The fused kernels' process-wide state: the packed table ("packed"), programs per device,
# and the error that switched a kernel off ("disabled": Triton, "cuda disabled": CUDA C++).
kernel_state: dict[str, Any] = {}

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
    cached: Optional[np.ndarray] = kernel_state.get("packed")
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
    kernel_state["packed"] = table
    return table
