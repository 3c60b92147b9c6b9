# SPDX-License-Identifier: Apache-2.0
"""Turns user values (Python numbers, numpy, torch tensors) into what the engine takes."""

from __future__ import annotations

import sys
import time
from typing import Any, Optional

import numpy as np

# Engine dtype codes (csrc/histogram.h DType), keyed by numpy dtype.
_NUMPY_CODES = {
    np.dtype(np.float32): 0,
    np.dtype(np.float64): 1,
    np.dtype(np.float16): 2,
    np.dtype(np.int8): 4,
    np.dtype(np.uint8): 5,
    np.dtype(np.int16): 6,
    np.dtype(np.uint16): 7,
    np.dtype(np.int32): 8,
    np.dtype(np.uint32): 9,
    np.dtype(np.int64): 10,
    np.dtype(np.uint64): 11,
    np.dtype(np.bool_): 12,
}
BFLOAT16_CODE = 3


# Engine dtype codes keyed by torch dtype, filled on first use (torch is imported lazily).
_TORCH_CODES: dict[Any, int] = {}
# (torch.Tensor, torch.nn.Parameter, torch.strided) once torch is imported: host_tensor_span
# runs for every tensor of a model each step, and looking these up through the torch module
# each time (sys.modules, torch.nn, !=) cost as much as all its checks (838 -> 410 ns a call).
_PLAIN: tuple[Any, ...] = ()


def _plain_tensor_types() -> tuple[Any, ...]:
    """_PLAIN, filled on first use; () while torch is not imported."""
    global _PLAIN
    torch = sys.modules.get("torch")
    if torch is None:
        return ()
    names = ("float32", "float64", "float16", "bfloat16", "int8", "uint8", "int16",
             "uint16", "int32", "uint32", "int64", "uint64", "bool")  # DType's order
    _TORCH_CODES.update({getattr(torch, name): code for code, name in enumerate(names)})
    _PLAIN = (torch.Tensor, torch.nn.Parameter, torch.strided)
    return _PLAIN


def host_tensor_span(values: Any) -> Optional[tuple[int, int, int]]:
    """(address, element count, engine dtype code) of a plain (not a subclass: no DTensor),
    dense, contiguous, non-empty CPU tensor of a dtype the kernel reads in place; None for
    anything else (histogram_buffer then takes it). The histogram's fast path: a numpy view of
    a tensor (detach, numpy, reshape) costs several microseconds, as much as counting a bias.
    The caller keeps the tensor alive while the engine reads the address."""
    plain = _PLAIN or _plain_tensor_types()
    if not plain:
        return None
    cls = type(values)
    if cls is not plain[0] and cls is not plain[1]:
        return None
    code = _TORCH_CODES.get(values.dtype)
    if (code is None or not values.is_cpu or values.layout is not plain[2]
            or not values.is_contiguous() or values.is_neg()):
        return None
    n = values.numel()
    return (values.data_ptr(), n, code) if n else None


def torch_module() -> Any:
    """torch if the program imported it, else None: a value cannot be a tensor otherwise."""
    return sys.modules.get("torch")


def is_tensor(value: Any) -> bool:
    torch = torch_module()
    return torch is not None and isinstance(value, torch.Tensor)


def to_float(value: Any) -> float:
    """A scalar_value as a Python float, following torch's make_np + squeeze rules.

    Raises TypeError for values that are not numbers, ValueError for arrays or tensors with
    more than one element (torch raises AssertionError there).
    """
    if isinstance(value, (float, int)):
        return float(value)
    if is_tensor(value):
        if value.numel() != 1:
            raise ValueError(
                "scalar_value must hold exactly one element, "
                f"got a tensor of shape {tuple(value.shape)}"
            )
        return float(value.detach().reshape(()).item())
    if isinstance(value, (np.ndarray, np.generic, list, tuple)):
        arr = np.asarray(value)
        if arr.size != 1:
            raise ValueError(
                f"scalar_value must hold exactly one element, got shape {arr.shape}"
            )
        if arr.dtype.kind not in "biuf":
            raise TypeError(f"scalar_value must be numeric, got dtype {arr.dtype}")
        return float(arr.reshape(()))
    if isinstance(value, (str, bytes)) or value is None:
        raise TypeError(f"scalar_value must be a number, got {type(value).__name__}")
    try:
        return float(value)
    except (TypeError, ValueError) as e:
        raise TypeError(f"scalar_value must be a number, got {type(value).__name__}") from e


