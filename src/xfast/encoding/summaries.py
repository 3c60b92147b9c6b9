# SPDX-License-Identifier: Apache-2.0
"""The Summary messages of the core dashboards (scalars, tensors, histograms), as torch's
summary functions build them, and the helpers every plugin's messages share (plugin metadata,
shapes, torch's make_np)."""

from __future__ import annotations

import struct
from collections.abc import Sequence
from typing import Any, Optional

import numpy as np

from xfast import _core
from xfast.encoding import proto as pb
from xfast.encoding.convert import is_tensor, to_float, torch_module

Summary = pb.Summary
SummaryMetadata = pb.SummaryMetadata


def plugin_metadata(plugin_name: str, content: bytes = b"") -> Any:
    """SummaryMetadata naming the TensorBoard plugin that reads the value, with its content."""
    return SummaryMetadata(
        plugin_data=SummaryMetadata.PluginData(plugin_name=plugin_name, content=content)
    )


def shape(dims: Sequence[int]) -> Any:
    """A TensorShapeProto of `dims`."""
    return pb.TensorShapeProto(dim=[pb.TensorShapeProto.Dim(size=int(d)) for d in dims])


def make_np(x: Any) -> np.ndarray:
    """torch's make_np: an ndarray as is, a scalar as a 1-element array, a tensor through
    detach().cpu() (bfloat16 via float16, as torch does). Lists are accepted too (torch raises)."""
    if isinstance(x, np.ndarray):
        return x
    if np.isscalar(x):
        return np.array([x])
    if is_tensor(x):
        torch = torch_module()
        if x.dtype == torch.bfloat16:
            x = x.to(torch.float16)
        return np.asarray(x.detach().cpu().numpy())
    if isinstance(x, (list, tuple)):
        return np.asarray(x)
    raise TypeError(f"expected a numpy array, a torch tensor or a list, got {type(x).__name__}")


def half_to_int(f: float) -> int:
    """Casts a half-precision float value into an integer (the float32 bit pattern of `f`), as
    torch stores half and bfloat16 values in ``TensorProto.half_val``. Undo with int_to_half()."""
    return int(struct.unpack("<i", struct.pack("<f", f))[0])


def int_to_half(i: int) -> float:
    """Casts an integer obtained from half_to_int back into a floating point value."""
    return float(struct.unpack("<f", struct.pack("<i", i))[0])


def scalar(
    name: str,
    tensor: Any,
    collections: Any = None,
    new_style: bool = False,
    double_precision: bool = False,
) -> Any:
    """Outputs a `Summary` protocol buffer containing a single scalar value.

    Args:
        name: A name for the generated node; also the series name in TensorBoard.
        tensor: A real number, or an array or tensor holding a single value.
        collections: Unused (kept for torch's signature).
        new_style: Whether to use new style (tensor field) or old style (simple_value field).
        double_precision: With ``new_style``, store the value as float64.

    Returns:
        A `Summary` protobuf.

    Raises:
        ValueError: `tensor` holds more than one value (torch raises AssertionError).
    """
    value = to_float(tensor)
    if not new_style:
        return Summary(value=[Summary.Value(tag=name, simple_value=value)])
    if double_precision:
        proto = pb.TensorProto(double_val=[value], dtype=pb.DataType.Value("DT_DOUBLE"))
    else:
        proto = pb.TensorProto(float_val=[value], dtype=pb.DataType.Value("DT_FLOAT"))
    return Summary(
        value=[Summary.Value(tag=name, tensor=proto, metadata=plugin_metadata("scalars"))]
    )


def _tensor_fields() -> dict[Any, tuple[str, str, Any]]:
    """torch dtype -> (DataType name, TensorProto field, values as written), torch's table.
    Half types keep the float32 bit pattern of each value in ``half_val``, as torch does."""
    torch = torch_module()

    def flat(t: Any) -> Any:
        return t.reshape(-1).numpy()

    def float_bits(t: Any) -> Any:
        return t.reshape(-1).to(torch.float32).numpy().view(np.int32)

    def complex_parts(t: Any) -> Any:
        return torch.view_as_real(t).reshape(-1).numpy()

    return {
        torch.float16: ("DT_HALF", "half_val", float_bits),
        torch.bfloat16: ("DT_BFLOAT16", "half_val", float_bits),
        torch.float32: ("DT_FLOAT", "float_val", flat),
        torch.float64: ("DT_DOUBLE", "double_val", flat),
        torch.int8: ("DT_INT8", "int_val", flat),
        torch.int16: ("DT_INT16", "int_val", flat),
        torch.int32: ("DT_INT32", "int_val", flat),
        torch.int64: ("DT_INT64", "int64_val", flat),
        torch.uint8: ("DT_UINT8", "uint32_val", flat),
        torch.bool: ("DT_BOOL", "bool_val", flat),
        torch.complex64: ("DT_COMPLEX64", "scomplex_val", complex_parts),
        torch.complex128: ("DT_COMPLEX128", "dcomplex_val", complex_parts),
    }


