# SPDX-License-Identifier: Apache-2.0
"""xfast.keras.TensorBoard with the real Keras 3 on the torch backend and no TensorFlow: Keras's
own callback tests restated (keras/src/callbacks/tensorboard_test.py: exact sets of (run, tag)),
plus the steps and values they never check, each read back with TensorBoard's loader."""

from __future__ import annotations

import io
import os

os.environ["KERAS_BACKEND"] = "torch"  # before keras is first imported

import importlib.util
import runpy
import subprocess
import sys
from collections import defaultdict
from typing import Any

import keras
import numpy as np
import pytest
import torch.utils.tensorboard
from conftest import event_files, run_dirs
from google.protobuf import text_format
from PIL import Image
from tensorboard.backend.event_processing.event_file_loader import EventFileLoader
from tensorboard.plugins.projector import projector_config_pb2, projector_plugin
from tensorboard.util import tensor_util

from xfast.keras import TensorBoard, callback

# keras's serialization calls np.array(tensor, copy=False) on torch tensors (numpy 2): not ours.
pytestmark = pytest.mark.filterwarnings(
    "ignore:__array__ implementation doesn't accept a copy keyword:DeprecationWarning")

BASIC = {
    ("train", "epoch_loss"),
    ("validation", "epoch_loss"),
    ("train", "epoch_learning_rate"),
    ("validation", "evaluation_loss_vs_iterations"),
}
X = np.ones((10, 10, 10, 1), dtype=np.float32)
Y = np.ones((10, 1), dtype=np.float32)
BATCH = 5  # 2 batches per epoch


def read(logdir: str) -> dict[str, dict[tuple[str, str], list[tuple[int, Any]]]]:
    """Every summary under logdir as TensorBoard loads it: kind (the plugin) -> (run, tag) ->
    [(step, value as an ndarray)], in file order."""
    out: dict[str, dict[tuple[str, str], list[tuple[int, Any]]]] = defaultdict(
        lambda: defaultdict(list))
    for run in run_dirs(logdir):
        for path in event_files(os.path.join(logdir, run)):
            for event in EventFileLoader(path).Load():
                for v in event.summary.value:
                    kind = v.metadata.plugin_data.plugin_name
                    out[kind][(run, v.tag)].append((event.step, tensor_util.make_ndarray(v.tensor)))
    return out


def steps(points: list[tuple[int, Any]]) -> list[int]:
    return [s for s, _ in points]


def values(points: list[tuple[int, Any]]) -> list[Any]:
    return [v for _, v in points]


class Recorder(keras.callbacks.Callback):  # type: ignore[misc]
    """Keras's own logs, to compare the written values with."""

    def __init__(self) -> None:
        super().__init__()
        self.batches: list[dict[str, float]] = []
        self.tests: list[dict[str, float]] = []

    def on_train_batch_end(self, batch: int, logs: Any = None) -> None:
        self.batches.append(dict(logs))

    def on_test_end(self, logs: Any = None) -> None:
        self.tests.append(dict(logs))


def dense_model(optimizer: Any = "sgd") -> Any:
    keras.utils.set_random_seed(0)
    model = keras.Sequential(
        [keras.Input((10, 10, 1)), keras.layers.Flatten(), keras.layers.Dense(1)])
    model.compile(optimizer, "mse")
    return model


def fit(model: Any, tb: TensorBoard, validation: bool = True, epochs: int = 2) -> Any:
    recorder = Recorder()
    history = model.fit(X, Y, batch_size=BATCH, epochs=epochs, verbose=0,
                        validation_data=(X, Y) if validation else None, callbacks=[tb, recorder])
    return history.history, recorder


def f32(xs: list[float]) -> list[Any]:
    return [np.float32(x) for x in xs]


def test_no_tensorflow() -> None:
    assert importlib.util.find_spec("tensorflow") is None


def test_basic(tmp_path: Any) -> None:
    logdir = str(tmp_path)
    model = dense_model()
    tb = TensorBoard(logdir)
    history, recorder = fit(model, tb)
    got = read(logdir)
    assert set(got["scalars"]) == BASIC
    assert run_dirs(logdir) == ["train", "validation"]
    scalars = got["scalars"]
    assert all(v.dtype == np.float32 and v.shape == () for p in scalars.values() for v in values(p))
    assert scalars[("train", "epoch_loss")] == list(enumerate(f32(history["loss"])))
    assert scalars[("validation", "epoch_loss")] == list(enumerate(f32(history["val_loss"])))
    assert scalars[("train", "epoch_learning_rate")] == list(enumerate(f32([0.01, 0.01])))
    # At optimizer.iterations after each epoch's validation: 2 and 4 batches.
    assert scalars[("validation", "evaluation_loss_vs_iterations")] == list(
        zip([2, 4], f32([t["loss"] for t in recorder.tests])))
    (graph,) = got["graph_keras_model"][("train", "keras")]
    assert graph[0] == 0 and graph[1].item().decode() == model.to_json()
    assert tb._global_train_batch == 0  # update_freq="epoch": the batch hooks did nothing
    assert "tensorflow" not in sys.modules


