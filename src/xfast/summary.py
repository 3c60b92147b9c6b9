# SPDX-License-Identifier: Apache-2.0
"""torch.utils.tensorboard.summary's functions: each builds a ``Summary`` message (xfast's own
classes, wire-identical to TensorBoard's) with the same content torch's builds."""

from __future__ import annotations

import json
import struct
from collections.abc import Mapping, Sequence
from typing import Any, Optional

import numpy as np

from xfast import _core, _proto
from xfast._convert import is_tensor, to_float, torch_module
from xfast._media_summary import audio, image, image_boxes, video

__all__ = [
    "audio",
    "compute_curve",
    "custom_scalars",
    "half_to_int",
    "histogram",
    "histogram_raw",
    "hparams",
    "image",
    "image_boxes",
    "int_to_half",
    "make_histogram",
    "mesh",
    "pr_curve",
    "pr_curve_raw",
    "scalar",
    "tensor_proto",
    "text",
    "video",
]

Summary = _proto.Summary
SummaryMetadata = _proto.SummaryMetadata

# Plugin names and tags the TensorBoard plugins look for (tensorboard/plugins/*/metadata.py).
_HPARAMS_PLUGIN = "hparams"
EXPERIMENT_TAG = "_hparams_/experiment"
SESSION_START_INFO_TAG = "_hparams_/session_start_info"
SESSION_END_INFO_TAG = "_hparams_/session_end_info"
CUSTOM_SCALARS_TAG = "custom_scalars__config__"
# torch caps PR curves at 127 thresholds (its comment: "value > 127 breaks protobuf").
_MAX_PR_THRESHOLDS = 127


def _plugin_metadata(plugin_name: str, content: bytes = b"") -> Any:
    return SummaryMetadata(
        plugin_data=SummaryMetadata.PluginData(plugin_name=plugin_name, content=content)
    )


def _shape(dims: Sequence[int]) -> Any:
    return _proto.TensorShapeProto(dim=[_proto.TensorShapeProto.Dim(size=int(d)) for d in dims])


