# SPDX-License-Identifier: Apache-2.0
"""The rare SummaryWriter methods and summary functions, differential against
torch.utils.tensorboard: the same calls through both, read back with tensorboard's loaders."""

from __future__ import annotations

import glob
import os
from typing import Any, Callable

import numpy as np
import pytest
import torch
from conftest import event_files, load_run
from google.protobuf import text_format
from tensorboard.backend.event_processing import event_file_loader
from tensorboard.backend.event_processing import plugin_event_accumulator as pea
from tensorboard.compat.proto.graph_pb2 import GraphDef
from tensorboard.plugins.custom_scalar import layout_pb2
from tensorboard.plugins.hparams import plugin_data_pb2 as hparams_pb2
from tensorboard.plugins.mesh import plugin_data_pb2 as mesh_pb2
from tensorboard.plugins.pr_curve import plugin_data_pb2 as pr_pb2
from tensorboard.plugins.projector import projector_config_pb2
from tensorboard.util import tensor_util
from torch.utils import tensorboard as tb
from torch.utils.tensorboard import summary as torch_summary

import xfast
from xfast import summary as xfast_summary

RNG = np.random.RandomState(0)
LABELS = RNG.randint(2, size=64)
PREDICTIONS = RNG.rand(64)
LAYOUT = {
    "Losses": {"train": ["Multiline", ["loss/train", "loss/.*"]],
               "band": ["Margin", ["acc", "acc_lo", "acc_hi"]]},
    "Other": {"lr": ["Multiline", ["lr"]]},
}
HPARAMS = {"lr": 0.01, "opt": "adam", "layers": 3, "amp": True, "skip": None,
           "wd": torch.tensor([0.5])}


def _events(run_dir: str) -> list[Any]:
    """Every event after each file's header, wall_time cleared, hparams content normalised
    (its map has no stable byte order)."""
    out = []
    for path in event_files(run_dir):
        for event in list(event_file_loader.LegacyEventFileLoader(path).Load())[1:]:
            event.wall_time = 0
            for value in event.summary.value:
                data = value.metadata.plugin_data
                if data.plugin_name == "hparams":
                    content = hparams_pb2.HParamsPluginData.FromString(data.content)
                    data.content = content.SerializeToString(deterministic=True)
            out.append(event)
    return out


def _both(tmp_path: Any, body: Callable[[Any], None]) -> tuple[str, str]:
    """Runs body(writer) with torch's writer and xfast's in two log dirs."""
    dirs = []
    for name, cls in (("torch", tb.SummaryWriter), ("xfast", xfast.SummaryWriter)):
        log_dir = str(tmp_path / name)
        with cls(log_dir) as w:
            body(w)
        dirs.append(log_dir)
    return dirs[0], dirs[1]


def _assert_same_runs(torch_dir: str, xfast_dir: str) -> None:
    runs = sorted({os.path.relpath(os.path.dirname(p), torch_dir)
                   for p in glob.glob(os.path.join(torch_dir, "**", "*tfevents*"), recursive=True)})
    assert runs == sorted(
        {
            os.path.relpath(os.path.dirname(p), xfast_dir)
            for p in glob.glob(os.path.join(xfast_dir, "**", "*tfevents*"), recursive=True)
        }
    )
    compared = 0
    for run in runs:
        expected = _events(os.path.join(torch_dir, run))
        assert _events(os.path.join(xfast_dir, run)) == expected
        compared += len(expected)
    assert compared


@pytest.mark.parametrize("dtype", [
    torch.float32, torch.float16, torch.bfloat16, torch.float64, torch.int8, torch.int16,
    torch.int32, torch.int64, torch.uint8, torch.bool, torch.complex64, torch.complex128,
])
def test_add_tensor(tmp_path: Any, dtype: torch.dtype) -> None:
    values = (torch.randn(2, 3, generator=torch.Generator().manual_seed(1)) * 50).to(dtype)

    def body(w: Any) -> None:
        w.add_tensor("t", values, 3)
        w.add_tensor("scalar", torch.tensor(2.5), 4, walltime=5.0)

    t_dir, x_dir = _both(tmp_path, body)
    _assert_same_runs(t_dir, x_dir)
    acc = load_run(x_dir)
    (t,) = acc.Tensors("t")
    assert t.step == 3 and [d.size for d in t.tensor_proto.tensor_shape.dim] == [2, 3]
    # torch's half_val holds float32 bits and its uint8 goes to uint32_val: make_ndarray
    # reads neither (the bytes are still torch's, checked above).
    if dtype not in (torch.float16, torch.bfloat16, torch.uint8):
        np.testing.assert_array_equal(tensor_util.make_ndarray(t.tensor_proto), values.numpy())
    assert acc.SummaryMetadata("t").plugin_data.plugin_name == "tensor"


