# SPDX-License-Identifier: Apache-2.0
"""Host copies of user arrays taken at the call, so the caller may change its tensor as soon as
the call returns while a worker encodes the copy. CUDA tensors are copied without blocking,
into pinned memory, with an event the worker waits on."""

from __future__ import annotations

from typing import Any, Optional

import numpy as np

from xfast import _core
from xfast.encoding.convert import is_tensor, torch_module

_numpy_dtypes: dict[Any, np.dtype] = {}


def _numpy_dtype(torch_dtype: Any) -> np.dtype:
    """The numpy dtype of a torch dtype; TypeError for dtypes numpy lacks (bfloat16 aside)."""
    dt = _numpy_dtypes.get(torch_dtype)
    if dt is None:
        torch = torch_module()
        try:
            dt = torch.empty(0, dtype=torch_dtype).numpy().dtype
        except TypeError as e:
            raise TypeError(f"xfast cannot read tensors of dtype {torch_dtype}") from e
        _numpy_dtypes[torch_dtype] = dt
    return dt


class Snapshot:
    """A host copy of an array: ``shape`` and ``dtype`` (numpy) right away, the data through
    ``array()``, which waits for a pending device-to-host copy first."""

    def __init__(self, data: Any, ready: Optional[Any] = None) -> None:
        self._data = data
        self._ready = ready
        self.shape: tuple[int, ...] = tuple(data.shape)
        self.dtype: np.dtype = (
            data.dtype if isinstance(data, np.ndarray) else _numpy_dtype(data.dtype)
        )

    def array(self) -> np.ndarray:
        """The copied data as a numpy array (blocks until a CUDA copy has landed)."""
        if self._ready is not None:
            self._ready.synchronize()
            self._ready = None
        data = self._data
        return data if isinstance(data, np.ndarray) else data.numpy()


def _tensor_for_numpy(value: Any) -> Any:
    """The detached tensor as torch's make_np reads it: bfloat16 becomes float16."""
    torch = torch_module()
    t = value.detach()
    if t.dtype == torch.bfloat16:
        t = t.to(torch.float16)
    if t.is_complex():
        raise TypeError(f"expected real numbers, got a tensor of dtype {t.dtype}")
    return t


def host_array(value: Any) -> np.ndarray:
    """`value` (tensor, ndarray, list or number) as a numpy array, synchronously and without a
    copy where none is needed (for the summary functions, which encode at once)."""
    if is_tensor(value):
        arr: np.ndarray = _tensor_for_numpy(value).cpu().numpy()
        return arr
    return np.asarray(value)


def snapshot(value: Any) -> Snapshot:
    """A private host copy of `value`, safe to read from another thread later."""
    if not is_tensor(value):
        return Snapshot(np.array(value, copy=True))
    t = _tensor_for_numpy(value)
    if t.device.type == "cuda":
        torch = torch_module()
        host = torch.empty(t.shape, dtype=t.dtype, pin_memory=True)
        host.copy_(t, non_blocking=True)
        done = torch.cuda.Event()
        done.record(torch.cuda.current_stream(t.device))
        return Snapshot(host, done)
    if t.device.type == "cpu":
        return Snapshot(t.numpy().copy())
    return Snapshot(t.cpu().numpy())


def pixel_snapshot(value: Any) -> Snapshot:
    """snapshot() for an image: a C-contiguous float32 numpy array or CPU tensor is taken as the
    uint8 pixels torch's image() makes of it, in one native pass (`_core.pixels_uint8`), where a
    copy would write the floats again (~0.2 ms against ~0.3-0.4 for 3x512x512 out of cache).
    The encoder then sees uint8, which torch's scaling leaves as is, and the scaling is per
    pixel, so the image encoded is the same. A strided float32 one is copied as it is;
    anything else is taken by snapshot()."""
    arr: Any = None
    if type(value) is np.ndarray:
        arr = value
    elif (is_tensor(value) and value.dtype == torch_module().float32
          and value.device.type == "cpu"):
        arr = value.detach().numpy()  # raises for a negative-bit view, as snapshot() does
    if arr is not None and arr.dtype == np.float32:
        # A strided one is copied here, from the view already taken, not detached again.
        return Snapshot(_core.pixels_uint8(arr) if arr.flags.c_contiguous else arr.copy())
    return snapshot(value)