def tensor_proto(tag: str, tensor: Any) -> Any:
    """Outputs a `Summary` protocol buffer containing the full tensor (plugin "tensor").

    Args:
        tag: A name for the generated node; also the series name in TensorBoard.
        tensor: The torch.Tensor (or numpy array) to store.

    Returns:
        A `Summary` protobuf.

    Raises:
        ValueError: the tensor is 2 GiB or larger, or its dtype has no TensorProto encoding.

    As in torch, float16 and bfloat16 values are stored in ``half_val`` as the bit patterns of
    their float32 values (not their 16-bit patterns), which TensorBoard's ``make_ndarray``
    cannot decode; read them back with ``int_to_half``.

    Differences from torch:
        numpy arrays are accepted (converted with ``torch.as_tensor``). Quantized and
        complex32 tensors raise ValueError (torch fails on them with RuntimeError and
        protobuf's ValueError).
    """
    torch = torch_module()
    if torch is None or not isinstance(tensor, torch.Tensor):
        if not isinstance(tensor, np.ndarray):
            raise TypeError(f"tensor must be a torch.Tensor, got {type(tensor).__name__}")
        import torch
        tensor = torch.as_tensor(tensor)
    if tensor.numel() * tensor.element_size() >= (1 << 31):
        raise ValueError("tensor is bigger than protocol buffer's hard limit of 2GB in size")
    spec = _tensor_fields().get(tensor.dtype)
    if spec is None:
        raise ValueError(f"{tag} has unsupported tensor dtype {tensor.dtype}")
    dtype, field, values = spec
    proto = pb.TensorProto(
        dtype=pb.DataType.Value(dtype), tensor_shape=shape(tensor.shape)
    )
    # Lazily conjugated or negated views (x.conj(), x.conj().imag) are materialised first.
    data = tensor.detach().cpu().resolve_conj().resolve_neg().contiguous()
    getattr(proto, field).extend(values(data).tolist())
    return Summary(
        value=[Summary.Value(tag=tag, metadata=plugin_metadata("tensor"), tensor=proto)]
    )


def histogram_raw(
    name: str,
    min: float,
    max: float,
    num: int,
    sum: float,
    sum_squares: float,
    bucket_limits: Any,
    bucket_counts: Any,
) -> Any:
    """Outputs a `Summary` protocol buffer with a histogram whose fields are given as they are.

    Args:
        name: A name for the generated node; also the series name in TensorBoard.
        min: A float or int min value.
        max: A float or int max value.
        num: Int number of values.
        sum: Float or int sum of all values.
        sum_squares: Float or int sum of squares for all values.
        bucket_limits: A numeric sequence with the upper value per bucket.
        bucket_counts: A numeric sequence with the number of values per bucket.

    Returns:
        A `Summary` protobuf.
    """
    hist = pb.HistogramProto(
        min=min, max=max, num=num, sum=sum, sum_squares=sum_squares,
        bucket_limit=make_np(bucket_limits).astype(np.float64).reshape(-1).tolist(),
        bucket=make_np(bucket_counts).astype(np.float64).reshape(-1).tolist(),
    )
    return Summary(value=[Summary.Value(tag=name, histo=hist)])


def histogram(name: str, values: Any, bins: Any, max_bins: Optional[int] = None) -> Any:
    """Outputs a `Summary` protocol buffer with a histogram of `values`.

    Args:
        name: A name for the generated node; also the series name in TensorBoard.
        values: A real numeric array or tensor, any shape.
        bins: Anything ``numpy.histogram`` takes as bins, or ``"tensorflow"`` for
            TensorBoard's default exponential bins.
        max_bins: Group bins so that about this many remain (torch's subsampling).

    Returns:
        A `Summary` protobuf.

    Differences from torch:
        ``bins="tensorflow"`` is accepted here (torch's writer substitutes the edges before
        calling this; torch's function itself would fail in numpy).
    """
    hist = make_histogram(make_np(values).astype(float), bins, max_bins)
    return Summary(value=[Summary.Value(tag=name, histo=hist)])


def make_histogram(values: np.ndarray, bins: Any, max_bins: Optional[int] = None) -> Any:
    """Converts values into a histogram proto (torch's and TensorFlow's histogram.cc logic):
    numpy counts, optional grouping to ``max_bins``, then the empty buckets at both ends are
    trimmed, keeping one empty bucket on the left whose limit is the support's left edge.

    Raises:
        ValueError: `values` is empty.
    """
    if values.size == 0:
        raise ValueError("The input has no element.")
    if isinstance(bins, str) and bins == "tensorflow":
        bins = np.asarray(_core.default_edges(), dtype=np.float64)
    values = values.reshape(-1)
    counts, limits = np.histogram(values, bins=bins)
    if max_bins is not None and len(counts) > max_bins:
        group = len(counts) // max_bins
        counts = np.pad(counts, (0, -len(counts) % group)).reshape(-1, group).sum(axis=-1)
        limits = np.concatenate([limits[:-1:group], limits[-1:]])
    nonzero = np.flatnonzero(counts)
    # With no count at all (every value outside the bins) torch's searchsorted gives these
    # bounds, which raise below unless there is a single bin.
    first = int(nonzero[0]) if nonzero.size else len(counts)
    last = int(nonzero[-1]) + 1 if nonzero.size else 1
    kept = counts[first - 1:last] if first > 0 else np.concatenate([[0], counts[:last]])
    limits = limits[first:last + 1]
    if kept.size == 0 or limits.size == 0:
        raise ValueError("The histogram is empty, please file a bug report.")
    return pb.HistogramProto(
        min=values.min(), max=values.max(), num=len(values), sum=values.sum(),
        sum_squares=values.dot(values), bucket_limit=limits.tolist(), bucket=kept.tolist(),
    )
