# SPDX-License-Identifier: Apache-2.0
"""Property-based fuzzing of every SummaryWriter.add_* method: random shapes, dtypes, NaN/Inf,
empty, huge and wrong-typed inputs. Nothing crashes, only the documented exceptions (TypeError,
ValueError, OSError, plus per method what its docstring names) come out, and the writer still
works afterwards.

Methods are discovered on xfast.SummaryWriter: one that has no strategy in STRATEGIES yet is
reported as skipped, so methods added later get fuzzed once someone gives them a strategy.
"""

from __future__ import annotations

import io
import itertools
import math
import os
import warnings
from typing import Any

import numpy as np
import pytest
from conftest import event_files
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp
from strict_reader import read_records, scalar_points

import xfast

torch = pytest.importorskip("torch")

DOCUMENTED = (TypeError, ValueError, OSError)
# Modest for the default run (~10-20 s for the file); XFAST_FUZZ_EXAMPLES=2000 for a deep search.
MAX_EXAMPLES = int(os.environ.get("XFAST_FUZZ_EXAMPLES", "150"))
SENTINEL_STEP = 424242

_wrong = st.one_of(
    st.none(),
    st.binary(max_size=8),
    st.just(object()),
    st.just({"a": 1}),
    st.just([1, [2]]),
    st.just(float("nan")),
    st.just(complex(1, 2)),
)
_tags = st.one_of(st.text(max_size=30), st.just("a" * 300), st.just("x\0y"), st.integers(), _wrong)
_steps = st.one_of(
    st.none(),
    st.integers(-(2**70), 2**70),
    st.floats(allow_nan=True, allow_infinity=True),
    st.integers(-(2**63), 2**63 - 1).map(np.int64),
    st.integers(-5, 5).map(torch.tensor),
    st.just(torch.tensor([1, 2])),
    st.just(np.array([3])),
    st.just(torch.tensor(float("nan"))),
    st.text(max_size=3),
)
_walltimes = st.one_of(
    st.none(),
    st.floats(allow_nan=True, allow_infinity=True),
    st.integers(-(2**70), 2**70),
    st.just(10**400),
    _wrong,
)
_numeric_dtypes = st.sampled_from(
    [
        np.float16,
        np.float32,
        np.float64,
        np.int8,
        np.uint8,
        np.int16,
        np.uint16,
        np.int32,
        np.uint32,
        np.int64,
        np.uint64,
        np.bool_,
        np.complex64,
    ]
)
_arrays = hnp.arrays(
    dtype=_numeric_dtypes,
    shape=hnp.array_shapes(min_dims=0, max_dims=3, min_side=0, max_side=8),
    elements=None,
)
_tensors = st.one_of(
    _arrays.filter(
        lambda a: a.dtype != np.uint16 and a.dtype != np.uint32 and a.dtype != np.uint64
    ).map(torch.from_numpy),
    st.tuples(
        st.integers(0, 50),
        st.sampled_from([torch.bfloat16, torch.float16, torch.float64, torch.int64]),
    ).map(lambda t: (torch.randn(t[0]) * 1e3).to(t[1])),
    st.just(torch.tensor([float("nan"), float("inf"), -float("inf")])),
    st.just(torch.randn(4, 4).t()),  # not contiguous
)
_huge = st.sampled_from(
    [
        np.full(1_000_001, 3e38, dtype=np.float32),
        np.full(300_000, np.nan),
        np.arange(2_000_000, dtype=np.int64),
    ]
)
_values = st.one_of(
    st.floats(allow_nan=True, allow_infinity=True),
    st.integers(-(2**80), 2**80),
    st.booleans(),
    _arrays,
    _tensors,
    st.lists(st.floats(allow_nan=True), max_size=4),
    st.text(max_size=4),
    _wrong,
)
_hist_values = st.one_of(
    _arrays,
    _tensors,
    _huge,
    st.lists(st.floats(allow_nan=True, allow_infinity=True), max_size=6),
    _wrong,
    st.text(max_size=3),
)
_bins = st.one_of(
    st.just("tensorflow"),
    st.sampled_from(["sturges", "doane", "bogus"]),
    st.integers(-2, 200),
    st.lists(st.floats(-10, 10), max_size=5).map(sorted),
    _wrong,
)
_max_bins = st.one_of(st.none(), st.integers(-3, 3000), st.floats(allow_nan=True), _wrong)
_floats_or_wrong = st.one_of(
    st.floats(allow_nan=True, allow_infinity=True), st.integers(-(2**70), 2**70), _wrong
)
_float_lists = st.one_of(
    st.lists(st.floats(allow_nan=True, allow_infinity=True), max_size=6),
    _arrays,
    _wrong,
    st.text(max_size=3),
)


