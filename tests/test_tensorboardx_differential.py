# SPDX-License-Identifier: Apache-2.0
"""The same calls through tensorboardX 2.6.5 and xfast.tensorboardX: TensorBoard's loaders
read the same runs, tags, steps and values, and export_scalars_to_json writes the same JSON."""

from __future__ import annotations

import io
import json
import os
import warnings
from typing import Any, Callable

import numpy as np
import pytest
import tensorboardX
import torch
from conftest import load_run, run_dirs
from PIL import Image
from tensorboard.backend.event_processing import plugin_event_accumulator as pea
from tensorboard.util import tensor_util
from tensorboardx_cases import write_onnx_model, write_openvino_ir

import xfast.tensorboardX

Script = Callable[[Any, str], None]
WALL = 1_700_000_000.5  # given explicitly wherever the test compares wall times


def _canon_scalars(acc: Any, walls: bool) -> dict[str, list[tuple[int, float, float]]]:
    return {t: [(e.step, e.wall_time if walls else 0.0, e.value) for e in acc.Scalars(t)]
            for t in acc.Tags()["scalars"]}


def _pixels(encoded: bytes) -> np.ndarray:
    return np.asarray(Image.open(io.BytesIO(encoded)).convert("RGBA"))


def _compare_plugins(t_run: str, x_run: str, walls: bool) -> None:
    """What the dashboards read (the plugin loader): the same plugins, tags, metadata, steps
    and values; images by their pixels (the PNG encoders differ)."""
    t, x = (pea.EventAccumulator(r, size_guidance=pea.STORE_EVERYTHING_SIZE_GUIDANCE,
                                 tensor_size_guidance={}) for r in (t_run, x_run))
    t.Reload()
    x.Reload()
    assert sorted(x.ActivePlugins()) == sorted(t.ActivePlugins())
    for plugin in t.ActivePlugins():
        assert x.PluginTagToContent(plugin) == t.PluginTagToContent(plugin), plugin
    for tag in t.Tags()["tensors"]:
        assert x.SummaryMetadata(tag) == t.SummaryMetadata(tag), tag
        te, xe = t.Tensors(tag), x.Tensors(tag)
        assert [e.step for e in xe] == [e.step for e in te], tag
        if walls:
            assert [e.wall_time for e in xe] == [e.wall_time for e in te], tag
        image = t.SummaryMetadata(tag).plugin_data.plugin_name == "images"
        for a, b in zip(te, xe):
            ta, tb = (tensor_util.make_ndarray(e.tensor_proto) for e in (a, b))
            if image:
                assert list(tb[:2]) == list(ta[:2]), tag
                for pa, pb in zip(ta[2:], tb[2:]):
                    np.testing.assert_array_equal(_pixels(pb), _pixels(pa), err_msg=tag)
            else:
                np.testing.assert_array_equal(tb, ta, err_msg=tag)


def _compare_run(t_run: str, x_run: str, walls: bool) -> None:
    t, x = load_run(t_run), load_run(x_run)
    assert x.Tags() == t.Tags()
    assert _canon_scalars(x, walls) == _canon_scalars(t, walls)
    for tag in t.Tags()["histograms"]:
        th, xh = t.Histograms(tag), x.Histograms(tag)
        assert [(e.step, e.wall_time) for e in xh] == [(e.step, e.wall_time) for e in th]
        for a, b in zip(th, xh):
            a, b = a.histogram_value, b.histogram_value
            assert (b.min, b.max, b.num) == (a.min, a.max, a.num), tag
            assert list(b.bucket_limit) == list(a.bucket_limit), tag
            assert list(b.bucket) == list(a.bucket), tag
            assert b.sum == pytest.approx(a.sum, rel=1e-12, abs=1e-9), tag
    for tag in t.Tags()["images"]:
        ti, xi = t.Images(tag), x.Images(tag)
        assert [(e.step, e.wall_time, e.width, e.height) for e in xi] == \
               [(e.step, e.wall_time, e.width, e.height) for e in ti], tag
        for a, b in zip(ti, xi):
            if "box" not in tag:  # boxes are drawn by different code (see test_media)
                np.testing.assert_array_equal(_pixels(b.encoded_image_string),
                                              _pixels(a.encoded_image_string), err_msg=tag)
    for tag in t.Tags()["audio"]:
        assert [(e.step, e.encoded_audio_string) for e in x.Audio(tag)] == \
               [(e.step, e.encoded_audio_string) for e in t.Audio(tag)], tag
    assert x.Graph() == t.Graph() if t.Tags()["graph"] else not x.Tags()["graph"]
    assert sorted(x.Tags()["run_metadata"]) == sorted(t.Tags()["run_metadata"])
    for tag in t.Tags()["run_metadata"]:
        assert x.RunMetadata(tag) == t.RunMetadata(tag)
    _compare_plugins(t_run, x_run, walls)