def test_tensor_proto_of_lazy_views() -> None:
    z = torch.tensor([1 + 2j, 3 - 1j])
    for view, expected in ((z.conj(), [1.0, -2.0, 3.0, 1.0]), (z.conj().imag, [-2.0, 1.0])):
        proto = xfast_summary.tensor_proto("t", view).value[0].tensor
        assert list(proto.scomplex_val or proto.float_val) == expected


def test_add_tensor_rejects_bad_input(tmp_path: Any) -> None:
    with xfast.SummaryWriter(str(tmp_path)) as w:
        with pytest.raises(TypeError):
            w.add_tensor("t", [1, 2])
        with pytest.raises(ValueError, match="unsupported tensor dtype"):
            w.add_tensor("t", torch.zeros(2, dtype=torch.uint16))


def test_pr_curves(tmp_path: Any) -> None:
    def body(w: Any) -> None:
        w.add_pr_curve("pr", LABELS, PREDICTIONS, 1)
        w.add_pr_curve("pr", torch.tensor(LABELS), torch.tensor(PREDICTIONS), 2, num_thresholds=300)
        w.add_pr_curve("weighted", LABELS, PREDICTIONS, 0, num_thresholds=11, weights=PREDICTIONS)
        data = xfast_summary.compute_curve(LABELS, PREDICTIONS, num_thresholds=9)
        w.add_pr_curve_raw("raw", *data, global_step=5, num_thresholds=9)

    t_dir, x_dir = _both(tmp_path, body)
    _assert_same_runs(t_dir, x_dir)
    acc = pea.EventAccumulator(x_dir, size_guidance={pea.TENSORS: 0})
    acc.Reload()
    content = acc.PluginTagToContent("pr_curves")
    assert pr_pb2.PrCurvePluginData.FromString(content["weighted"]).num_thresholds == 11
    steps = acc.Tensors("pr")
    assert [e.step for e in steps] == [1, 2]
    table = tensor_util.make_ndarray(steps[1].tensor_proto)
    assert table.shape == (6, 127)
    expected = torch_summary.compute_curve(LABELS, PREDICTIONS, num_thresholds=127)
    np.testing.assert_array_equal(table, expected.astype(np.float32))


def test_pr_curve_rejects_bad_input() -> None:
    with pytest.raises(ValueError, match="one shape"):
        xfast_summary.pr_curve("p", LABELS[:3], PREDICTIONS)
    with pytest.raises(ValueError, match="1-D"):
        xfast_summary.pr_curve_raw("p", [1, 2], [1], [1], [1], [1], [1])


def test_custom_scalars(tmp_path: Any) -> None:
    def body(w: Any) -> None:
        w.add_custom_scalars(LAYOUT)
        w.add_custom_scalars_multilinechart(["a", "b"], category="C", title="T")
        w.add_custom_scalars_marginchart(["v", "lo", "hi"])

    t_dir, x_dir = _both(tmp_path, body)
    _assert_same_runs(t_dir, x_dir)
    events = _events(x_dir)
    assert [e.step for e in events] == [0, 0, 0]
    value = events[0].summary.value[0]
    assert value.tag == "custom_scalars__config__"
    layout = layout_pb2.Layout.FromString(value.tensor.string_val[0])
    assert [c.title for c in layout.category] == ["Losses", "Other"]
    assert list(layout.category[0].chart[1].margin.series[0].upper) == list("acc_hi")
    assert layout.category[0].chart[1].margin.series[0].upper == "acc_hi"