def _mostly(valid: Any, invalid: Any) -> Any:
    """`valid` three times out of four: wrong arguments fail fast at the first check, so
    without this the paths past the checks (encoding, writing) would rarely run."""
    return st.integers(0, 3).flatmap(lambda i: valid if i < 3 else invalid)


_ok_tags = _mostly(st.text(max_size=8), _tags)
_ok_steps = _mostly(st.integers(0, 10**6), _steps)
_ok_walltimes = _mostly(st.floats(0, 2e9), _walltimes)

# Media: tiny arrays (the encoders are slow in bulk), of every dtype torch's make_np passes on,
# as numpy arrays or torch tensors (bfloat16 included), NaN/Inf from hypothesis's elements.
_media_dtypes = st.sampled_from(
    [np.uint8, np.float16, np.float32, np.float64, np.int32, np.int64, np.bool_, np.complex64]
)
_torch_media_dtypes = st.sampled_from(
    [None, torch.bfloat16, torch.float16, torch.uint8, torch.bool]
)


def _media_values(shapes: Any) -> Any:
    """Arrays of `shapes`, half of them as torch tensors (optionally cast to another dtype)."""
    arrays = hnp.arrays(dtype=_media_dtypes, shape=shapes, elements=None)

    def as_tensor(a_dt: tuple[np.ndarray, Any]) -> Any:
        t = torch.from_numpy(a_dt[0])
        return t if a_dt[1] is None or t.is_complex() else t.to(a_dt[1])

    return st.one_of(arrays, st.tuples(arrays, _torch_media_dtypes).map(as_tensor))


_not_arrays = st.one_of(st.lists(st.floats(0, 1), max_size=4), _wrong, st.text(max_size=3))
_SIDES = {
    "N": st.integers(1, 3),
    "T": st.integers(1, 3),
    "H": st.integers(1, 5),
    "W": st.integers(1, 5),
}


@st.composite
def _laid_out(
    draw: Any, formats: Any, channels: tuple[int, ...], key: str, default: str
) -> dict[str, Any]:
    """An array whose shape matches a format drawn from `formats`, and that format (left out
    when it is the method's `default`, or given in lower case)."""
    fmt = draw(formats)
    sides = dict(_SIDES, C=st.sampled_from(channels))
    shape = tuple(draw(sides[k]) for k in fmt)
    out = {key: draw(_media_values(st.just(shape)))}
    if fmt != default or draw(st.booleans()):
        out["dataformats"] = fmt.lower() if draw(st.booleans()) else fmt
    return out


def _arrays_and_formats(
    key: str, default: str, valid: Any, channels: tuple[int, ...], any_shape: Any, formats: Any
) -> Any:
    """Mostly a `valid` layout; else random shapes, non-arrays and random or wrong formats."""
    random = st.fixed_dictionaries(
        {key: st.one_of(_media_values(any_shape), _not_arrays)}, optional={"dataformats": formats}
    )
    return _mostly(_laid_out(valid, channels, key, default), random)


def _media(required: dict[str, Any], optional: dict[str, Any], arrays: Any) -> Any:
    """Keyword arguments: tag, global_step and walltime, `required`, `optional` and `arrays`."""
    base = st.fixed_dictionaries(
        {"tag": _ok_tags, "global_step": _ok_steps, **required},
        optional={"walltime": _ok_walltimes, **optional},
    )
    return st.tuples(base, arrays).map(lambda kw: {**kw[0], **kw[1]})


_image_layouts = st.sampled_from(["CHW", "HWC", "HW", "WH", "CWH", "NCHW", "NHWC"])
_image_formats = st.one_of(
    _image_layouts,
    st.sampled_from(["CHWW", "", "NCHWX", "TCHW"]),
    st.text(alphabet="NCHWx", max_size=5),
    _wrong,
)
_any_image_shape = hnp.array_shapes(min_dims=0, max_dims=5, min_side=0, max_side=5)
_big_image = st.just({"img_tensor": np.random.default_rng(0).random((3, 300, 400))})