def test_across_invocations_and_evaluate(tmp_path: Any) -> None:
    logdir = str(tmp_path)
    model = dense_model()
    tb = TensorBoard(logdir)
    fit(model, tb)
    fit(model, tb)
    scalars = read(logdir)["scalars"]
    assert set(scalars) == BASIC
    assert steps(scalars[("train", "epoch_loss")]) == [0, 1, 0, 1]
    assert steps(scalars[("validation", "evaluation_loss_vs_iterations")]) == [2, 4, 6, 8]
    assert len(event_files(os.path.join(logdir, "train"))) == 2  # each fit opens new files
    # A standalone evaluate() with the same callback: read back at once, without close().
    loss = model.evaluate(X, Y, batch_size=BATCH, verbose=0, callbacks=[tb])
    points = read(logdir)["scalars"][("validation", "evaluation_loss_vs_iterations")]
    assert points[-1] == (8, np.float32(loss))
    tb.close()
    tb.close()


def test_no_spurious_event_files(tmp_path: Any) -> None:
    logdir = str(tmp_path)
    fit(dense_model(), TensorBoard(logdir), validation=False)
    assert run_dirs(logdir) == ["train"]
    assert not os.path.exists(os.path.join(logdir, "validation"))


@pytest.mark.parametrize("update_freq", [1, "batch"])
def test_batch_metrics(tmp_path: Any, update_freq: Any) -> None:
    logdir = str(tmp_path)
    _, recorder = fit(dense_model(), TensorBoard(logdir, update_freq=update_freq))
    scalars = read(logdir)["scalars"]
    assert set(scalars) == BASIC | {("train", "batch_loss")}
    assert scalars[("train", "batch_loss")] == list(
        zip([1, 2, 3, 4], f32([b["loss"] for b in recorder.batches])))


def test_update_freq_gates_only_batch_writes(tmp_path: Any) -> None:
    logdir = str(tmp_path)
    _, recorder = fit(dense_model(), TensorBoard(logdir, update_freq=3))
    scalars = read(logdir)["scalars"]
    assert scalars[("train", "batch_loss")] == [(3, np.float32(recorder.batches[2]["loss"]))]
    # Keras would write these only when the last batch number divides by 3 (never here).
    assert steps(scalars[("train", "epoch_loss")]) == [0, 1]
    assert steps(scalars[("validation", "evaluation_loss_vs_iterations")]) == [2, 4]


def test_learning_rate_schedule(tmp_path: Any) -> None:
    logdir = str(tmp_path)
    schedule = keras.optimizers.schedules.CosineDecay(0.01, 1)
    fit(dense_model(keras.optimizers.SGD(schedule)), TensorBoard(logdir), validation=False)
    scalars = read(logdir)["scalars"]
    assert set(scalars) == {("train", "epoch_loss"), ("train", "epoch_learning_rate")}
    expected = [float(keras.ops.convert_to_numpy(schedule(it))) for it in (2, 4)]
    assert scalars[("train", "epoch_learning_rate")] == list(enumerate(f32(expected)))


def test_multi_optimizer_learning_rates(tmp_path: Any) -> None:
    logdir = str(tmp_path)
    first, second = keras.optimizers.SGD(0.1), keras.optimizers.SGD(0.01)
    optimizer = keras.optimizers.MultiOptimizer(keras.optimizers.OptimizerMap(
        default_optimizer=second, optimizer_map={".*dense_a/.*": first}))
    model = keras.Sequential([keras.Input((10, 10, 1)), keras.layers.Flatten(),
                              keras.layers.Dense(2, name="dense_a"), keras.layers.Dense(1)])
    model.compile(optimizer, "mse")
    fit(model, TensorBoard(logdir), validation=False)
    scalars = read(logdir)["scalars"]
    names = [opt.name for opt in optimizer.optimizers]
    assert len(set(names)) == 2
    assert set(scalars) == {("train", "epoch_loss")} | {
        ("train", f"epoch_learning_rate_{name}") for name in names}
    for opt in optimizer.optimizers:
        points = scalars[("train", f"epoch_learning_rate_{opt.name}")]
        assert points == list(enumerate(f32([float(opt.learning_rate)] * 2)))