def test_custom_scalars_rejects_bad_layout(tmp_path: Any) -> None:
    with xfast.SummaryWriter(str(tmp_path)) as w:
        with pytest.raises(ValueError, match="exactly 3"):
            w.add_custom_scalars_marginchart(["a", "b"])
        with pytest.raises(ValueError, match="exactly 3 tags"):
            w.add_custom_scalars({"c": {"m": ["Margin", ["a"]]}})
        with pytest.raises(TypeError):
            w.add_custom_scalars(["Multiline", ["a"]])
        with pytest.raises(ValueError, match=r"\[kind, tags\]"):
            w.add_custom_scalars({"c": {"m": "Multiline"}})


def test_mesh(tmp_path: Any) -> None:
    vertices = torch.rand(1, 4, 3, generator=torch.Generator().manual_seed(2))
    colors = torch.tensor([[[255, 0, 0], [0, 255, 0], [0, 0, 255], [255, 0, 255]]], dtype=torch.int)
    faces = torch.tensor([[[0, 2, 3], [0, 3, 1], [0, 1, 2], [1, 3, 2]]], dtype=torch.int)

    def body(w: Any) -> None:
        w.add_mesh("m", vertices, colors=colors, faces=faces, config_dict={"camera": {"fov": 75}},
                   global_step=1)
        w.add_mesh("cloud", vertices.numpy(), global_step=2)

    t_dir, x_dir = _both(tmp_path, body)
    _assert_same_runs(t_dir, x_dir)
    acc = pea.EventAccumulator(x_dir, size_guidance={pea.TENSORS: 0})
    acc.Reload()
    content = acc.PluginTagToContent("mesh")
    assert sorted(content) == ["cloud_VERTEX", "m_COLOR", "m_FACE", "m_VERTEX"]
    face = mesh_pb2.MeshPluginData.FromString(content["m_FACE"])
    assert (face.name, face.content_type, face.components, list(face.shape)) == (
        "m",
        2,
        14,
        [1, 4, 3],
    )
    assert face.json_config == '{"camera": {"fov": 75}}'
    np.testing.assert_array_equal(
        tensor_util.make_ndarray(acc.Tensors("m_VERTEX")[0].tensor_proto), vertices.numpy()
    )


def test_mesh_rejects_bad_shape(tmp_path: Any) -> None:
    with xfast.SummaryWriter(str(tmp_path)) as w, pytest.raises(ValueError, match=r"\[B, N, 3\]"):
        w.add_mesh("m", torch.rand(4, 3))


def test_hparams_new_run_like_torch(tmp_path: Any) -> None:
    def body(w: Any) -> None:
        w.add_hparams(HPARAMS, {"hp/acc": 0.9, "hp/loss": torch.tensor(0.1)}, run_name="first")
        w.add_hparams(
            {"lr": 0.1, "opt": "sgd"},
            {"hp/acc": 0.5},
            hparam_domain_discrete={"opt": ["adam", "sgd"]},
            run_name="second",
            global_step=7,
        )

    t_dir, x_dir = _both(tmp_path, body)
    _assert_same_runs(t_dir, x_dir)
    acc = pea.EventAccumulator(os.path.join(x_dir, "second"))
    acc.Reload()
    content = acc.PluginTagToContent("hparams")
    experiment = hparams_pb2.HParamsPluginData.FromString(
        content["_hparams_/experiment"]
    ).experiment
    assert [h.name for h in experiment.hparam_infos] == ["lr", "opt"]
    assert [v.string_value for v in experiment.hparam_infos[1].domain_discrete.values] == [
        "adam",
        "sgd",
    ]
    start = hparams_pb2.HParamsPluginData.FromString(content["_hparams_/session_start_info"])
    assert start.session_start_info.hparams["opt"].string_value == "sgd"
    assert [e.step for e in acc.Tensors("hp/acc")] == [7]


def test_hparams_default_run_name_is_a_timestamp(tmp_path: Any) -> None:
    with xfast.SummaryWriter(str(tmp_path)) as w:
        w.add_hparams({"a": 1}, {"m": 2.0})
    (sub,) = [d for d in os.listdir(tmp_path) if os.path.isdir(tmp_path / d)]
    float(sub)
    assert len(event_files(str(tmp_path / sub))) == 1