def _images(default: str) -> Any:
    return st.one_of(
        _arrays_and_formats(
            "img_tensor", default, _image_layouts, (1, 2, 3, 4), _any_image_shape, _image_formats
        ),
        _big_image,
    )


_boxes = _mostly(
    hnp.arrays(
        np.float64,
        st.tuples(st.integers(0, 3), st.just(4)),
        elements=st.one_of(st.floats(-3, 10), st.floats()),
    ),
    st.one_of(
        _media_values(hnp.array_shapes(min_dims=0, max_dims=3, min_side=0, max_side=5)),
        st.just(np.full((2, 4), 1e30)),
        _wrong,
    ),
)
_labels = st.one_of(
    st.none(),
    st.lists(st.text(max_size=4), max_size=3),
    st.lists(st.one_of(st.text(max_size=4), st.none(), st.integers()), max_size=4),
    st.text(max_size=3),
    _wrong,
)
# Resizes stay small (a huge factor is valid and would only test the machine's memory),
# beside factors that must be refused.
_rescales = _mostly(
    st.one_of(st.just(1), st.floats(0.2, 3)),
    st.one_of(
        st.floats(0, 0.2), st.sampled_from([0, -1, 1e9, 1e300, math.nan, math.inf, True]), _wrong
    ),
)
_video_layouts = st.one_of(st.just("NTCHW"), st.permutations("NTCHW").map("".join))
_videos = _arrays_and_formats(
    "vid_tensor",
    "NTCHW",
    _video_layouts,
    (1, 3, 4),
    hnp.array_shapes(min_dims=3, max_dims=6, min_side=0, max_side=4),
    st.one_of(_video_layouts, st.text(alphabet="NTCHWx", max_size=6), _wrong),
)
_fps = _mostly(
    st.one_of(st.floats(0.01, 1000), st.integers(1, 60)),
    st.one_of(
        st.floats(allow_nan=True, allow_infinity=True),
        st.sampled_from([5e-324, 1e300, 0, -1]),
        _wrong,
    ),
)
_rates = _mostly(
    st.one_of(st.sampled_from([8000, 44100, 2**31 - 1]), st.floats(1, 1e6)),
    st.one_of(
        st.floats(allow_nan=True, allow_infinity=True),
        st.integers(-5, 2**40),
        st.sampled_from([2**32, 1e30]),
        _wrong,
    ),
)
_sounds = st.one_of(
    _mostly(
        _media_values(
            st.one_of(
                st.integers(1, 50).map(lambda n: (n,)),
                st.integers(1, 50).map(lambda n: (1, n)),
                st.integers(1, 50).map(lambda n: (n, 1)),
            )
        ),
        st.one_of(
            _media_values(hnp.array_shapes(min_dims=0, max_dims=3, min_side=0, max_side=8)),
            _not_arrays,
        ),
    ),
    st.sampled_from([np.array([-(2**63), 2**63 - 1]), np.zeros(200_000, np.float32)]),
)


def _figure(spec: tuple[float, float, int, str, np.ndarray]) -> Any:
    """A small matplotlib figure (no pyplot: nothing global to leak) with random content."""
    from matplotlib.figure import Figure

    w, h, dpi, kind, data = spec
    fig = Figure(figsize=(w, h), dpi=dpi)
    if kind != "empty":
        ax = fig.add_subplot()
        if kind == "plot":
            ax.plot(data)
        elif kind == "image" and data.size:
            ax.imshow(data.reshape(1, -1))
        else:
            ax.text(0.5, 0.5, "é\n$x^2$")
    return fig


_figures = st.tuples(
    # Mostly one of two sizes, so that lists of figures often stack; dpi of 10 and less makes
    # matplotlib's own font rendering fail (not xfast's concern).
    _mostly(st.sampled_from([0.5, 1.0]), st.floats(0, 1.5)),
    _mostly(st.just(0.5), st.floats(0, 1.5)),
    st.sampled_from([20, 40]),
    st.sampled_from(["empty", "plot", "image", "text"]),
    hnp.arrays(np.float64, st.integers(0, 6), elements=None),
).map(_figure)


