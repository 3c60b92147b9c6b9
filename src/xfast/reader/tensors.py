# SPDX-License-Identifier: Apache-2.0
"""TensorProto to numpy as TensorBoard's ``make_ndarray`` does it, without TensorBoard."""

from __future__ import annotations

from typing import Any

import numpy as np
import numpy.typing as npt

# DataType -> (numpy dtype, the repeated field holding the values when tensor_content is empty).
_DTYPES: dict[int, tuple[Any, str]] = {
    1: (np.float32, "float_val"),
    2: (np.float64, "double_val"),
    3: (np.int32, "int_val"),
    4: (np.uint8, "int_val"),
    5: (np.int16, "int_val"),
    6: (np.int8, "int_val"),
    7: (object, "string_val"),
    9: (np.int64, "int64_val"),
    10: (np.bool_, "bool_val"),
    17: (np.uint16, "int_val"),
    19: (np.float16, "half_val"),
    22: (np.uint32, "uint32_val"),
    23: (np.uint64, "uint64_val"),
}


def make_ndarray(tensor: Any) -> npt.NDArray[Any]:
    """The numpy array a TensorProto holds. A value list shorter than the shape is padded with its
    last value (zeros when empty), as TensorFlow does. Raises ValueError for an unknown dtype."""
    if tensor.dtype not in _DTYPES:
        raise ValueError(f"tensor dtype {tensor.dtype} is not supported")
    dtype, field = _DTYPES[tensor.dtype]
    shape = tuple(d.size for d in tensor.tensor_shape.dim)
    n = int(np.prod(shape, dtype=np.int64))
    if tensor.tensor_content and dtype is not object:
        return np.frombuffer(tensor.tensor_content, dtype=dtype).copy().reshape(shape)
    values = list(getattr(tensor, field))
    if field == "half_val":  # float16 bit patterns stored as ints
        flat = np.array(values, dtype=np.uint16).view(np.float16)
    else:
        flat = np.array(values, dtype=dtype)
    if len(flat) == n:
        return flat.reshape(shape)
    if len(flat) == 0:
        return np.zeros(shape, dtype=dtype)
    out = np.empty(n, dtype=flat.dtype)
    out[: len(flat)] = flat
    out[len(flat) :] = flat[-1]
    return out.reshape(shape)