def test_batch_ends_out_of_order_or_per_execution(tmp_path: Any) -> None:
    """The hooks as Keras's thread pool may run them (a batch's end after the next batch began)
    and as a backend with steps_per_execution calls them (begin: first batch, end: last)."""
    logdir = str(tmp_path)
    tb = TensorBoard(logdir, update_freq=1)
    tb.set_model(dense_model())
    tb.on_train_begin()
    tb.on_train_batch_begin(0)
    tb.on_train_batch_begin(1)
    tb.on_train_batch_end(1, {"loss": 2.0})
    tb.on_train_batch_end(0, {"loss": 1.0})
    tb.on_train_batch_begin(2)
    tb.on_train_batch_end(4, {"loss": 3.0})  # one execution of batches 2-4
    tb.on_train_end()
    points = read(logdir)["scalars"][("train", "batch_loss")]
    assert sorted(points) == [(1, 1.0), (2, 2.0), (3, 3.0)]


def test_global_step(tmp_path: Any) -> None:
    logdir = str(tmp_path)
    tb = TensorBoard(logdir, update_freq=1, write_steps_per_second=True)
    fit(dense_model(), tb, validation=False)
    scalars = read(logdir)["scalars"]
    assert set(scalars) == {("train", t) for t in (
        "batch_loss", "epoch_loss", "epoch_learning_rate", "epoch_steps_per_second",
        "batch_steps_per_second")}
    assert steps(scalars[("train", "batch_steps_per_second")]) == [1, 2, 3, 4]
    assert steps(scalars[("train", "epoch_steps_per_second")]) == [0, 1]
    assert all(v > 0 for p in scalars.values() for v in values(p)
               if v is not None and p is not scalars[("train", "batch_loss")])