@st.composite
def _named_tensors(draw: Any) -> dict[str, Any]:
    """add_histograms arguments: (name, tensor) pairs with or without grads, and a prev that
    matches, mismatches in shape, or is of the wrong type."""
    names = _mostly(st.text(alphabet="ab./", max_size=3), _wrong)
    pairs = []
    for _ in range(draw(st.integers(0, 3))):
        t = draw(_mostly(_tensors, st.one_of(st.none(), _arrays, _wrong)))
        if isinstance(t, torch.Tensor) and t.is_floating_point() and draw(st.booleans()):
            t = t.clone()
            t.grad = draw(
                st.sampled_from(
                    [torch.randn(t.shape).to(t.dtype), torch.full(t.shape, math.nan).to(t.dtype)]
                )
            )
        pairs.append((draw(names), t))
    # A dict iterates its names, not pairs: refused.
    named = draw(
        _mostly(
            st.sampled_from([pairs, iter(pairs)]),
            st.one_of(st.just(dict.fromkeys(range(len(pairs)))), _wrong),
        )
    )
    prev_kind = draw(st.sampled_from(["none", "none", "same", "same", "other", "wrong"]))
    prev: Any = None
    if prev_kind == "same":
        prev = {
            n: t.clone() + 1 for n, t in pairs if isinstance(n, str) and isinstance(t, torch.Tensor)
        }
    elif prev_kind == "other":
        prev = {n: draw(_tensors) for n, _ in pairs if isinstance(n, str)}
    elif prev_kind == "wrong":
        prev = draw(
            st.one_of(
                _wrong,
                st.dictionaries(
                    st.text(alphabet="ab", max_size=1), st.one_of(_arrays, _wrong), max_size=2
                ),
            )
        )
    valid_stats = ["norm", "mean", "std", "min", "max", "zero_fraction", "nonfinite"] + (
        ["update_ratio"] if prev is not None else []
    )
    stats = draw(
        _mostly(
            st.lists(st.sampled_from(valid_stats), max_size=4),
            st.one_of(
                st.just(["norm", "bogus"]), st.just(["update_ratio"]), st.just("norm"), _wrong
            ),
        )
    )
    kwargs = {
        "named_tensors": named,
        "global_step": draw(_ok_steps),
        "grads": draw(st.booleans()),
        "stats": stats,
        "prev": prev,
    }
    kwargs.update(
        draw(
            st.fixed_dictionaries(
                {},
                optional={
                    "param_prefix": _ok_tags,
                    "grad_prefix": _ok_tags,
                    "walltime": _ok_walltimes,
                    "max_bins": _mostly(st.integers(1, 100), _max_bins),
                },
            )
        )
    )
    return kwargs


def _scripted_linear() -> Any:
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", "`torch.jit.script` is deprecated", DeprecationWarning)
        return torch.jit.script(torch.nn.Linear(2, 2))


def _model(kind: str) -> Any:
    """A tiny model to trace, or something that is none."""
    if kind == "linear":
        return torch.nn.Linear(2, 2)
    if kind == "seq":
        return torch.nn.Sequential(
            torch.nn.Linear(2, 3), torch.nn.ReLU(), torch.nn.Sequential(torch.nn.Linear(3, 1))
        )
    if kind == "function":
        return lambda x: x * 2 + 1
    if kind == "scripted":
        return _scripted_linear()
    return {"none": None, "str": "model", "int": 3, "dict": {"a": 1}}[kind]


_models = _mostly(
    st.sampled_from(["linear", "seq", "function"]),
    st.sampled_from(["scripted", "none", "str", "int", "dict"]),
).map(_model)
_model_inputs = _mostly(
    st.one_of(
        st.sampled_from([(1, 2), (4, 2)]).map(torch.zeros),
        st.just((torch.zeros(1, 2),)),
        st.just([torch.zeros(1, 2)]),
    ),
    st.one_of(
        st.sampled_from([(3, 3), (0, 2), (2,), ()]).map(torch.zeros),
        st.just(torch.zeros(1, 2, dtype=torch.int64)),
        st.just(np.zeros((1, 2), np.float32)),
        _wrong,
        st.text(max_size=2),
    ),
)