def _make_np(x: Any) -> np.ndarray:
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
        proto = _proto.TensorProto(double_val=[value], dtype=_proto.DataType.Value("DT_DOUBLE"))
    else:
        proto = _proto.TensorProto(float_val=[value], dtype=_proto.DataType.Value("DT_FLOAT"))
    return Summary(
        value=[Summary.Value(tag=name, tensor=proto, metadata=_plugin_metadata("scalars"))]
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
    proto = _proto.TensorProto(
        dtype=_proto.DataType.Value(dtype), tensor_shape=_shape(tensor.shape)
    )
    # Lazily conjugated or negated views (x.conj(), x.conj().imag) are materialised first.
    data = tensor.detach().cpu().resolve_conj().resolve_neg().contiguous()
    getattr(proto, field).extend(values(data).tolist())
    return Summary(
        value=[Summary.Value(tag=tag, metadata=_plugin_metadata("tensor"), tensor=proto)]
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
    hist = _proto.HistogramProto(
        min=min, max=max, num=num, sum=sum, sum_squares=sum_squares,
        bucket_limit=_make_np(bucket_limits).astype(np.float64).reshape(-1).tolist(),
        bucket=_make_np(bucket_counts).astype(np.float64).reshape(-1).tolist(),
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
    hist = make_histogram(_make_np(values).astype(float), bins, max_bins)
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
    return _proto.HistogramProto(
        min=values.min(), max=values.max(), num=len(values), sum=values.sum(),
        sum_squares=values.dot(values), bucket_limit=limits.tolist(), bucket=kept.tolist(),
    )


def text(tag: str, text: str) -> Any:
    """Outputs a `Summary` with a text tensor (plugin "text"); the tag gets "/text_summary"."""
    if not isinstance(text, str):
        raise TypeError(f"text must be a str, got {type(text).__name__}")
    proto = _proto.TensorProto(
        dtype=_proto.DataType.Value("DT_STRING"),
        string_val=[text.encode("utf-8")],
        tensor_shape=_shape([1]),
    )
    metadata = _plugin_metadata("text", _proto.TextPluginData(version=0).SerializeToString())
    return Summary(
        value=[Summary.Value(tag=tag + "/text_summary", metadata=metadata, tensor=proto)]
    )


def custom_scalars(layout: Mapping[str, Mapping[str, Sequence[Any]]]) -> Any:
    """Outputs the Custom Scalars dashboard's layout as a `Summary` (tag
    ``custom_scalars__config__``).

    Args:
        layout: ``{category: {chart title: [kind, tags]}}`` where kind is ``"Multiline"`` (tags:
            any number of tag regexes) or ``"Margin"`` (tags: exactly [value, lower, upper]).

    Raises:
        TypeError: `layout` is not a mapping of mappings.
        ValueError: a chart is not a [kind, tags] pair, or a Margin chart has not 3 tags
            (torch raises AssertionError).
    """
    if not isinstance(layout, Mapping):
        raise TypeError(f"layout must be a dict, got {type(layout).__name__}")
    categories = []
    for category, charts in layout.items():
        if not isinstance(charts, Mapping):
            raise TypeError(f"layout[{category!r}] must be a dict of charts")
        protos = []
        for title, spec in charts.items():
            if isinstance(spec, (str, bytes)) or len(spec) != 2:
                raise ValueError(
                    f"chart {title!r} must be [kind, tags], e.g. ['Multiline', ['a', 'b']]"
                )
            kind, tags = spec
            tags = [tags] if isinstance(tags, str) else list(tags)
            if kind == "Margin":
                if len(tags) != 3:
                    raise ValueError(
                        f"Margin chart {title!r} needs exactly 3 tags (value, lower, upper), "
                        f"got {len(tags)}"
                    )
                series = _proto.MarginChartContent.Series(
                    value=tags[0], lower=tags[1], upper=tags[2]
                )
                chart = _proto.Chart(title=title, margin=_proto.MarginChartContent(series=[series]))
            else:  # torch treats every other kind as Multiline
                chart = _proto.Chart(title=title, multiline=_proto.MultilineChartContent(tag=tags))
            protos.append(chart)
        categories.append(_proto.Category(title=category, chart=protos))
    proto = _proto.TensorProto(
        dtype=_proto.DataType.Value("DT_STRING"),
        string_val=[_proto.Layout(category=categories).SerializeToString()],
        tensor_shape=_proto.TensorShapeProto(),
    )
    return Summary(
        value=[
            Summary.Value(
                tag=CUSTOM_SCALARS_TAG, tensor=proto, metadata=_plugin_metadata("custom_scalars")
            )
        ]
    )


def _pr_curve_summary(tag: str, data: np.ndarray, num_thresholds: int) -> Any:
    content = _proto.PrCurvePluginData(version=0, num_thresholds=num_thresholds)
    proto = _proto.TensorProto(
        dtype=_proto.DataType.Value("DT_FLOAT"),
        float_val=data.reshape(-1).tolist(),
        tensor_shape=_shape(data.shape[:2]),
    )
    metadata = _plugin_metadata("pr_curves", content.SerializeToString())
    return Summary(value=[Summary.Value(tag=tag, metadata=metadata, tensor=proto)])


def pr_curve_raw(
    tag: str,
    tp: Any,
    fp: Any,
    tn: Any,
    fn: Any,
    precision: Any,
    recall: Any,
    num_thresholds: int = 127,
    weights: Any = None,
) -> Any:
    """Outputs a PR-curve `Summary` from precomputed counts: a [6, N] float tensor with rows
    tp, fp, tn, fn, precision, recall (plugin "pr_curves").

    Args:
        tag: Data identifier.
        tp, fp, tn, fn, precision, recall: 1-D sequences of equal length N.
        num_thresholds: Recorded in the plugin data (capped at 127).
        weights: Unused (kept for torch's signature).

    Raises:
        ValueError: the six rows are not 1-D sequences of one length.
    """
    rows = [_make_np(r).astype(np.float64) for r in (tp, fp, tn, fn, precision, recall)]
    if any(r.ndim != 1 for r in rows) or len({len(r) for r in rows}) != 1:
        raise ValueError(
            "the six PR-curve inputs must be 1-D and of one length, got shapes "
            + ", ".join(str(r.shape) for r in rows)
        )
    return _pr_curve_summary(tag, np.stack(rows), min(int(num_thresholds), _MAX_PR_THRESHOLDS))


def pr_curve(
    tag: str, labels: Any, predictions: Any, num_thresholds: int = 127, weights: Any = None
) -> Any:
    """Outputs a PR-curve `Summary` computed from binary `labels` and `predictions` in [0, 1].

    Args:
        tag: Data identifier.
        labels: Ground truth, one 0/1 (or bool) label per element.
        predictions: The probability that each element is true, in [0, 1].
        num_thresholds: Number of thresholds (capped at 127, as in torch).
        weights: Optional weight per element (or one weight).

    Raises:
        ValueError: labels and predictions differ in shape, or num_thresholds < 2.
    """
    num_thresholds = min(int(num_thresholds), _MAX_PR_THRESHOLDS)
    data = compute_curve(_make_np(labels), _make_np(predictions), num_thresholds, weights)
    return _pr_curve_summary(tag, data, num_thresholds)


def compute_curve(
    labels: Any, predictions: Any, num_thresholds: Optional[int] = None, weights: Any = None
) -> np.ndarray:
    """The [6, num_thresholds] PR table: predictions are bucketed by ``floor(p * (N - 1))``;
    tp and fp are reverse cumulative (weighted) counts, ``tn = fp[0] - fp``, ``fn = tp[0] - tp``,
    precision ``tp / max(1e-7, tp + fp)``, recall ``tp / max(1e-7, tp + fn)``."""
    if num_thresholds is None or num_thresholds < 2:
        raise ValueError(f"num_thresholds must be at least 2, got {num_thresholds}")
    labels = np.asarray(labels)
    predictions = np.asarray(predictions)
    if labels.shape != predictions.shape:
        raise ValueError(
            "labels and predictions must have one shape, "
            f"got {labels.shape} and {predictions.shape}"
        )
    minimum_count = 1e-7
    weights = 1.0 if weights is None else _make_np(weights)
    buckets = np.int32(np.floor(predictions * (num_thresholds - 1)))
    positive = labels.astype(np.float64)
    bounds = (0, num_thresholds - 1)
    tp_buckets, _ = np.histogram(
        buckets, bins=num_thresholds, range=bounds, weights=positive * weights
    )
    fp_buckets, _ = np.histogram(
        buckets, bins=num_thresholds, range=bounds, weights=(1.0 - positive) * weights
    )
    tp = np.cumsum(tp_buckets[::-1])[::-1]
    fp = np.cumsum(fp_buckets[::-1])[::-1]
    tn = fp[0] - fp
    fn = tp[0] - tp
    precision = tp / np.maximum(minimum_count, tp + fp)
    recall = tp / np.maximum(minimum_count, tp + fn)
    return np.stack((tp, fp, tn, fn, precision, recall))


def _mesh_array(x: Any) -> np.ndarray:
    """A mesh part as float64 (torch goes through torch.as_tensor(x).tolist(): exact values,
    bfloat16 included)."""
    if is_tensor(x):
        return np.asarray(x.detach().cpu().double().numpy())
    return np.asarray(x, dtype=np.float64)


_MESH_PARTS = (("vertices", "VERTEX"), ("faces", "FACE"), ("colors", "COLOR"))


def mesh(
    tag: str,
    vertices: Any,
    colors: Any,
    faces: Any,
    config_dict: Optional[Mapping[str, Any]],
    display_name: Optional[str] = None,
    description: Optional[str] = None,
) -> Any:
    """Outputs a merged `Summary` with a mesh or point cloud: one float tensor Value per part
    given (vertices, faces, colors, in that order), tagged ``<tag>_VERTEX`` and so on, each with
    ``MeshPluginData`` naming the mesh `tag` and the parts present.

    Args:
        tag: A name for this mesh.
        vertices: [B, N, 3] vertex coordinates.
        colors: [B, N, 3] colors (0-255), or None.
        faces: [B, F, 3] vertex indices of each triangle, or None.
        config_dict: Dictionary with ThreeJS classes names and configuration, or None.
        display_name: If set, the display name in TensorBoard.
        description: A longform readable description of the summary data (markdown).

    Raises:
        ValueError: a part is not of shape [B, N, 3].
    """
    json_config = "{}" if config_dict is None else json.dumps(config_dict, sort_keys=True)
    given = {"vertices": vertices, "faces": faces, "colors": colors}
    parts = [(name, kind) for name, kind in _MESH_PARTS if given[name] is not None]
    components = 0
    for _, kind in parts:
        components |= 1 << _proto.MeshPluginData.ContentType.Value(kind)
    values = []
    for name, kind in parts:
        data = _mesh_array(given[name])
        if data.ndim != 3 or data.shape[-1] != 3:
            raise ValueError(f"add_mesh: {name} must have shape [B, N, 3], got {data.shape}")
        content = _proto.MeshPluginData(
            version=0,
            name=tag,
            content_type=_proto.MeshPluginData.ContentType.Value(kind),
            components=components,
            shape=data.shape,
            json_config=json_config,
        )
        metadata = SummaryMetadata(
            display_name=display_name,
            summary_description=description,
            plugin_data=SummaryMetadata.PluginData(
                plugin_name="mesh", content=content.SerializeToString()
            ),
        )
        proto = _proto.TensorProto(
            dtype=_proto.DataType.Value("DT_FLOAT"),
            float_val=data.reshape(-1).tolist(),
            tensor_shape=_shape(data.shape),
        )
        values.append(Summary.Value(tag=f"{tag}_{kind}", tensor=proto, metadata=metadata))
    return Summary(value=values)


def hparams(
    hparam_dict: Optional[Mapping[str, Any]] = None,
    metric_dict: Optional[Mapping[str, Any]] = None,
    hparam_domain_discrete: Optional[Mapping[str, Sequence[Any]]] = None,
) -> tuple[Any, Any, Any]:
    """Outputs the three `Summary` protocol buffers the HParams plugin reads.

    ``Experiment`` names the hyperparameters and the metrics, ``SessionStartInfo`` holds the
    hyperparameter values, ``SessionEndInfo`` says STATUS_SUCCESS.

    Args:
        hparam_dict: Names of the hyperparameters and their values: int, float, str, bool, a
            one-element torch.Tensor, or None (skipped).
        metric_dict: Names of the metrics (their values are not used here).
        hparam_domain_discrete: Optional ``{name: [all values it can take]}``, each list of
            the same type as ``hparam_dict[name]``.

    Returns:
        The (experiment, session_start_info, session_end_info) `Summary` protobufs.

    Raises:
        TypeError: an argument is not a dict, or a discrete domain does not match its value.
        ValueError: a value has another type, or is an empty tensor.

    As in torch, a bool is checked as a number first, so it is stored as 1.0 or 0.0 with type
    DATA_TYPE_FLOAT64.

    Differences from torch:
        numpy numbers (``np.int64(3)``, ``np.float32(0.1)``, ``np.bool_``) are taken as numbers;
        torch raises ValueError for them.
    """
    if not isinstance(hparam_dict, dict):
        raise TypeError("parameter: hparam_dict should be a dictionary, nothing logged.")
    if not isinstance(metric_dict, dict):
        raise TypeError("parameter: metric_dict should be a dictionary, nothing logged.")
    domains = hparam_domain_discrete or {}
    if not isinstance(domains, dict):
        raise TypeError("parameter: hparam_domain_discrete should be a dictionary, nothing logged.")
    for k, v in domains.items():
        if (
            k not in hparam_dict
            or not isinstance(v, list)
            or not all(isinstance(d, type(hparam_dict[k])) for d in v)
        ):
            raise TypeError(
                f"parameter: hparam_domain_discrete[{k}] should be a list of same type as "
                f"hparam_dict[{k}]."
            )
    start = _proto.SessionStartInfo()
    infos = []
    for k, v in hparam_dict.items():
        if v is None:
            continue
        # The order matters: torch tests (int, float) first, so bools land there.
        if isinstance(v, (int, float, np.integer, np.floating, np.bool_)):
            start.hparams[k].number_value = float(v)
            kind, field = "DATA_TYPE_FLOAT64", "number_value"
        elif isinstance(v, str):
            start.hparams[k].string_value = v
            kind, field = "DATA_TYPE_STRING", "string_value"
        elif is_tensor(v):
            values = _make_np(v).reshape(-1)
            if values.size == 0:  # torch raises IndexError
                raise ValueError(f"hparam {k!r}: the tensor has no element")
            start.hparams[k].number_value = float(values[0])
            infos.append(
                _proto.HParamInfo(name=k, type=_proto.HParamDataType.Value("DATA_TYPE_FLOAT64"))
            )
            continue
        else:
            raise ValueError(
                f"hparam {k!r}: value should be one of int, float, str, bool, or torch.Tensor, "
                f"got {type(v).__name__}"
            )
        info = _proto.HParamInfo(name=k, type=_proto.HParamDataType.Value(kind))
        if k in domains:
            info.domain_discrete.values.extend(_proto.Value(**{field: d}) for d in domains[k])
        infos.append(info)
    experiment = _proto.Experiment(
        hparam_infos=infos,
        metric_infos=[_proto.MetricInfo(name=_proto.MetricName(tag=k)) for k in metric_dict],
    )
    end = _proto.SessionEndInfo(status=_proto.HParamStatus.Value("STATUS_SUCCESS"))
    return (
        _hparams_summary(
            EXPERIMENT_TAG, _proto.HParamsPluginData(experiment=experiment, version=0)
        ),
        _hparams_summary(
            SESSION_START_INFO_TAG, _proto.HParamsPluginData(session_start_info=start, version=0)
        ),
        _hparams_summary(
            SESSION_END_INFO_TAG, _proto.HParamsPluginData(session_end_info=end, version=0)
        ),
    )


def _hparams_summary(tag: str, content: Any) -> Any:
    metadata = _plugin_metadata(_HPARAMS_PLUGIN, content.SerializeToString())
    return Summary(value=[Summary.Value(tag=tag, metadata=metadata)])