def test_steps_per_second_when_the_clock_stands_still(tmp_path: Any,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    """A batch or epoch shorter than the clock's resolution gets no rate (Keras divides by 0)."""
    logdir = str(tmp_path)
    tb = TensorBoard(logdir, update_freq=1, write_steps_per_second=True, write_graph=False)
    tb.set_model(dense_model())
    monkeypatch.setattr(callback.time, "perf_counter", lambda: 5.0)
    tb.on_train_begin()
    tb.on_epoch_begin(0)
    tb.on_train_batch_begin(0)
    tb.on_train_batch_end(0, {"loss": 1.0})
    tb.on_epoch_end(0, {"loss": 1.0})
    tb.on_train_end()
    assert set(read(logdir)["scalars"]) == {
        ("train", "batch_loss"), ("train", "epoch_loss"), ("train", "epoch_learning_rate")}


def test_weight_histograms(tmp_path: Any) -> None:
    logdir = str(tmp_path / "keras")
    model = dense_model()
    fit(model, TensorBoard(logdir, histogram_freq=1))
    got = read(logdir)
    assert set(got["scalars"]) == BASIC
    tags = {w.path.replace(":", "_") + "/histogram" for w in model.weights}
    assert any(t.endswith("/kernel/histogram") and "/dense" in t for t in tags)
    assert set(got["histograms"]) == {("train", t) for t in tags}
    # The final weights, written by torch's SummaryWriter: the same buckets.
    with torch.utils.tensorboard.SummaryWriter(str(tmp_path / "torch")) as w:
        for weight in model.weights:
            w.add_histogram(weight.path + "/histogram", keras.ops.convert_to_numpy(weight), 1)
    oracle = read(str(tmp_path / "torch"))["histograms"]
    for tag in tags:
        assert steps(got["histograms"][("train", tag)]) == [0, 1]
        _, mine = got["histograms"][("train", tag)][-1]
        np.testing.assert_array_equal(mine, oracle[(".", tag)][0][1])


def test_weight_images(tmp_path: Any) -> None:
    logdir = str(tmp_path)
    keras.utils.set_random_seed(0)
    model = keras.Sequential([
        keras.Input((10, 10, 1)), keras.layers.Conv2D(3, 10),
        keras.layers.GlobalAveragePooling2D(), keras.layers.Dense(1)])
    model.compile("sgd", "mse")
    fit(model, TensorBoard(logdir, histogram_freq=1, write_images=True))
    got = read(logdir)
    assert set(got["scalars"]) == BASIC
    assert {tag.rsplit("/", 1)[1] for _, tag in got["histograms"]} == {"histogram"}
    conv, dense = model.layers[0], model.layers[2]
    # The dense bias squeezes to a scalar: not an image, as in Keras.
    expected = {conv.kernel.path, conv.bias.path, dense.kernel.path}
    assert set(got["images"]) == {("train", p + "/image") for p in expected}
    step, blobs = got["images"][("train", conv.kernel.path + "/image")][-1]
    assert step == 1 and blobs[:2].tolist() == [b"10", b"10"] and len(blobs) == 2 + 3
    kernel = np.transpose(np.squeeze(keras.ops.convert_to_numpy(conv.kernel)), (2, 0, 1))
    for png, k in zip(blobs[2:], kernel):
        pixels = np.asarray(Image.open(io.BytesIO(png)))
        np.testing.assert_array_equal(pixels, np.clip(k * 255.5, 0, 255).astype(np.uint8))
    _, blobs = got["images"][("train", conv.bias.path + "/image")][-1]
    assert blobs[:2].tolist() == [b"1", b"3"]  # a column: width 1, height 3


def embedding_model() -> Any:
    keras.utils.set_random_seed(0)
    model = keras.Sequential([
        keras.Input((10,), dtype="int32"), keras.layers.Embedding(10, 10, name="test_embedding"),
        keras.layers.Dense(1)])
    model.compile("sgd", "mse")
    return model


def test_projector(tmp_path: Any) -> None:
    logdir = str(tmp_path)
    model = embedding_model()
    metadata = {"test_embedding": "metadata.tsv"}
    model.fit(np.ones((10, 10), "int32"), np.ones((10, 10, 1)), batch_size=BATCH, epochs=1,
              verbose=0, callbacks=[TensorBoard(logdir, embeddings_freq=1,
                                                embeddings_metadata=metadata)])
    assert metadata == {"test_embedding": "metadata.tsv"}
    with open(os.path.join(logdir, "projector_config.pbtxt")) as f:
        config = text_format.Parse(f.read(), projector_config_pb2.ProjectorConfig())
    (entry,) = config.embeddings
    assert (entry.tensor_name, entry.tensor_path, entry.metadata_path) == (
        "test_embedding:00000", "00000/test_embedding/tensors.tsv", "metadata.tsv")
    # The Projector plugin's own reader of tensor_path files.
    table = projector_plugin._read_tensor_tsv_file(os.path.join(logdir, entry.tensor_path))
    np.testing.assert_array_equal(table, keras.ops.convert_to_numpy(model.layers[0].embeddings))


def test_projector_unknown_metadata_layer(tmp_path: Any) -> None:
    tb = TensorBoard(str(tmp_path), embeddings_freq=1, embeddings_metadata={"nope": "m.tsv"})
    with pytest.raises(ValueError, match="nope"):
        embedding_model().fit(np.ones((10, 10), "int32"), np.ones((10, 10, 1)), verbose=0,
                              callbacks=[tb])


@pytest.mark.parametrize("profile_batch", [1, "1,2", (1, 2), -1])
def test_profile_batch_raises_as_keras(tmp_path: Any, profile_batch: Any) -> None:
    with pytest.raises(ValueError, match="profile_batch"):
        keras.callbacks.TensorBoard(str(tmp_path), profile_batch=profile_batch)
    with pytest.raises(ValueError, match="profile_batch"):
        TensorBoard(str(tmp_path), profile_batch=profile_batch)


@pytest.mark.parametrize("update_freq", [0, -2, "epochs", 1.5])
def test_bad_update_freq(tmp_path: Any, update_freq: Any) -> None:
    with pytest.raises(ValueError, match="update_freq"):
        TensorBoard(str(tmp_path), update_freq=update_freq)


def test_keeps_async_batch_dispatch(tmp_path: Any) -> None:
    model = dense_model()
    ours = keras.callbacks.CallbackList([TensorBoard(str(tmp_path))], model=model)
    theirs = keras.callbacks.CallbackList(
        [keras.callbacks.TensorBoard(str(tmp_path), write_graph=False)], model=model)
    assert ours._async_train and not theirs._async_train


def test_import_xfast_leaves_keras_out() -> None:
    code = "import sys, xfast; assert not {'keras', 'xfast.keras'} & set(sys.modules)"
    subprocess.run([sys.executable, "-c", code], check=True)


def test_cifar10_example(tmp_path: Any, capsys: pytest.CaptureFixture[str]) -> None:
    """examples/keras_cifar10.py, one epoch of 64 random images (CIFAR-10 is not in the cache)."""
    logdir = str(tmp_path / "logs")
    os.environ["KERAS_HOME"] = str(tmp_path / "keras_home")
    try:
        example = os.path.join(os.path.dirname(__file__), os.pardir, os.pardir, "examples",
                               "keras_cifar10.py")
        runpy.run_path(example, run_name="example")["main"](
            ["--log-dir", logdir, "--epochs", "1", "--max-samples", "64"])
    finally:
        del os.environ["KERAS_HOME"]
    assert "note: CIFAR-10 not in" in capsys.readouterr().out
    got = read(logdir)
    assert set(got["scalars"]) == {("train", "epoch_learning_rate")} | {
        (run, f"{prefix}{metric}{suffix}")
        for metric in ("loss", "accuracy")
        for run, prefix, suffix in (("train", "epoch_", ""), ("validation", "epoch_", ""),
                                    ("validation", "evaluation_", "_vs_iterations"))}
    kernels = {tag for _, tag in got["histograms"] if tag.endswith("/kernel/histogram")}
    assert len(kernels) == 5  # three Conv2D, two Dense
    assert set(got["graph_keras_model"]) == {("train", "keras")}