def _projector(text: bytes) -> Any:
    from google.protobuf import text_format
    from tensorboard.plugins.projector.projector_config_pb2 import ProjectorConfig

    return text_format.Parse(text.decode(), ProjectorConfig())


def run_both(tmp_path: Any, script: Script, walls: bool = True) -> tuple[str, str]:
    """Runs `script` with tensorboardX's module and xfast's, then compares every run (wall
    times too unless `walls` is False: the script gives them explicitly)."""
    tdir, xdir = str(tmp_path / "tbx"), str(tmp_path / "xfast")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # tensorboardX's own deprecation noise; xfast's tag warning
        script(tensorboardX, tdir)
        script(xfast.tensorboardX, xdir)
    assert run_dirs(xdir) == run_dirs(tdir)
    for run in run_dirs(tdir):
        _compare_run(os.path.join(tdir, run), os.path.join(xdir, run), walls)
    return tdir, xdir


def test_scalars_and_tag_cleaning(tmp_path: Any) -> None:
    def script(lib: Any, d: str) -> None:
        with lib.SummaryWriter(d) as w:
            for i in range(5):
                w.add_scalar("train/loss", 1.0 / (i + 1), i, walltime=WALL + i)
                w.add_scalar("bad tag!(%)", i, i, walltime=WALL)
                w.add_scalar("//lead/slash", np.float32(i) * 0.5, i, walltime=WALL)
                w.add_scalar("tensor", torch.tensor([i * 0.25]), i, walltime=WALL)
            w.add_scalar("titled", 3.0, 7, WALL, display_name="Title",
                         summary_description="what it means")
            w.add_scalar("described", 4.0, 8, WALL, summary_description="only this")

    run_both(tmp_path, script)


def test_add_scalars_runs_and_json(tmp_path: Any) -> None:
    def script(lib: Any, d: str) -> None:
        with lib.SummaryWriter(d) as w:
            for i in range(3):
                w.add_scalars("data/group", {"xsinx": i * np.sin(i), "x cos": i * 0.5,
                                             "t": torch.tensor(float(i))}, i, WALL + i)
            w.add_scalars("other", {"a": 1}, walltime=WALL)
            w.export_scalars_to_json(os.path.join(d, "all.json"))
            w.add_scalars("after", {"b": 2.0}, 9, WALL)
            w.export_scalars_to_json(os.path.join(d, "second.json"))

    tdir, xdir = run_both(tmp_path, script)
    for name in ("all.json", "second.json"):
        with open(os.path.join(tdir, name)) as f:
            t = {os.path.relpath(k, tdir): v for k, v in json.load(f).items()}
        with open(os.path.join(xdir, name)) as f:
            x = {os.path.relpath(k, xdir): v for k, v in json.load(f).items()}
        assert x == t
    assert "data/group/x cos" in run_dirs(xdir)


def test_json_without_walltime_matches_but_for_walltime(tmp_path: Any) -> None:
    out = {}
    for lib in (tensorboardX, xfast.tensorboardX):
        d = str(tmp_path / lib.__name__)
        with lib.SummaryWriter(d) as w:
            w.add_scalars("m", {"a": 1.5, "b": np.int64(2)}, 4)
            w.add_scalars("m", {"a": 2.5}, None)
            w.export_scalars_to_json(os.path.join(d, "s.json"))
        with open(os.path.join(d, "s.json")) as f:
            out[lib.__name__] = {os.path.relpath(k, d): [row[1:] for row in v]
                                 for k, v in json.load(f).items()}
    assert out["xfast.tensorboardX"] == out["tensorboardX"]


