# SPDX-License-Identifier: Apache-2.0
"""The default-bins histogram of device tensors, computed on their device with no host sync:
the choice of backend, and the non-blocking copy of the small result to the host.

Three backends, one result (the packed rows of xfast.encoding.histogram_rows): for CUDA
float32/bfloat16/float16 tensors a fused Triton kernel (xfast.device.triton_kernel: one read
pass, one launch per dtype in the batch plus one reduction launch) when triton imports;
otherwise, and for every other dtype or device, torch ops (xfast.device.torch_ops). The torch
ops stay because they run anywhere: CI checks them bucket for bucket against the native kernel
on CPU tensors, and the Triton kernel against them (Triton's interpreter, and
benchmarks/gpu_check.py on a GPU). A Triton failure at run time warns once and falls back.
``XFAST_DEVICE_HISTOGRAM=torch`` forces the torch ops; ``XFAST_DEVICE_HISTOGRAM=cuda`` selects a
third backend, CUDA C++ compiled by NVRTC (xfast.device.cuda_kernel; opt-in until measured on
a GPU). Every result stays on the device: the caller copies it to pinned memory with
``to_pinned_host``.
"""

from __future__ import annotations

import os
import warnings
from collections.abc import Sequence
from typing import Any, Optional

from xfast.device import common
from xfast.device.common import device_table, fused_dtypes, kernel_supports
from xfast.device.torch_ops import histogram_torch
from xfast.encoding.histogram_rows import NBINS


def _use_triton(
    device: Any, tensors: Sequence[Any], prev: Optional[Sequence[Optional[Any]]]
) -> bool:
    """Triton for CUDA float32/bfloat16/float16 batches when it imports, unless
    XFAST_DEVICE_HISTOGRAM=torch; XFAST_DEVICE_HISTOGRAM=triton forces it (CPU tensors under
    TRITON_INTERPRET=1, for tests)."""
    mode = os.environ.get("XFAST_DEVICE_HISTOGRAM", "auto")
    if mode == "torch" or "disabled" in common.kernel_state:
        return False
    if mode != "triton" and device.type != "cuda":
        return False
    try:
        import xfast.device.triton_kernel  # noqa: F401 (whether triton imports)
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
    """The NVRTC-compiled CUDA C++ kernel (xfast.device.cuda_kernel) for CUDA float32/bfloat16/
    float16 batches, only with XFAST_DEVICE_HISTOGRAM=cuda: not yet measured on a GPU."""
    if os.environ.get("XFAST_DEVICE_HISTOGRAM") != "cuda" or device.type != "cuda":
        return False
    return "cuda disabled" not in common.kernel_state and _fused_kernels_take(device, tensors, prev)


def _programs(torch: Any, device: Any) -> int:
    """The Triton grid size for `device`: a few programs per SM (looked up once)."""
    key = f"programs {device}"
    n = common.kernel_state.get(key)
    if n is None:
        n = 8
        if device.type == "cuda":
            n *= torch.cuda.get_device_properties(device).multi_processor_count
        common.kernel_state[key] = n
    return int(n)


def _disable(key: str, kernel: str, fallback: str, e: Exception) -> None:
    """A fused kernel failed: warn once and skip it from now on (a compile or launch problem
    must not cost the user their run)."""
    common.kernel_state[key] = e
    warnings.warn(
        f"xfast: the {kernel} histogram kernel failed ({type(e).__name__}: {e}); using the "
        f"{fallback} path from now on",
        RuntimeWarning,
        stacklevel=4,
    )


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
            from xfast.device.cuda_kernel import histogram_cuda

            return histogram_cuda(torch, tensors, prev, device_table(torch, device))
        except Exception as e:
            _disable("cuda disabled", "CUDA", "Triton or torch-ops", e)
    if _use_triton(device, tensors, prev):
        try:
            from xfast.device.triton_kernel import histogram_triton

            return histogram_triton(torch, tensors, prev, device_table(torch, device), NBINS,
                                    _programs(torch, device))
        except Exception as e:
            _disable("disabled", "Triton", "torch-ops", e)
    return histogram_torch(torch, tensors, prev)


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