def test_hparams_in_this_run(tmp_path: Any) -> None:
    """run_name="." keeps everything in the writer's own run and file."""
    with xfast.SummaryWriter(str(tmp_path)) as w:
        w.add_hparams({"lr": 0.1}, {"val/acc": None, "hp/metric": 1.5}, run_name=".")
        for step in range(3):
            w.add_scalar("val/acc", step / 10, step)
    assert [p for p in os.listdir(tmp_path) if os.path.isdir(tmp_path / p)] == []
    assert len(event_files(str(tmp_path))) == 1
    acc = pea.EventAccumulator(str(tmp_path), size_guidance={pea.TENSORS: 0})
    acc.Reload()
    content = acc.PluginTagToContent("hparams")
    experiment = hparams_pb2.HParamsPluginData.FromString(
        content["_hparams_/experiment"]
    ).experiment
    assert [m.name.tag for m in experiment.metric_infos] == ["val/acc", "hp/metric"]
    assert [e.step for e in acc.Tensors("val/acc")] == [0, 1, 2]
    assert len(acc.Tensors("hp/metric")) == 1


def test_hparams_in_this_run_twice_warns(tmp_path: Any) -> None:
    with xfast.SummaryWriter(str(tmp_path)) as w:
        w.add_hparams({"lr": 0.1}, {}, run_name=".")
        with pytest.warns(RuntimeWarning, match="first set"):
            w.add_hparams({"lr": 0.2}, {}, run_name=".")


def test_hparams_tensorboardx_spellings(tmp_path: Any) -> None:
    with xfast.SummaryWriter(str(tmp_path)) as w:
        w.add_hparams({"a": 1}, {"m": 2.0}, name="by_keyword")
        w.add_hparams({"a": 1}, {"m": 2.0}, "positional", 7)
    assert sorted(p for p in os.listdir(tmp_path) if os.path.isdir(tmp_path / p)) == [
        "by_keyword", "positional"]
    assert [e.step for e in _events(str(tmp_path / "positional"))] == [7, 7, 7, 7]


def test_hparams_takes_numpy_numbers() -> None:
    _, start, _ = xfast_summary.hparams(
        {"n": np.int64(3), "x": np.float32(0.5), "b": np.bool_(True)}, {}
    )
    content = hparams_pb2.HParamsPluginData.FromString(start.value[0].metadata.plugin_data.content)
    assert {k: v.number_value for k, v in content.session_start_info.hparams.items()} == {
        "n": 3.0, "x": 0.5, "b": 1.0}


def test_hparams_rejects_bad_input(tmp_path: Any) -> None:
    with xfast.SummaryWriter(str(tmp_path)) as w:
        with pytest.raises(TypeError):
            w.add_hparams([("lr", 1)], {})
        with pytest.raises(TypeError):
            w.add_hparams({"lr": 1}, None)
        with pytest.raises(ValueError, match="'lr'"):
            w.add_hparams({"lr": [1, 2]}, {})
        with pytest.raises(TypeError, match="hparam_domain_discrete"):
            w.add_hparams({"lr": 1.0}, {}, hparam_domain_discrete={"lr": ["a"]})
    assert [p for p in os.listdir(tmp_path) if os.path.isdir(tmp_path / p)] == []


def test_summary_hparams_matches_torch() -> None:
    domains = {"opt": ["adam", "sgd"], "layers": [1, 3], "amp": [True, False]}
    for ours, theirs in zip(xfast_summary.hparams(HPARAMS, {"m": 1}, domains),
                            torch_summary.hparams(HPARAMS, {"m": 1}, domains)):
        assert ours.SerializeToString() == theirs.SerializeToString()