def _onnx_model() -> Any:
    """A one-node (Relu) ONNX model."""
    import onnx
    from onnx import TensorProto, helper

    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 2])
    y = helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 2])
    graph = helper.make_graph([helper.make_node("Relu", ["x"], ["y"], name="relu")], "g", [x], [y])
    model = helper.make_model(graph)
    onnx.checker.check_model(model)
    return model


_onnx_sources = _mostly(
    st.one_of(
        st.builds(_onnx_model), st.builds(lambda: io.BytesIO(_onnx_model().SerializeToString()))
    ),
    st.one_of(
        st.binary(max_size=16).map(io.BytesIO),  # not a model
        st.sampled_from([os.path.join(os.sep, "nonexistent-xfast", "m.onnx"), os.sep, -1]),
        st.builds(_scripted_linear),  # has a .graph, is no ONNX model
        _wrong,
    ),
)

STRATEGIES: dict[str, Any] = {
    "add_scalar": st.fixed_dictionaries(
        {"tag": _tags, "scalar_value": _values, "global_step": _steps, "walltime": _walltimes},
        optional={"new_style": st.booleans(), "double_precision": st.booleans()},
    ),
    "add_scalars": st.fixed_dictionaries(
        {
            # Keys become directory names: a small alphabet keeps them inside tmp_path and few.
            "main_tag": st.one_of(st.text(alphabet="ab/_", max_size=4), _wrong),
            "tag_scalar_dict": st.one_of(
                st.dictionaries(
                    st.text(alphabet="xy", min_size=1, max_size=2), _values, max_size=3
                ),
                _wrong,
            ),
            "global_step": _steps,
            "walltime": _walltimes,
        }
    ),
    "add_scalar_dict": st.fixed_dictionaries(
        {
            "tag_scalar_dict": st.one_of(
                st.dictionaries(_tags.filter(lambda t: isinstance(t, str)), _values, max_size=4),
                _wrong,
            ),
            "global_step": _steps,
        },
        optional={
            "walltime": _walltimes,
            "reduce": st.sampled_from([None, "mean", "sum", "bogus"]),
            "new_style": st.booleans(),
            "double_precision": st.booleans(),
        },
    ),
    "add_histogram": st.fixed_dictionaries(
        {"tag": _tags, "values": _hist_values, "global_step": _steps},
        optional={"bins": _bins, "walltime": _walltimes, "max_bins": _max_bins},
    ),
    "add_histogram_raw": st.fixed_dictionaries(
        {
            "tag": _tags,
            "min": _floats_or_wrong,
            "max": _floats_or_wrong,
            "num": _floats_or_wrong,
            "sum": _floats_or_wrong,
            "sum_squares": _floats_or_wrong,
            "bucket_limits": _float_lists,
            "bucket_counts": _float_lists,
            "global_step": _steps,
            "walltime": _walltimes,
        }
    ),
    "add_text": st.fixed_dictionaries(
        {
            "tag": _tags,
            "text_string": st.one_of(st.text(max_size=50), st.just("é" * 100_000), _wrong),
            "global_step": _steps,
        },
        optional={"walltime": _walltimes},
    ),
    "add_tensor": st.fixed_dictionaries(
        {
            "tag": _tags,
            "tensor": st.one_of(_arrays, _tensors, _wrong, st.text(max_size=3)),
            "global_step": _steps,
        },
        optional={"walltime": _walltimes},
    ),
    "add_pr_curve": st.fixed_dictionaries(
        {"tag": _tags, "labels": _hist_values, "predictions": _hist_values, "global_step": _steps},
        optional={
            "num_thresholds": st.one_of(st.integers(-2, 300), _wrong),
            "weights": st.one_of(st.none(), _arrays, _wrong),
            "walltime": _walltimes,
        },
    ),
    "add_pr_curve_raw": st.fixed_dictionaries(
        {
            "tag": _tags,
            "true_positive_counts": _float_lists,
            "false_positive_counts": _float_lists,
            "true_negative_counts": _float_lists,
            "false_negative_counts": _float_lists,
            "precision": _float_lists,
            "recall": _float_lists,
            "global_step": _steps,
        },
        optional={"num_thresholds": st.one_of(st.integers(-2, 10), _wrong), "walltime": _walltimes},
    ),
    "add_hparams": st.fixed_dictionaries(
        {
            "hparam_dict": st.one_of(
                st.dictionaries(st.text(alphabet="ab", max_size=2), _values, max_size=3), _wrong
            ),
            "metric_dict": st.one_of(
                st.dictionaries(
                    st.text(alphabet="cd", min_size=1, max_size=2), _values, max_size=2
                ),
                _wrong,
            ),
        },
        # run_name is a directory under the log dir: a fixed small set keeps it inside tmp_path.
        optional={"run_name": st.sampled_from([None, "r1", "."]), "global_step": _steps},
    ),
    "add_line_chart": st.fixed_dictionaries(
        {
            "labels": st.one_of(st.lists(_ok_tags, max_size=4), _wrong),
            "values": st.one_of(
                st.lists(st.one_of(_ok_steps, _values, _tensors), max_size=4), _wrong
            ),
            "title": _ok_tags,
        },
        optional={"walltime": _ok_walltimes},
    ),
    "add_custom_scalars_multilinechart": st.fixed_dictionaries(
        {"tags": st.one_of(st.lists(_tags, max_size=3), _wrong)},
        optional={"category": _tags, "title": _tags},
    ),
    "add_custom_scalars_marginchart": st.fixed_dictionaries(
        {"tags": st.one_of(st.lists(_tags, max_size=4), _wrong)},
        optional={"category": _tags, "title": _tags},
    ),
    "add_custom_scalars": st.fixed_dictionaries(
        {
            "layout": st.one_of(
                st.dictionaries(
                    st.text(max_size=5),
                    st.dictionaries(
                        st.text(max_size=5),
                        st.one_of(st.lists(_tags, max_size=3), _wrong),
                        max_size=2,
                    ),
                    max_size=2,
                ),
                _wrong,
            ),
        }
    ),
    "add_embedding": st.fixed_dictionaries(
        {"mat": st.one_of(_arrays, _tensors, _wrong)},
        optional={
            "metadata": st.one_of(
                st.none(),
                st.lists(st.one_of(st.text(max_size=3), st.integers()), max_size=6),
                _wrong,
            ),
            "label_img": st.one_of(st.none(), _arrays, _wrong),
            "global_step": _steps,
            # tag names a sub-directory: a fixed set keeps it inside tmp_path.
            "tag": st.sampled_from(["default", "a b", "x"]),
            "metadata_header": st.one_of(
                st.none(), st.lists(st.text(max_size=3), max_size=3), _wrong
            ),
        },
    ),
    "add_mesh": st.fixed_dictionaries(
        {"tag": _tags, "vertices": st.one_of(_arrays, _tensors, _wrong)},
        optional={
            "colors": st.one_of(st.none(), _arrays, _wrong),
            "faces": st.one_of(st.none(), _arrays, _wrong),
            "config_dict": st.one_of(st.none(), st.just({"camera": {"fov": 75}}), _wrong),
            "global_step": _steps,
            "walltime": _walltimes,
        },
    ),
    "add_image": _media({}, {}, _images("CHW")),
    "add_images": _media({}, {}, _images("NCHW")),
    "add_image_with_boxes": _media(
        {"box_tensor": _boxes}, {"rescale": _rescales, "labels": _labels}, _images("CHW")
    ),
    "add_figure": _media(
        {
            "figure": _mostly(
                st.one_of(_figures, st.lists(_figures, min_size=1, max_size=3)),
                st.one_of(st.lists(st.one_of(_figures, _wrong), max_size=2), _wrong),
            )
        },
        {"close": st.one_of(st.booleans(), _wrong)},
        st.just({}),
    ),
    "add_video": _media({}, {"fps": _fps}, _videos),
    "add_audio": _media({"snd_tensor": _sounds}, {"sample_rate": _rates}, st.just({})),
    "add_histograms": _named_tensors(),
    "add_graph": st.fixed_dictionaries(
        {"model": _models},
        optional={
            "input_to_model": _model_inputs,
            "verbose": st.just(False),
            "use_strict_trace": st.booleans(),
        },
    ),
    "add_onnx_graph": st.one_of(
        st.fixed_dictionaries({"prototxt": _onnx_sources}),
        st.fixed_dictionaries({"onnx_model_file": _onnx_sources}),
        st.just({}),
    ),
}