def test_histograms(tmp_path: Any) -> None:
    rng = np.random.default_rng(0)
    data = rng.normal(size=1000).astype(np.float32)

    def script(lib: Any, d: str) -> None:
        with lib.SummaryWriter(d) as w:
            w.add_histogram("hist", data, 0, walltime=WALL)
            w.add_histogram("hist", torch.from_numpy(data * 3), 1, walltime=WALL)
            w.add_histogram("a b", np.arange(10.0), 2, bins="auto", walltime=WALL)
            w.add_histogram("capped", data, 3, walltime=WALL, max_bins=10)
            w.add_histogram_raw("raw", 0.0, 3.0, 6, 9.0, 21.0, [1.0, 2.0, 3.0],
                                [1, 2, 3], 4, WALL)

    run_both(tmp_path, script)


def test_media(tmp_path: Any) -> None:
    rng = np.random.default_rng(1)
    img = rng.random((3, 8, 10))
    batch = rng.random((4, 3, 6, 6))

    def script(lib: Any, d: str) -> None:
        with lib.SummaryWriter(d) as w:
            w.add_image("img one", img, 0, WALL)
            w.add_image("hwc", (img.transpose(1, 2, 0) * 255).astype(np.uint8), 1, WALL,
                        dataformats="HWC")
            w.add_images("batch", batch, 2, WALL)
            w.add_images("list chw", [img, img * 0.5, img * 0.25], 3, WALL, dataformats="CHW")
            w.add_images("list hwc", [torch.from_numpy(img.transpose(1, 2, 0))] * 2, 4, WALL,
                         dataformats="HWC")
            w.add_image_with_boxes("boxes", np.zeros((3, 32, 32)),
                                   np.array([[2, 2, 20, 20]]), 5, WALL)

    run_both(tmp_path, script)


def test_figure(tmp_path: Any) -> None:
    plt = pytest.importorskip("matplotlib.pyplot")

    def script(lib: Any, d: str) -> None:
        with lib.SummaryWriter(d) as w:
            fig = plt.figure(figsize=(2, 2), dpi=40)
            plt.plot([1, 3, 2])
            w.add_figure("fig ure", fig, 0, walltime=WALL)
            figs = []
            for _ in range(2):
                figs.append(plt.figure(figsize=(2, 2), dpi=40))
                plt.plot([1, 2])
            w.add_figure("figs", figs, 1, walltime=WALL)

    run_both(tmp_path, script)


def test_text_pr_mesh_custom_scalars_hparams(tmp_path: Any) -> None:
    labels = np.array([0, 1, 1, 0, 1, 0, 1, 1])
    preds = np.linspace(0.05, 0.95, 8)
    vertices = torch.rand(1, 4, 3)

    def script(lib: Any, d: str) -> None:
        with lib.SummaryWriter(d) as w:
            w.add_text("Text", "text logged at step: 0", 0, WALL)
            w.add_text("markdown Text", "a|b\n-|-\nc|d", 1, WALL)
            w.add_pr_curve("pr", labels, preds, 2, walltime=WALL)
            w.add_pr_curve_raw("pr raw", [75, 64, 21, 5, 0], [150, 105, 18, 0, 0],
                               [0, 45, 132, 150, 150], [0, 11, 54, 70, 75],
                               [0.33, 0.37, 0.53, 1.0, 0.0], [1.0, 0.85, 0.28, 0.06, 0.0],
                               3, walltime=WALL)
            w.add_mesh("mesh", vertices, faces=torch.tensor([[[0, 1, 2]]]),
                       global_step=4, walltime=WALL)
            w.add_custom_scalars_multilinechart(["train/loss"], "cat", "multi")
            w.add_hparams({"lr": 0.1, "bsize": 4, "bn": True, "opt": "sgd", "fn": len,
                           "odd": [1], "unset": None},
                          {"accuracy": 0.5, "loss": 2.0}, name="trial1", global_step=3)

    run_both(tmp_path, script, walls=False)  # custom scalars and hparams take no walltime


def test_graphs(tmp_path: Any) -> None:
    pytest.importorskip("onnx")
    xml = write_openvino_ir(str(tmp_path))
    onnx_path = write_onnx_model(str(tmp_path))

    def script(lib: Any, d: str) -> None:
        with lib.SummaryWriter(os.path.join(d, "torch")) as w:
            w.add_graph(torch.nn.Linear(3, 5), torch.zeros(1, 3))
        with lib.SummaryWriter(os.path.join(d, "onnx")) as w:
            w.add_onnx_graph(onnx_path)
        with lib.SummaryWriter(os.path.join(d, "openvino")) as w:
            w.add_openvino_graph(xml)

    tdir, _ = run_both(tmp_path, script, walls=False)
    assert load_run(os.path.join(tdir, "torch")).Tags()["run_metadata"] == ["profiler"]