def to_step(global_step: Any) -> int:
    """global_step as torch stores it: int(step), None as 0 (the proto3 default).

    Raises ValueError for NaN, infinite or out-of-int64 steps (where torch raises ValueError,
    OverflowError or a protobuf error), TypeError for values int() does not take.
    """
    if type(global_step) is int and -(2**63) <= global_step < 2**63:
        return global_step  # the usual call, without the tensor check (213 -> ~60 ns)
    if global_step is None:
        return 0
    if is_tensor(global_step):
        if global_step.numel() != 1:
            raise ValueError(
                f"global_step must be one number, got a tensor of shape {tuple(global_step.shape)}"
            )
        global_step = global_step.item()
    try:
        step = int(global_step)
    except OverflowError as e:
        raise ValueError(f"global_step must be finite, got {global_step!r}") from e
    if not -(2**63) <= step < 2**63:
        raise ValueError(f"global_step must fit in int64, got {step}")
    return step


def to_walltime(walltime: Any) -> float:
    """walltime as a float, the current time for None.

    Raises ValueError for an int beyond float's range (float() raises OverflowError) or a
    string float() does not read, TypeError for values float() does not take.
    """
    if walltime is None:
        return time.time()
    try:
        return float(walltime)
    except OverflowError as e:
        raise ValueError(f"walltime is out of range: {walltime!r}") from e


def to_max_bins(max_bins: Any) -> Any:
    """max_bins as the engine takes it: None, or a positive int64.

    Raises ValueError for values that are not positive, NaN, infinite or beyond int64 (int()
    raises OverflowError for an infinity), TypeError for values int() does not take.
    """
    if max_bins is None:
        return None
    try:
        bins = int(max_bins)
    except OverflowError as e:
        raise ValueError(f"max_bins must be a positive integer, got {max_bins!r}") from e
    if not 0 < bins < 2**63:
        raise ValueError(f"max_bins must be positive, got {bins}")
    return bins


def check_strided(t: Any) -> None:
    """Raises TypeError for a sparse (or other non-strided) tensor: its storage is not its
    elements, and densifying one could take far more memory than it does (torch's writer
    refuses them too)."""
    torch = torch_module()
    if torch is not None and t.layout != torch.strided:
        raise TypeError(
            f"histograms take dense tensors, got one of layout {t.layout}; "
            "call .to_dense() on it first"
        )


def histogram_buffer(values: Any) -> tuple[np.ndarray, int]:
    """A C-contiguous host buffer over `values` and its engine dtype code, copying only when the
    data is not already contiguous host memory. bfloat16 tensors are viewed as int16 bits
    (code BFLOAT16_CODE), never converted."""
    torch = torch_module()
    if torch is not None and isinstance(values, torch.Tensor):
        # add_histograms calls this for every parameter and gradient each step, so this branch
        # skips np.ascontiguousarray (t is contiguous by now): 2.0 -> 1.7 us a tensor.
        check_strided(values)
        t = values.detach()
        if not t.is_cpu:
            t = t.cpu()
        if not t.is_contiguous():
            t = t.contiguous()
        if t.dtype == torch.bfloat16:
            return t.view(torch.int16).numpy().reshape(-1), BFLOAT16_CODE
        if t.is_complex():
            raise TypeError(f"add_histogram does not take complex tensors (got {t.dtype})")
        try:
            arr = t.numpy().reshape(-1)
        except TypeError as e:
            raise TypeError(f"add_histogram cannot read tensors of dtype {t.dtype}") from e
    else:
        arr = np.ascontiguousarray(np.asarray(values)).reshape(-1)
    code = _NUMPY_CODES.get(arr.dtype)
    if code is None:
        if arr.dtype.kind == "c":
            raise TypeError(f"add_histogram does not take complex values (got {arr.dtype})")
        try:
            arr = arr.astype(np.float64)
        except (TypeError, ValueError) as e:
            raise TypeError(f"add_histogram needs numeric values, got dtype {arr.dtype}") from e
        code = _NUMPY_CODES[arr.dtype]
    return arr, code


def float64_array(values: Any) -> np.ndarray:
    """values flattened to float64 (the custom-bins path, which numpy computes as torch does)."""
    if is_tensor(values):
        check_strided(values)
        torch = torch_module()
        t = values.detach().cpu()
        if t.dtype == torch.bfloat16:
            t = t.float()
        if t.is_complex():
            raise TypeError(f"expected real values, got a {t.dtype} tensor")
        values = t.numpy()
    arr = np.asarray(values)
    if arr.dtype.kind == "c":
        raise TypeError(f"expected real values, got dtype {arr.dtype}")
    try:
        return arr.astype(np.float64).reshape(-1)
    except (TypeError, ValueError) as e:
        raise TypeError(f"expected numbers, got dtype {arr.dtype}") from e