class _Block(torch.nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.fc = torch.nn.Linear(4, 3)
        self.scale = torch.nn.Parameter(torch.ones(3))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.relu(self.fc(x)) * self.scale


class _Net(torch.nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.block = _Block()
        self.head = torch.nn.Sequential(torch.nn.Linear(3, 2), torch.nn.Dropout(0.5))
        self.bias = torch.nn.Parameter(torch.zeros(2))

    def forward(self, x: torch.Tensor, y: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        return self.head(self.block(x)) + self.bias + y.sum(), x.mean()


# torch's own add_graph warns that torch.jit.trace is deprecated; xfast keeps that to itself.
@pytest.mark.filterwarnings("ignore:`torch.jit.trace:DeprecationWarning:torch.*")
@pytest.mark.parametrize("model, inputs", [
    (_Net(), (torch.randn(5, 4), torch.randn(2))),
    (torch.nn.Conv2d(1, 2, 3), torch.randn(1, 1, 5, 5)),
])
def test_add_graph(tmp_path: Any, model: Any, inputs: Any) -> None:
    t_dir, x_dir = _both(tmp_path, lambda w: w.add_graph(model, inputs))
    _assert_same_runs(t_dir, x_dir)
    assert model.training  # restored after tracing in eval mode
    acc = load_run(x_dir)
    graph = acc.Graph()
    assert graph.versions.producer == 22 and len(graph.node) > 3
    assert acc.RunMetadata("step1").step_stats.dev_stats[0].device == "/device:CPU:0"
    (expected,) = [e.graph_def for e in _events(t_dir) if e.HasField("graph_def")]
    assert GraphDef.FromString(expected) == graph


def test_graph_of_a_function() -> None:
    """torch fails on functions (no named_modules); xfast draws them without module scopes."""
    from xfast.plugins import graph as _graph

    def fn(x: torch.Tensor) -> torch.Tensor:
        return torch.sin(x) * 2

    names = [n.name for n in _graph.graph(fn, (torch.ones(2),))[0].node]
    assert names[:2] == ["input/x", "output/output.1"] and len(names) == 5


def test_add_onnx_graph(tmp_path: Any) -> None:
    onnx = pytest.importorskip("onnx")
    from onnx import TensorProto, helper

    node = helper.make_node("Gemm", ["x", "w", "b"], ["y"], alpha=0.5, transB=1)
    relu = helper.make_node("Relu", ["y"], ["z"])
    graph = helper.make_graph(
        [node, relu], "g",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [2, 4]),
         helper.make_tensor_value_info("w", TensorProto.FLOAT, [3, 4]),
         helper.make_tensor_value_info("b", TensorProto.FLOAT, [3])],
        [helper.make_tensor_value_info("z", TensorProto.FLOAT, [2, 3])],
    )
    path = str(tmp_path / "m.onnx")
    onnx.save(helper.make_model(graph), path)
    t_dir, x_dir = _both(tmp_path, lambda w: w.add_onnx_graph(path))
    _assert_same_runs(t_dir, x_dir)
    with xfast.SummaryWriter(str(tmp_path / "x2")) as w:
        w.add_onnx_graph(onnx_model_file=path)
    assert _events(str(tmp_path / "x2")) == _events(x_dir)


def test_add_onnx_graph_without_onnx(tmp_path: Any, monkeypatch: Any) -> None:
    monkeypatch.setitem(__import__("sys").modules, "onnx", None)  # import onnx now fails
    with xfast.SummaryWriter(str(tmp_path)) as w:
        with pytest.raises(ImportError, match="pip install onnx"):
            w.add_onnx_graph(str(tmp_path / "m.onnx"))
        with pytest.raises(TypeError, match="model file"):
            w.add_onnx_graph()


def _read_tree(root: str) -> dict[str, bytes]:
    out = {}
    for path in glob.glob(os.path.join(root, "**", "*"), recursive=True):
        if os.path.isfile(path) and "tfevents" not in path:
            with open(path, "rb") as f:
                out[os.path.relpath(path, root)] = f.read()
    return out


def test_add_embedding(tmp_path: Any) -> None:
    from PIL import Image

    mat = torch.randn(10, 5, generator=torch.Generator().manual_seed(3))
    images = torch.rand(10, 3, 6, 8, generator=torch.Generator().manual_seed(4))
    gray = torch.rand(10, 1, 4, 4, generator=torch.Generator().manual_seed(5)) * 1.5

    def body(w: Any) -> None:
        w.add_embedding(mat, metadata=[f"p{i}" for i in range(10)], label_img=images)
        w.add_embedding(mat.numpy().astype(np.float64), metadata=[[i, i % 2] for i in range(10)],
                        metadata_header=["id", "odd"], label_img=gray, global_step=3, tag="a/b%c")
        w.add_embedding(mat[:4], global_step=4)

    t_dir, x_dir = _both(tmp_path, body)
    theirs, ours = _read_tree(t_dir), _read_tree(x_dir)
    assert sorted(ours) == sorted(theirs)
    for name, data in theirs.items():
        if name.endswith(".png"):
            expected = np.asarray(Image.open(os.path.join(t_dir, name)).convert("RGB"))
            np.testing.assert_array_equal(
                np.asarray(Image.open(os.path.join(x_dir, name))), expected
            )
        else:
            assert ours[name] == data, name
    config = text_format.Parse(ours["projector_config.pbtxt"].decode(),
                               projector_config_pb2.ProjectorConfig())
    assert [e.tensor_name for e in config.embeddings] == [
        "default:00000",
        "a/b%c:00003",
        "default:00004",
    ]
    assert list(config.embeddings[1].sprite.single_image_dim) == [4, 4]


def test_add_embedding_rejects_bad_input(tmp_path: Any) -> None:
    with xfast.SummaryWriter(str(tmp_path)) as w:
        with pytest.raises(ValueError, match="2D"):
            w.add_embedding(torch.randn(3))
        with pytest.raises(ValueError, match="#labels"):
            w.add_embedding(torch.randn(3, 2), metadata=["a"])
        with pytest.raises(ValueError, match="label_img"):
            w.add_embedding(torch.randn(3, 2), label_img=torch.rand(2, 3, 4, 4))
        with pytest.raises(ValueError, match="do not fit"):  # torch fails too (numpy broadcast)
            w.add_embedding(torch.randn(3, 2), label_img=torch.rand(3, 3, 10, 2))
        with pytest.raises(ValueError, match="metadata_header"):
            w.add_embedding(torch.randn(2, 2), metadata=[[1], [2]], metadata_header=["a", "b"])


def test_summary_functions_match_torch() -> None:
    values = RNG.randn(500)
    cloud = torch.rand(2, 5, 3)
    pairs = [
        (lambda s: s.scalar("s", 0.25)),
        (lambda s: s.scalar("s", torch.tensor([3.0]), new_style=True)),
        (lambda s: s.scalar("s", np.float64(1e300), new_style=True, double_precision=True)),
        (lambda s: s.histogram("h", values, "auto")),
        (lambda s: s.histogram("h", torch.tensor(values), 50, max_bins=8)),
        (lambda s: s.histogram_raw("h", 0, 2, 3, 3, 5, [1.0, 2.0], [1, 2])),
        (lambda s: s.text("t", "**bold** é")),
        (lambda s: s.tensor_proto("t", torch.arange(6).reshape(2, 3))),
        (lambda s: s.pr_curve("p", LABELS, PREDICTIONS, 33)),
        (lambda s: s.custom_scalars(LAYOUT)),
        (lambda s: s.mesh("m", cloud, None, None, None)),
    ]
    for build in pairs:
        assert build(xfast_summary).SerializeToString() == build(torch_summary).SerializeToString()
    assert xfast_summary.half_to_int(1.5) == torch_summary.half_to_int(1.5)
    assert xfast_summary.int_to_half(1069547520) == torch_summary.int_to_half(1069547520)
    ours = xfast_summary.make_histogram(values, bins=np.linspace(-1, 1, 9), max_bins=3)
    assert (
        ours.SerializeToString()
        == torch_summary.make_histogram(values, np.linspace(-1, 1, 9), 3).SerializeToString()
    )


def test_summary_histogram_tensorflow_bins_and_errors() -> None:
    values = np.array([1.0, 2.0, 50.0, -3e-5])
    from xfast.writer import _default_bins

    theirs = torch_summary.histogram("h", values, _default_bins())
    assert (
        xfast_summary.histogram("h", values, "tensorflow").SerializeToString()
        == theirs.SerializeToString()
    )
    with pytest.raises(ValueError, match="no element"):
        xfast_summary.make_histogram(np.array([]), 10)
    with pytest.raises(ValueError, match="empty"):
        xfast_summary.make_histogram(np.array([5.0]), bins=[0.0, 1.0, 2.0])