def test_use_metadata(tmp_path: Any) -> None:
    def script(lib: Any, d: str) -> None:
        with lib.SummaryWriter(d) as w:
            with w.use_metadata(global_step=17, walltime=WALL):
                w.add_scalar("defaults", 0.1)
                w.add_scalar("with_step", 0.2, global_step=7)
                w.add_scalar("with_walltime", 0.3, walltime=WALL + 5)
                w.add_histogram("h", np.arange(5.0))
                w.add_text("t", "text")
            w.add_scalar("outside", 0.4, walltime=WALL)

    run_both(tmp_path, script)


def test_filename_suffix(tmp_path: Any) -> None:
    def script(lib: Any, d: str) -> None:
        with lib.SummaryWriter(d, filename_suffix=".sfx") as w:
            w.add_scalar("a", 1.0, 10, WALL)

    _, xdir = run_both(tmp_path, script)
    assert all(f.endswith(".sfx") for f in os.listdir(xdir))


def test_embedding_files(tmp_path: Any) -> None:
    feats = torch.tensor([[1.0, 2, 3], [5, 4, 1], [3, 7, 7]])
    imgs = torch.zeros(3, 3, 5, 5)

    def script(lib: Any, d: str) -> None:
        with lib.SummaryWriter(d) as w:
            w.add_embedding(feats, metadata=["a", "b", "c"], label_img=imgs, global_step=2)
            w.add_embedding(feats, metadata=[(1, "x"), (2, "y"), (3, "z")],
                            metadata_header=["n", "s"], global_step=3, tag="two cols")
        with lib.SummaryWriter(d) as w:  # a later writer adds to the logdir's config
            w.add_embedding(feats, global_step=4, tag="later")

    tdir, xdir = run_both(tmp_path, script)
    for root, _, files in os.walk(tdir):
        for name in files:
            if "tfevents" in name:
                continue
            t_path = os.path.join(root, name)
            x_path = os.path.join(xdir, os.path.relpath(t_path, tdir))
            with open(t_path, "rb") as f, open(x_path, "rb") as g:
                if name.endswith(".pbtxt"):  # tensorboardX appends, without indentation
                    assert _projector(g.read()) == _projector(f.read())
                elif name.endswith(".png"):
                    np.testing.assert_array_equal(_pixels(g.read()), _pixels(f.read()))
                else:
                    assert g.read() == f.read(), name


def test_custom_scalars(tmp_path: Any) -> None:
    def script(lib: Any, d: str) -> None:
        with lib.SummaryWriter(d) as w:
            w.add_custom_scalars({"cat": {"loss": ["Multiline", ["loss/train", "loss/val"]]}})
        with lib.SummaryWriter(os.path.join(d, "margin")) as w:
            w.add_custom_scalars_marginchart(["v", "lo", "hi"], "c", "m")

    run_both(tmp_path, script, walls=False)  # layouts take no walltime


def test_write_to_disk_false(tmp_path: Any) -> None:
    out = {}
    for lib in (tensorboardX, xfast.tensorboardX):
        d = str(tmp_path / lib.__name__)
        w = lib.SummaryWriter(d, write_to_disk=False)
        w.add_scalar("a", 1.0, 0)
        w.add_scalars("m", {"x": 1.0, "y": 2}, 3, walltime=WALL)
        with w.use_metadata(global_step=5):
            w.add_text("t", "x")
        w.export_scalars_to_json(str(tmp_path / f"{lib.__name__}.json"))
        w.close()
        assert not os.path.exists(d)
        with open(tmp_path / f"{lib.__name__}.json") as f:
            out[lib.__name__] = {os.path.relpath(k, d): v for k, v in json.load(f).items()}
    assert out["xfast.tensorboardX"] == out["tensorboardX"]


def test_global_summary_writer_steps(tmp_path: Any) -> None:
    def script(lib: Any, d: str) -> None:
        w = lib.GlobalSummaryWriter(d)
        for i in range(3):
            w.add_scalar("a", i * 0.5, walltime=WALL)
            w.add_text("a", f"t{i}", walltime=WALL)
        w.add_scalar("b", 7.0, walltime=WALL)
        w.add_image("img", np.full((3, 2, 2), 0.25), walltime=WALL)
        w.close()

    run_both(tmp_path, script)