# Exceptions each method documents beyond DOCUMENTED.
EXTRA_DOCUMENTED: dict[str, tuple[type[BaseException], ...]] = {
    "add_image_with_boxes": (ImportError,),  # labels or rescale without Pillow
    "add_figure": (ImportError,),  # without matplotlib
    "add_graph": (RuntimeError,),  # torch.jit.trace's own errors, as torch
    "add_onnx_graph": (ImportError,),  # without onnx
}
# Encoded on the writer's media worker, whose errors surface at flush() as RuntimeError; that
# is documented for encoding or write failures, but bad arguments must be refused at the call,
# so with these tiny inputs flush() must not raise.
MEDIA = {"add_image", "add_images", "add_image_with_boxes", "add_figure", "add_video", "add_audio"}
# Tracing is slow: fewer examples for add_graph.
EXAMPLES = {"add_graph": max(10, MAX_EXAMPLES // 10), "add_figure": max(20, MAX_EXAMPLES // 3)}

METHODS = sorted(
    m
    for m in dir(xfast.SummaryWriter)
    if m.startswith("add_") and callable(getattr(xfast.SummaryWriter, m))
)


def test_fuzzed_methods_include_the_core_set() -> None:
    assert {"add_scalar", "add_scalars", "add_histogram", "add_histogram_raw", "add_text"} <= set(
        STRATEGIES
    )
    assert set(STRATEGIES) <= set(METHODS)


@pytest.mark.parametrize("method", METHODS)
def test_fuzz_add_method(method: str, tmp_path: Any) -> None:
    if method not in STRATEGIES:
        pytest.skip(f"no fuzz strategy for {method} yet (add one to STRATEGIES)")
    counter = itertools.count()

    documented = DOCUMENTED + EXTRA_DOCUMENTED.get(method, ())

    @settings(
        max_examples=EXAMPLES.get(method, MAX_EXAMPLES),
        deadline=None,
        database=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    )
    @given(kwargs=STRATEGIES[method])
    def run(kwargs: dict[str, Any]) -> None:
        logdir = os.path.join(str(tmp_path), f"ex{next(counter)}")
        w = xfast.SummaryWriter(logdir)
        try:
            with warnings.catch_warnings():
                # xfast's own documented warning (non-finite histogram values) is expected, and
                # so are numpy's warnings about NaN or complex inputs on the paths that compute
                # with numpy as torch does (PR curves): torch shows the same ones.
                warnings.filterwarnings(
                    "ignore", message="xfast: histogram", category=RuntimeWarning
                )
                warnings.filterwarnings(
                    "ignore", message=".* encountered in ", category=RuntimeWarning
                )
                warnings.filterwarnings("ignore", category=np.exceptions.ComplexWarning)
                warnings.filterwarnings(
                    "ignore", message="Casting complex values to real", category=UserWarning
                )
                # torch.jit.trace's own note when handed a scripted model (torch shows it too).
                warnings.filterwarnings(
                    "ignore", message="The input to trace is already", category=UserWarning
                )
                try:
                    getattr(w, method)(**kwargs)
                except documented:
                    pass
            if method in MEDIA:
                w.flush()  # the worker's encoding of an accepted call must succeed
            # The writer still works: a sentinel goes through and reads back.
            w.add_scalar("sentinel", 1.5, SENTINEL_STEP)
        finally:
            w.close()
        path = event_files(logdir)[0]
        rf = read_records(path)
        assert rf.tail_bytes == 0
        assert scalar_points(rf.events(), "sentinel") == [(SENTINEL_STEP, 1.5)]

    run()


def test_non_finite_or_huge_step_is_value_error() -> None:
    # Found by the fuzzer: torch's int() raises ValueError or OverflowError here; xfast says
    # ValueError, never writes such a step as 0, and never lets an OverflowError escape.
    from xfast.encoding.convert import to_step

    for bad in (math.nan, math.inf, -math.inf, 2**64, -(2**64), torch.tensor([1, 2])):
        with pytest.raises(ValueError):
            to_step(bad)
